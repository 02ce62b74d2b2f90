// SPDX-License-Identifier: MIT
/*
 * VM and vCPU lifetime: memory, in-kernel irqchip, CPUID, initial register
 * state, one thread per vCPU and a run loop that can be stopped from any
 * thread (signal + kvm_run.immediate_exit, see vcpu_kick()).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "machine.h"
#include "../util.h"
#include "vtimer/abi.h"

#define TSS_ADDR	0xfffbd000UL	/* VMX real-mode TSS, outside guest RAM */

static __thread struct kvm_run *this_run;
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

void vm_catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = SA_RESETHAND };

	stop_signal = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int vm_stop_signal(void)
{
	return stop_signal;
}

static void kick_handler(int sig)
{
	(void)sig;
	if (this_run)
		this_run->immediate_exit = 1;
}

void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa > vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return vm->mem + gpa;
}

void *vm_gpa_elem(struct vm *vm, uint64_t gpa, uint64_t idx, uint64_t stride, uint64_t len)
{
	uint64_t off;

	if (__builtin_mul_overflow(idx, stride, &off) || __builtin_add_overflow(gpa, off, &gpa))
		return NULL;
	return vm_gpa(vm, gpa, len);
}

int vm_add_pio(struct vm *vm, uint16_t base, uint16_t len, pio_fn fn, void *opaque)
{
	if (vm->nr_pio == VM_MAX_PIO)
		return -1;
	vm->pio[vm->nr_pio++] = (struct pio_region){ base, len, fn, opaque };
	return 0;
}

void vm_kick_vcpu(struct vm *vm, int id)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (vm->vcpus[id].running)
		pthread_kill(vm->vcpus[id].thread, VM_SIG_KICK);
	pthread_mutex_unlock(&vm->stop_lock);
}

/* Kicks only threads that have not ended: a joined thread's id is invalid. */
static void vm_vstop(struct vm *vm, int status, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (!vm->stop) {
		vm->exit_status = status;
		if (fmt)
			vsnprintf(vm->error, sizeof(vm->error), fmt, ap);
		vm->stop = true;
	}
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].running && !pthread_equal(vm->vcpus[i].thread, pthread_self()))
			pthread_kill(vm->vcpus[i].thread, VM_SIG_KICK);
	pthread_mutex_unlock(&vm->stop_lock);
}

void vm_stop(struct vm *vm, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vm_vstop(vm, status, fmt, ap);
	va_end(ap);
}

void vm_fail(struct vm *vm, enum vt_failure f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vm_vstop(vm, vt_failure_status(f), fmt, ap);
	va_end(ap);
}

static int vm_setup_cpuid(struct vm *vm, const struct cpu_flags *flags)
{
	struct kvm_cpuid_entry2 *e;
	char err[160];

	vm->cpuid = kvm_supported_cpuid(vm->kvm_fd);
	if (!vm->cpuid)
		return -1;
	e = kvm_cpuid_find(vm->cpuid, 1, 0);
	if (!e) {
		vt_err("KVM reports no CPUID leaf 1");
		return -1;
	}
	e->ecx |= (1u << 21) | (1u << 24);	/* x2APIC, TSC-deadline */
	if (cpu_flags_apply(vm->cpuid, flags, err, sizeof(err)) < 0) {
		vt_err("%s", err);
		return -1;
	}
	return 0;
}

static int vcpu_set_cpuid(struct vcpu *vcpu)
{
	struct kvm_cpuid2 *c = vcpu->vm->cpuid;
	struct kvm_cpuid_entry2 *e;

	/* The initial APIC ID is the vCPU id in leaf 1 and leaf 0xb. */
	if ((e = kvm_cpuid_find(c, 1, 0)))
		e->ebx = (e->ebx & 0x00ffffff) | ((uint32_t)vcpu->id << 24);
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0xb || c->entries[i].function == 0x1f)
			c->entries[i].edx = vcpu->id;
	return kvm_ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0 ? -1 : 0;
}

