// SPDX-License-Identifier: MIT
/*
 * Setting up the host timer engine on a VM: which MSR accesses reach the VMM
 * (an MSR filter on the TSC-deadline MSR and on writes of IA32_TSC and
 * IA32_TSC_ADJUST, plus MSRs KVM does not know, which is where MSR_VTIMER_PV
 * lives), which PV features CPUID offers, each vCPU's TSC conversion and
 * where its offset comes from, and the housekeeping thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "timer.h"
#include "../kvm/kvm.h"
#include "../machine/machine.h"
#include "../util.h"

#define MSR_IA32_TSC		0x10
#define MSR_IA32_TSC_ADJUST	0x3b

static uint32_t features_for(enum timer_program p)
{
	switch (p) {
	case PROGRAM_LAZY: return VTIMER_F_LAZY;
	case PROGRAM_PV: return VTIMER_F_HORIZON;
	case PROGRAM_HYBRID: return VTIMER_F_LAZY | VTIMER_F_HORIZON;
	case PROGRAM_DIRECT: return VTIMER_F_DIRECT;
	default: return 0;
	}
}

static int msr_exits_setup(struct vm *vm)
{
	static uint8_t deny;	/* one MSR per range, bit clear = deny = exit to user space */
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args = { KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN },
	};
	struct kvm_msr_filter f = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges = {
			{ .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			  .nmsrs = 1, .base = 0x6e0, .bitmap = &deny },
			/* writes move the guest TSC: the conversions must follow */
			{ .flags = KVM_MSR_FILTER_WRITE, .nmsrs = 1, .base = MSR_IA32_TSC,
			  .bitmap = &deny },
			{ .flags = KVM_MSR_FILTER_WRITE, .nmsrs = 1, .base = MSR_IA32_TSC_ADJUST,
			  .bitmap = &deny },
		},
	};

	if (kvm_check_cap(vm->fd, KVM_CAP_X86_USER_SPACE_MSR) <= 0 ||
	    kvm_check_cap(vm->fd, KVM_CAP_X86_MSR_FILTER) <= 0) {
		vt_err("this KVM cannot send MSR writes to user space (KVM_CAP_X86_USER_SPACE_MSR, KVM_CAP_X86_MSR_FILTER): only --timer=kvm runs here");
		return -1;
	}
	if (kvm_ioctl(vm->fd, KVM_ENABLE_CAP, &cap) < 0 ||
	    kvm_ioctl(vm->fd, KVM_X86_SET_MSR_FILTER, &f) < 0)
		return -1;
	return 0;
}

/*
 * KVM_VCPU_TSC_OFFSET of vcpu (guest TSC = host TSC + offset); -errno if
 * unreadable (ENXIO: this KVM has no such attribute). Read after every
 * return to user space (vtimer.c, vt_offset_refresh), so one ioctl, not a
 * KVM_HAS_DEVICE_ATTR first: each vCPU ioctl loads the vCPU (~5-7 us on
 * the PVM host).
 */
static int kvm_tsc_offset(struct vcpu *v, int64_t *off)
{
	struct kvm_device_attr a = {
		.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uintptr_t)off,
	};

	return __kvm_ioctl(v->fd, KVM_GET_DEVICE_ATTR, &a);
}

static int kvm_tsc_offset_set(struct vcpu *v, int64_t off)
{
	struct kvm_device_attr a = {
		.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uintptr_t)&off,
	};

	return __kvm_ioctl(v->fd, KVM_SET_DEVICE_ATTR, &a);
}

/*
 * A guest WRMSR of IA32_TSC or IA32_TSC_ADJUST with the meaning KVM gives it
 * (kvm_set_msr_common, not host-initiated; SDM "Time-Stamp Counter
 * Adjustment"): writing IA32_TSC = v sets the offset so the TSC reads v now
 * and adds the change to IA32_TSC_ADJUST; writing IA32_TSC_ADJUST = a moves
 * the offset by a - IA32_TSC_ADJUST and stores a. Forwarding the write with
 * KVM_SET_MSRS would not do this: a host write of IA32_TSC is matched to the
 * other vCPUs' TSC when within a second of it and leaves IA32_TSC_ADJUST
 * alone, and a host write of IA32_TSC_ADJUST only sets the register (KVM's
 * tsc_msrs_test). So the offset is set through KVM_VCPU_TSC_OFFSET and the
 * register through KVM_SET_MSRS, which KVM ignores where the guest's CPUID
 * lacks TSC_ADJUST: read back, that makes the guest's write a no-op, as in
 * KVM. The ratio is 1 (no TSC scaling is configured).
 */
