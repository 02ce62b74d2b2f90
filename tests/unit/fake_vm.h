/* SPDX-License-Identifier: MIT */
/*
 * A struct vm without KVM for unit tests: guest memory is a host buffer,
 * every fd is -1 (so any KVM ioctl fails with EBADF), no thread is running.
 */
#ifndef VTIMER_TEST_FAKE_VM_H
#define VTIMER_TEST_FAKE_VM_H

#include <stdlib.h>
#include <string.h>

#include "machine/machine.h"
#include "timer/timer.h"
#include "util.h"
#include "vtimer/abi.h"

struct fake_vm {
	struct vm vm;
	struct vcpu vcpus[VTIMER_MAX_VCPUS];
	struct kvm_run runs[VTIMER_MAX_VCPUS];
};

static inline struct vm *fake_vm_new(int nr_vcpus, uint64_t mem_size)
{
	struct fake_vm *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->vm.fd = f->vm.kvm_fd = -1;
	f->vm.mem = calloc(1, mem_size);
	f->vm.mem_size = mem_size;
	f->vm.nr_vcpus = nr_vcpus;
	f->vm.vcpus = f->vcpus;
	f->vm.console = stdout;
	f->vm.tsc_khz = 1000000;
	f->vm.cpuid = calloc(1, sizeof(*f->vm.cpuid));
	pthread_mutex_init(&f->vm.lock, NULL);
	pthread_mutex_init(&f->vm.stop_lock, NULL);
	for (int i = 0; i < nr_vcpus; i++) {
		f->vcpus[i] = (struct vcpu){ .vm = &f->vm, .id = i, .fd = -1, .run = &f->runs[i] };
		f->vcpus[i].stats.fd = -1;
	}
	return &f->vm;
}

/*
 * One vCPU's timer engine on a fake VM: delivery d, TSC offset, guest and
 * host both at khz, conversions anchored now. No housekeeping thread.
 */
static inline void fake_engine_init(struct timer_engine *e, struct vcpu_timer *vt,
				    struct vm *vm, enum timer_deliver d, int64_t offset,
				    uint64_t khz)
{
	*e = (struct timer_engine){ .vm = vm, .host_khz = khz, .hk_cpu = -1, .vt = vt,
				    .mode = { .deliver = d, .discover = DISCOVER_EXIT } };
	*vt = (struct vcpu_timer){ .eng = e, .vcpu = &vm->vcpus[0], .heap_idx = -1,
				   .tsc = { .offset = offset, .guest_khz = khz, .host_khz = khz,
					    .tsc0 = rdtsc(), .mono0 = now_ns() } };
	pthread_mutex_init(&vt->lock, NULL);
	vm->timer = e;
}

/*
 * vt's PV page as a guest enabled it, its mirrored LVTT in TSC-deadline mode
 * but masked: every injection shows as `dropped` and makes no ioctl.
 */
#define FAKE_LVTT_MASKED_DEADLINE	(0x40u | (1u << 16) | (2u << 17))

static inline void fake_pv_page(struct vcpu_timer *vt, struct vtimer_pv_page *page)
{
	memset(page, 0, sizeof(*page));
	page->version = VTIMER_PV_VERSION;
	page->lvtt = FAKE_LVTT_MASKED_DEADLINE;
	vt->page = page;
}

static inline void fake_vm_free(struct vm *vm)
{
	free(vm->mem);
	free(vm->cpuid);
	free(vm);	/* vm is the first member of struct fake_vm */
}

#endif