int vm_cpuid_set(struct vm *vm, uint32_t fn, uint32_t eax, uint32_t ebx, uint32_t ecx,
		 uint32_t edx)
{
	struct kvm_cpuid_entry2 *e;

	if (!vm->cpuid)
		return -1;
	e = kvm_cpuid_find(vm->cpuid, fn, 0);
	if (!e) {
		size_t n = vm->cpuid->nent + 1;
		struct kvm_cpuid2 *c = realloc(vm->cpuid, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return -1;
		vm->cpuid = c;
		e = &c->entries[c->nent++];
		memset(e, 0, sizeof(*e));
		e->function = fn;
	}
	e->eax = eax;
	e->ebx = ebx;
	e->ecx = ecx;
	e->edx = edx;
	return 0;
}

int vm_cpuid_timing_leaf(struct vm *vm)
{
	struct kvm_cpuid_entry2 *e = vm->cpuid ? kvm_cpuid_find(vm->cpuid, 0x40000000, 0) : NULL;

	if (!e)
		return 0;	/* no KVM signature leaf to extend */
	if (e->eax < 0x40000010)
		e->eax = 0x40000010;
	/* EBX: APIC bus kHz, KVM's default 1 GHz bus. */
	return vm_cpuid_set(vm, 0x40000010, vm->tsc_khz, 1000000, 0, 0);
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	struct kvm_userspace_memory_region region;
	struct sigaction sa = { .sa_handler = kick_handler };

	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->stop_lock, NULL);
	vm->console = cfg->console ? cfg->console : stdout;
	vm->console_tty = isatty(fileno(vm->console));
	vm->pin_cpus = cfg->pin_cpus;
	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > VTIMER_MAX_VCPUS) {
		vt_err("--vcpus must be 1..%d", VTIMER_MAX_VCPUS);
		return -1;
	}
	if (cfg->mem_size < (16 << 20) || cfg->mem_size > VTIMER_MAX_MEM) {
		vt_err("--mem must be 16..%llu MiB", VTIMER_MAX_MEM >> 20);
		return -1;
	}
	sigaction(VM_SIG_KICK, &sa, NULL);

	vm->kvm_fd = kvm_open();
	if (vm->kvm_fd < 0)
		return -1;
	vm->run_size = __kvm_ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (vm->run_size <= 0) {
		vt_err("KVM_GET_VCPU_MMAP_SIZE failed");
		return -1;
	}
	vm->fd = kvm_ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return -1;
	if (kvm_check_cap(vm->kvm_fd, KVM_CAP_SET_TSS_ADDR) > 0)
		__kvm_ioctl(vm->fd, KVM_SET_TSS_ADDR, (void *)TSS_ADDR);
	if (kvm_ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return -1;

	vm->mem_size = cfg->mem_size;
	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		vt_err("cannot allocate %llu MiB of guest memory: %s",
		       (unsigned long long)vm->mem_size >> 20, strerror(errno));
		return -1;
	}
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = vm->mem_size,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (kvm_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -1;
	if (vm_setup_cpuid(vm, &cfg->cpu) < 0)
		return -1;

	vm->nr_vcpus = cfg->nr_vcpus;
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -1;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->stats.fd = -1;
		v->fd = kvm_ioctl(vm->fd, KVM_CREATE_VCPU, (long)i);
		if (v->fd < 0)
			return -1;
		v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			vt_err("mmap of vCPU %d's kvm_run failed: %s", i, strerror(errno));
			return -1;
		}
		kvm_stats_open(v->fd, &v->stats);	/* optional: absent on old kernels */
	}
	vm->tsc_khz = __kvm_ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, NULL);
	if ((int64_t)vm->tsc_khz <= 0) {
		vt_err("KVM_GET_TSC_KHZ failed: cannot convert guest TSC to time");
		return -1;
	}
	return 0;
}

void vm_destroy(struct vm *vm)
{
	for (int i = 0; vm->vcpus && i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		kvm_stats_close(&v->stats);
		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd > 0)
			close(v->fd);
	}
	free(vm->vcpus);
	free(vm->cpuid);
	free(vm->fwcfg);
	free(vm->acpi);
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->kvm_fd > 0)
		close(vm->kvm_fd);
	vm->vcpus = NULL;
	vm->fwcfg = NULL;
	vm->acpi = NULL;
	vm->mem = NULL;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool l, bool db)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = db, .s = 1, .l = l, .g = 1,
	};
}