static int kvm_tsc_guest_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	int64_t off, adj;
	uint64_t tsc_adjust = 0, a;
	int r;

	r = kvm_tsc_offset(v, &off);
	if (r < 0)
		return r;
	r = kvm_vcpu_msr(v->fd, KVM_GET_MSRS, MSR_IA32_TSC_ADJUST, &tsc_adjust);
	if (r < 0)
		return r;
	if (msr == MSR_IA32_TSC) {
		adj = (int64_t)(val - rdtsc()) - off;
		a = tsc_adjust + (uint64_t)adj;
		r = kvm_vcpu_msr(v->fd, KVM_SET_MSRS, MSR_IA32_TSC_ADJUST, &a);
	} else {
		a = val;
		r = kvm_vcpu_msr(v->fd, KVM_SET_MSRS, MSR_IA32_TSC_ADJUST, &a);
		if (r >= 0)
			r = kvm_vcpu_msr(v->fd, KVM_GET_MSRS, MSR_IA32_TSC_ADJUST, &a);
		adj = (int64_t)(a - tsc_adjust);
	}
	if (r < 0)
		return r;
	return adj ? kvm_tsc_offset_set(v, (int64_t)((uint64_t)off + (uint64_t)adj)) : 0;
}

/*
 * KVM moves a vCPU's TSC offset by itself only while the host TSC is marked
 * unstable (x86.c, kvm_arch_vcpu_load: kvm_check_tsc_unstable()), or after a
 * host suspend whose TSC went backwards. Marking the TSC unstable takes the
 * tsc clocksource out of use, so while the host's current clocksource is
 * "tsc" only the guest's TSC writes, which the VMM makes itself, move an
 * offset, and the read after every exit (a vCPU ioctl: ~10 us of the
 * ~20 us an MSR exit to user space took on the PVM host of 2026-12-07)
 * is skipped. The file is read again every TSC_FIXED_RECHECK_NS; a TSC
 * marked unstable meanwhile is seen that much late at most.
 */
#define CLOCKSOURCE_FILE	"/sys/devices/system/clocksource/clocksource0/current_clocksource"
#define TSC_FIXED_RECHECK_NS	10000000

bool clocksource_is_tsc(const char *name)
{
	return !strcmp(name, "tsc") || !strcmp(name, "tsc\n");
}

static bool kvm_tsc_offset_fixed(void)
{
	static _Atomic uint64_t until;
	static _Atomic bool fixed;
	uint64_t now = now_ns(), u = atomic_load_explicit(&until, memory_order_acquire);
	char buf[32] = "";
	ssize_t n;
	int fd;

	/* one thread reads the file; the others go by the last reading */
	if (now < u || !atomic_compare_exchange_strong(&until, &u, now + TSC_FIXED_RECHECK_NS))
		return atomic_load_explicit(&fixed, memory_order_relaxed);
	fd = open(CLOCKSOURCE_FILE, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	atomic_store_explicit(&fixed, clocksource_is_tsc(buf), memory_order_relaxed);
	return clocksource_is_tsc(buf);
}

static const struct tsc_source kvm_tsc_source = {
	.offset = kvm_tsc_offset,
	.guest_write = kvm_tsc_guest_write,
	.offset_fixed = kvm_tsc_offset_fixed,
};

/*
 * Engine modes convert guest deadlines with each vCPU's TSC offset. Where KVM
 * cannot report it (KVM_VCPU_TSC_OFFSET, Linux 5.16), assuming 0 would put
 * every deadline off by the guest's uptime at creation: refuse instead.
 */
static int tsc_offsets_check(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++) {
		int64_t off;
		int r = kvm_tsc_offset(&vm->vcpus[i], &off);

		if (r < 0) {
			vt_err("cannot read vCPU %d's TSC offset (KVM_VCPU_TSC_OFFSET: %s): only --timer=kvm runs here",
			       i, strerror(-r));
			return -1;
		}
	}
	return 0;
}

int timer_cpuid_setup(struct vm *vm, uint32_t features)
{
	if (!features)
		return 0;
	if (vm_cpuid_set(vm, VTIMER_CPUID_SIGNATURE, VTIMER_CPUID_FEATURES, VTIMER_SIG_EBX,
			 VTIMER_SIG_ECX, VTIMER_SIG_EDX) < 0 ||
	    vm_cpuid_set(vm, VTIMER_CPUID_FEATURES, features, MSR_VTIMER_PV,
			 VTIMER_PV_VERSION, 0) < 0) {
		vt_err("cannot add the vtimer PV CPUID leaves");
		return -1;
	}
	return 0;
}

int timer_engine_init(struct timer_engine *e, struct vm *vm, const struct timer_mode *m,
		      int hk_cpu, const struct timer_tuning *t)
{
	memset(e, 0, sizeof(*e));
	e->mode = *m;
	e->vm = vm;
	e->hk_cpu = hk_cpu;
	e->features = features_for(m->program);
	/* The idle look goes with the scanning host's horizon (pv-abi.md 4.1). */
	if ((e->features & VTIMER_F_HORIZON) && !t->idle_off)
		e->features |= VTIMER_F_IDLE;
	/*
	 * Look-ahead wakes the housekeeping thread every look_ns after each
	 * injection. Sharing a CPU with the vCPUs, those wake-ups delayed the very
	 * vCPU wake-up they follow by ~1 ms (the scheduler kept the woken vCPU
	 * behind the housekeeping thread; measured p99 1.25 ms vs 0.35 ms), so it
	 * runs only when the housekeeping thread has a CPU of its own.
	 */
	e->look_ns = hk_cpu >= 0 ? m->look_ns : 0;
	e->look_auto = e->look_ns && !t->look_fixed;
	if (!timer_deliver_ops[m->deliver].vm_ops)
		return 0;	/* stock KVM: nothing to take over */
	if (tsc_offsets_check(vm) < 0 || msr_exits_setup(vm) < 0)
		return -1;
	if (timer_cpuid_setup(vm, e->features) < 0)
		return -1;
	e->host_khz = tsc_calibrate_khz(20);
	e->floor_cycles = t->floor_ns * e->host_khz / 1000000;
	e->share_ppm = t->share_ppm;
	e->share_burst = TIMER_SHARE_BURST_NS * e->host_khz / 1000000;
	e->advance_ns = t->advance_ns;
	e->tsc_src = &kvm_tsc_source;
	e->vt = calloc(vm->nr_vcpus, sizeof(*e->vt));
	if (!e->vt)
		return -1;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu_timer *vt = &e->vt[i];

		pthread_mutex_init(&vt->lock, NULL);
		vt->eng = e;
		vt->vcpu = &vm->vcpus[i];
		vt->heap_idx = -1;
		vt->blocking_idx = kvm_stats_find(&vt->vcpu->stats, "blocking");
		/* No TSC scaling is configured, so the ratio is 1 (guest_khz == host_khz). */
		vt->tsc = (struct tsc_conv){
			.guest_khz = e->host_khz, .host_khz = e->host_khz,
			.tsc0 = rdtsc(), .mono0 = now_ns(),
		};
		if (e->tsc_src->offset(vt->vcpu, &vt->tsc.offset) < 0) {
			vt_err("cannot read vCPU %d's TSC offset (KVM_GET_DEVICE_ATTR)", i);
			return -1;
		}
	}
	e->prewake = m->deliver == DELIVER_HOUSEKEEPING && !t->prewake_off;
	e->scan_auto = m->discover == DISCOVER_SCAN && !t->scan_fixed;
	e->predict = m->discover == DISCOVER_SCAN && !t->predict_off;
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (e->vt[i].blocking_idx < 0)
			e->prewake = false;	/* no `blocking` stat: cannot tell halted vCPUs */
	if (timer_mode_needs_hk(m)) {
		e->hk = hk_create(e);
		if (!e->hk)
			return -1;
	}
	vm->timer = e;
	vm->timer_ops = timer_deliver_ops[m->deliver].vm_ops;
	return 0;
}

int timer_engine_start(struct timer_engine *e)
{
	return e->hk ? hk_start(e->hk) : 0;
}

void timer_engine_stop(struct timer_engine *e)
{
	if (e->hk)
		hk_stop(e->hk);
	for (int i = 0; e->vt && i < e->vm->nr_vcpus; i++)
		if (e->vt[i].ptimer_ok) {
			timer_delete(e->vt[i].ptimer);
			e->vt[i].ptimer_ok = false;
		}
}

void timer_engine_free(struct timer_engine *e)
{
	hk_free(e->hk);
	free(e->vt);
	e->hk = NULL;
	e->vt = NULL;
}