/* Identity map of the first 1 GiB with 2 MiB pages, user-accessible. */
static void build_page_tables(struct vm *vm)
{
	uint64_t *pml4 = vm_gpa(vm, VTIMER_GPA_PML4, 4096);
	uint64_t *pdpt = vm_gpa(vm, VTIMER_GPA_PDPT, 4096);
	uint64_t *pd = vm_gpa(vm, VTIMER_GPA_PD, 4096);
	uint64_t *gdt = vm_gpa(vm, VTIMER_GPA_GDT, 32);

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = VTIMER_GPA_PDPT | 7;
	pdpt[0] = VTIMER_GPA_PD | 7;
	for (int i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x87;	/* P RW US PS */
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffULL;	/* 0x08: 64-bit code */
	gdt[2] = 0x00cf93000000ffffULL;	/* 0x10: data */
	gdt[3] = 0x00cf9b000000ffffULL;	/* 0x18: 32-bit code */
}

static int vcpu_setup(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct boot_entry *e = &vm->entry;
	struct kvm_sregs sr;
	struct kvm_regs regs = { .rflags = 2 };
	bool lm = e->mode == BOOT_LONG64;

	if (vcpu_set_cpuid(vcpu) < 0)
		return -1;
	if (!lm && vcpu->id)
		return 0;	/* multiboot APs wait for INIT/SIPI, as on a PC */
	if (kvm_ioctl(vcpu->fd, KVM_GET_SREGS, &sr) < 0)
		return -1;
	if (lm) {
		seg(&sr.cs, 0x08, 11, true, false);
		sr.cr0 = 0x80050033;	/* PG WP NE ET MP PE */
		sr.cr4 = 0x620;		/* OSXMMEXCPT OSFXSR PAE */
		sr.cr3 = VTIMER_GPA_PML4;
		sr.efer = 0x500;	/* LMA LME */
	} else {
		seg(&sr.cs, 0x18, 11, false, true);
		sr.cr0 = 0x11;		/* ET PE */
		sr.cr4 = 0;
		sr.efer = 0;
	}
	seg(&sr.ds, 0x10, 3, false, true);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.gdt.base = VTIMER_GPA_GDT;
	sr.gdt.limit = 31;
	if (kvm_ioctl(vcpu->fd, KVM_SET_SREGS, &sr) < 0)
		return -1;
	regs.rip = e->rip;
	regs.rax = e->rax;
	regs.rbx = e->rbx;
	regs.rdi = lm ? (uint64_t)vcpu->id : e->rdi;
	regs.rsi = e->rsi;
	if (kvm_ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -1;
	if (lm && vcpu->id) {
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

		if (kvm_ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) < 0)
			return -1;
	}
	return 0;
}

/* VM_WAKE_GUARD_NS (machine.h): kicks a vCPU that has stayed in KVM_RUN that long. */
static void wake_guard(struct vm *vm, int started)
{
	uint64_t now = now_ns();

	for (int i = 0; i < started; i++) {
		struct vcpu *v = &vm->vcpus[i];
		uint64_t since = v->in_run_ns;

		if (since && now - since > VM_WAKE_GUARD_NS && !v->guard_kicked) {
			v->guard_kicked = true;
			v->guard_kicks++;
			pthread_kill(v->thread, VM_SIG_KICK);
		}
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t set;

	this_run = vcpu->run;
	vcpu->sched_policy = sched_getscheduler(0);	/* as inherited (--sched) */
	if (vm->pin_cpus > 0) {
		cpu_set_t cs;

		CPU_ZERO(&cs);
		CPU_SET(vcpu->id % vm->pin_cpus, &cs);
		pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs);
	}
	sigemptyset(&set);
	sigaddset(&set, VM_SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (vm->timer_ops && vm->timer_ops->started)
		vm->timer_ops->started(vcpu);
	while (!vm->stop) {
		int r;

		vcpu->in_run_ns = now_ns();
		r = __kvm_ioctl(vcpu->fd, KVM_RUN, NULL);
		vcpu->in_run_ns = 0;
		vcpu->guard_kicked = false;

		if (vm->timer_ops && vm->timer_ops->exited && r >= 0)
			vm->timer_ops->exited(vcpu);
		if (r == -EINTR || r == -EAGAIN) {
			vcpu->run->immediate_exit = 0;
			if (vm->timer_ops && vm->timer_ops->kicked)
				vm->timer_ops->kicked(vcpu);
			continue;
		}
		if (r < 0) {
			vm_fail(vm, VT_FAIL_IOCTL, "vCPU %d: KVM_RUN: %s", vcpu->id, strerror(-r));
			break;
		}
		if (vcpu_handle_exit(vcpu) < 0)
			break;
	}
	pthread_mutex_lock(&vm->stop_lock);
	vcpu->running = false;
	pthread_mutex_unlock(&vm->stop_lock);
	return NULL;
}

/* Takes no lock but vm->stop_lock: nothing a vCPU or timer thread holds can block it. */
bool vm_watchdog(struct vm *vm, uint64_t now)
{
	int sig = stop_signal;

	if (vm->stop)
		return true;
	if (sig) {
		vm_fail(vm, VT_FAIL_SIGNAL, "stopped by %s: partial results", sigabbrev_np(sig));
	} else if (vm->deadline_ns && now > vm->deadline_ns) {
		vm->timed_out = true;
		vm_fail(vm, VT_FAIL_TIMEOUT, "guest did not finish before the %s timeout",
			"--timeout");
	}
	return vm->stop;
}

int vm_run(struct vm *vm)
{
	sigset_t set, old;
	int started = 0;

	build_page_tables(vm);
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vcpu_setup(&vm->vcpus[i]) < 0) {
			vm_fail(vm, VT_FAIL_IOCTL, "vCPU %d: setting up its registers failed", i);
			return -1;
		}
	/* vCPU threads unblock the kick signal themselves; others keep it blocked. */
	sigemptyset(&set);
	sigaddset(&set, VM_SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		bool ok;

		/* ok, not v->running: a thread that has already ended clears that */
		pthread_mutex_lock(&vm->stop_lock);
		ok = !pthread_create(&v->thread, NULL, vcpu_thread, v);
		v->running = ok;
		pthread_mutex_unlock(&vm->stop_lock);
		if (!ok) {
			vm_fail(vm, VT_FAIL_SETUP, "cannot start vCPU thread %d", i);
			break;
		}
		started++;
	}
	while (!vm_watchdog(vm, now_ns())) {
		usleep(2000);
		wake_guard(vm, started);
	}
	/* Keep kicking until every thread has left KVM_RUN. */
	for (int i = 0; i < started; i++) {
		while (pthread_tryjoin_np(vm->vcpus[i].thread, NULL) == EBUSY) {
			pthread_kill(vm->vcpus[i].thread, VM_SIG_KICK);
			usleep(1000);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}
