// SPDX-License-Identifier: MIT
/*
 * The simulated CPU and host of sim.h, and the guest's entry points the
 * timer code calls (safe_halt, safe_idle_look, ucall, printk ...). The host
 * side follows docs/pv-abi.md section 5 line by line, as simply as it can be
 * written; it is the test's oracle, not the VMM's code (src/timer/vtimer.c),
 * which reads the real TSC and runs threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../guest/kernel/kernel.h"
#include "sim.h"

uint64_t sim_now;
struct sim_host sim;

/* What the guest kernel's boot (kernel/main.c) sets up. */
static struct vtimer_boot boot_rec;
static struct vtimer_result result;
static int64_t samples[16];
static struct cpu cpu0;
const struct vtimer_boot *boot = &boot_rec;
uint64_t tick_cycles;
struct cpu *hosted_cpu = &cpu0;

void timer_interrupt(void);	/* kernel/timer.c: the timer vector's handler (entry.S) */

/* KVM's PV EOI (Documentation/virt/kvm/x86/msr.rst; guest/pv/pv_eoi.c) */
#define KVM_CPUID_SIGNATURE	0x40000000u
#define KVM_CPUID_FEATURES	0x40000001u
#define MSR_KVM_PV_EOI_EN	0x4b564d04u
static bool offer_pv_eoi, offer_exit_before_handler;
void pv_reset(void);		/* pv/pv.c, GUEST_HOSTED only */
static void host_advance(uint64_t until, bool interruptible);

/* ---- the CPU's instructions (x86.h, GUEST_HOSTED) ---- */

uint64_t rdtsc(void)
{
	/* the code between two reads takes time; host events due meanwhile
	 * happen, but interrupts wait (the kernel runs with IF = 0) */
	host_advance(sim_now + SIM_INSN, false);
	return sim_now;
}

void cpu_relax(void)
{
	host_advance(sim_now + SIM_RELAX, false);
}

uint64_t rdmsr(uint32_t msr)
{
	return msr == MSR_KVM_PV_EOI_EN ? sim.pv_eoi_msr : 0;
}

void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	memset(r, 0, 4 * sizeof(r[0]));
	if (sim.kvm_pv_eoi && leaf == KVM_CPUID_SIGNATURE) {
		r[0] = KVM_CPUID_FEATURES;
		r[1] = 0x4b4d564b;	/* "KVMKVMKVM\0\0\0" */
		r[2] = 0x564b4d56;
		r[3] = 0x4d;
	} else if (sim.kvm_pv_eoi && leaf == KVM_CPUID_FEATURES) {
		r[0] = 1u << 6;		/* KVM_FEATURE_PV_EOI */
	}
	if (!sim.features)
		return;		/* no vtimer leaves */
	if (leaf == VTIMER_CPUID_SIGNATURE) {
		r[0] = VTIMER_CPUID_FEATURES;
		r[1] = VTIMER_SIG_EBX;
		r[2] = VTIMER_SIG_ECX;
		r[3] = VTIMER_SIG_EDX;
	} else if (leaf == VTIMER_CPUID_FEATURES) {
		r[0] = sim.features;
		r[1] = MSR_VTIMER_PV;
		r[2] = VTIMER_PV_VERSION;
	}
}

/* ---- the host: KVM's LAPIC timer, or a VMM that owns the deadline ---- */

static void inject(void)
{
	if (sim.page) {
		uint32_t lvtt = sim.page->lvtt;

		/* pv-abi.md 5.5: only an unmasked TSC-deadline LVTT with a vector */
		if ((lvtt & 0xff) < 16 || (lvtt & LVT_MASKED) ||
		    (lvtt & (3u << 17)) != LVTT_TSCDEADLINE)
			return;
	} else if (sim.lvtt & LVT_MASKED) {
		return;		/* the LAPIC's own timer: masked, not delivered */
	}
	sim.irr = true;
	sim.injected++;
}

/*
 * Any exit: KVM syncs the PV EOI word (lapic.c, apic_sync_pv_eoi_from_
 * guest): cleared by the guest, KVM does the EOI; still set, KVM clears it
 * and the guest must write EOI itself.
 */
static void kvm_exit(void)
{
	uint32_t *w = (uint32_t *)(uintptr_t)(sim.pv_eoi_msr & ~1ULL);

	if (!sim.pv_eoi_set)
		return;
	sim.pv_eoi_set = false;
	if (*w & 1)
		*w &= ~1u;
	else
		sim.kvm_eois++;
}

/* arm(D) of pv-abi.md 5: the host timer and, with LAZY, `armed` */
static void host_arm(uint64_t d)
{
	sim.timer = d;
	if (sim.features & VTIMER_F_LAZY)
		sim.page->armed = d;
}

/* 5.1: a TSC-deadline MSR exit (or the idle look) of value d */
static void host_msr(uint64_t d)
{
	kvm_exit();
	sim.msr_exits++;
	sim_now += SIM_EXIT;
	if (!sim.page) {
		/* KVM's LAPIC timer: a passed deadline fires at once */
		sim.lapic_deadline = d;
		if (d && d <= sim_now) {
			sim.lapic_deadline = 0;
			inject();
		}
		return;
	}
	sim.seen = d;
	if (!d) {
		host_arm(0);
	} else if (d <= sim_now) {
		sim.timer = 0;
		sim.page->armed = 0;
		inject();
	} else {
		host_arm(d);
	}
}

/* 5.2: the host timer fired */
static void host_expire(void)
{
	uint64_t p;

	sim.timer = 0;
	sim.page->armed = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	p = sim.page->pending;
	sim.seen = p;
	if (!p)
		return;
	if (p <= sim_now)
		inject();
	else
		host_arm(p);
}

/* 5.3: a scan; the next one is at the horizon it publishes */
static void host_scan(void)
{
	uint64_t p;

	sim.next_scan = sim_now + sim.scan_period;
	sim.page->horizon = sim.next_scan;
	sim.page->margin = sim.margin;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	p = sim.page->pending;
	if (p == sim.seen)
		return;
	if ((sim.features & VTIMER_F_LAZY) && (!p || !sim.timer || p > sim.timer)) {
		sim.page->armed = 0;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		p = sim.page->pending;
	}
	sim.seen = p;
	if (!p)
		host_arm(0);
	else if (p != sim.timer)
		host_arm(p);
	else
		sim.page->armed = p;
}

/* The earliest host event, UINT64_MAX = none. */
static uint64_t next_event(void)
{
	uint64_t t = UINT64_MAX;

	if (sim.lapic_deadline)
		t = sim.lapic_deadline;
	if (sim.timer && sim.timer < t)
		t = sim.timer;
	if (sim.next_scan && sim.next_scan < t)
		t = sim.next_scan;
	return t;
}

/*
 * The vector enters the guest. Nothing else is in service or pending here,
 * so with PV EOI on KVM sets the word's bit as it injects (lapic.c,
 * apic_sync_pv_eoi_to_guest).
 */
static void take_interrupt(void)
{
	sim.irr = false;
	if (sim.pv_eoi_msr & 1) {
		*(volatile uint32_t *)(uintptr_t)(sim.pv_eoi_msr & ~1ULL) |= 1;
		sim.pv_eoi_set = true;
	}
	if (sim.exit_before_handler)
		kvm_exit();
	timer_interrupt();
}

/*
 * Time moves to `until`; host events due on the way happen in order. With
 * `interruptible` (the task runs at CPL3) a pending interrupt is taken at
 * once, and its handler's own time counts.
 */
static void host_advance(uint64_t until, bool interruptible)
{
	for (;;) {
		uint64_t t = next_event();

		if (interruptible && sim.irr)
			take_interrupt();
		if (t > until)
			break;
		if (t > sim_now)
			sim_now = t;
		if (sim.lapic_deadline && sim.lapic_deadline <= sim_now) {
			/* the oracle's own check: before the deadline the guest programmed? */
			if (cpu0.programmed && sim_now < cpu0.programmed)
				sim.early_fires++;
			sim.lapic_deadline = 0;
			inject();
		} else if (sim.timer && sim.timer <= sim_now) {
			host_expire();
		} else if (sim.next_scan && sim.next_scan <= sim_now) {
			host_scan();
		}
	}
	if (until > sim_now)
		sim_now = until;
}

void wrmsr(uint32_t msr, uint64_t v)
{
	switch (msr) {
	case MSR_TSC_DEADLINE:
		host_msr(v);
		break;
	case MSR_X2APIC_EOI:
		kvm_exit();
		break;
	case MSR_KVM_PV_EOI_EN:
		kvm_exit();
		sim.pv_eoi_msr = v;
		break;
	case MSR_VTIMER_PV:
		if (!sim.features)
			fail_msg("guest wrote the PV enable MSR that was not offered");
		if (!(v & VTIMER_PV_ENABLE)) {
			sim.page = NULL;
			sim.next_scan = 0;
			break;
		}
		sim.page = (struct vtimer_pv_page *)(uintptr_t)(v & ~0xfffULL);
		sim.page->version = VTIMER_PV_VERSION;
		sim.page->features = sim.features;
		sim.page->armed = 0;
		sim.page->horizon = 0;
		sim.page->margin = sim.margin;
		sim.seen = 0;
		if (sim.features & (VTIMER_F_HORIZON | VTIMER_F_DIRECT))
			sim.next_scan = sim_now + sim.scan_period;
		break;
	case MSR_X2APIC_LVTT:
		sim.lvtt = (uint32_t)v;
		break;
	case MSR_X2APIC_TMICT:
		/* one-shot: fires after v bus cycles, TDCR divide by 1 (the guest's) */
		if ((sim.lvtt & (3u << 17)) == LVTT_ONESHOT)
			sim.lapic_deadline = v ? sim_now + v * (boot_rec.tsc_khz * 1000) /
							 boot_rec.apic_bus_hz : 0;
		break;
	default:	/* TDCR */
		break;
	}
}

int wrmsr_safe(uint32_t msr, uint64_t val)
{
	wrmsr(msr, val);
	return 0;
}

/* sti; hlt; cli: sleeps until an interrupt, and takes it */
void safe_halt(void)
{
	kvm_exit();	/* the hlt */
	while (!sim.irr) {
		uint64_t t = next_event();

		if (t == UINT64_MAX)
			fail_msg("the guest halted with nothing armed (t=%llu)",
				 (unsigned long long)sim_now);
		host_advance(t, false);
	}
	take_interrupt();
}

/* sti; wrmsr(idle MSR, 0); cli (pv-abi.md 4.1): pending as an MSR write, then halt */
void safe_idle_look(uint32_t msr)
{
	if (msr != VTIMER_IDLE_MSR(MSR_VTIMER_PV) || !sim.page || !(sim.features & VTIMER_F_IDLE))
		fail_msg("idle look without the feature or the page");
	sim.idle_looks++;
	host_msr(sim.page->pending);
	safe_halt();
}

void ucall(uint32_t cmd, uint64_t a0, const char *msg)
{
	kvm_exit();
	sim_now += SIM_EXIT;	/* clockevent_calibrate() times these */
}

void printk(const char *fmt, ...)
{
}

/* ---- the test's side ---- */

void sim_offer_pv_eoi(bool on, bool exit_before_handler)
{
	offer_pv_eoi = on;
	offer_exit_before_handler = exit_before_handler;
}

void sim_reset(uint32_t features, uint64_t tick_ns)
{
	sim_reset_lapic(features, tick_ns, VTIMER_LAPIC_DEADLINE, 1000000000);
}

void sim_reset_lapic(uint32_t features, uint64_t tick_ns, uint32_t lapic_mode, uint64_t bus_hz)
{
	memset(&sim, 0, sizeof(sim));
	memset(&cpu0, 0, sizeof(cpu0));
	memset(&result, 0, sizeof(result));
	memset(&boot_rec, 0, sizeof(boot_rec));
	sim.features = features;
	sim.kvm_pv_eoi = offer_pv_eoi;
	sim.exit_before_handler = offer_exit_before_handler;
	/* the presets' 500 us; DIRECT: a host that polls (a scan every 2 us) */
	sim.scan_period = features & VTIMER_F_DIRECT ? 2000 : 500000;
	sim.margin = VTIMER_PV_SCAN_MARGIN_NS;
	sim_now = 1000000000;
	boot_rec.nr_cpus = 1;
	boot_rec.tsc_khz = 1000000;
	boot_rec.apic_bus_hz = bus_hz;
	boot_rec.lapic_mode = lapic_mode;
	boot_rec.tick_ns = tick_ns;
	boot_rec.samples_per_cpu = 16;
	boot_rec.user_msrs = features ? VTIMER_USER_DEADLINE | VTIMER_USER_PV : 0;
	tick_cycles = tick_ns;	/* 1 GHz */
	cpu0.self = &cpu0;
	cpu0.res = &result;
	cpu0.samples = samples;
	cpu0.lapic_mode = lapic_mode;
	/* the guest's boot, as kernel/main.c runs it */
	pv_reset();
	pv_discover();
	pv_enable();
	pv_eoi_enable();
	clockevent_init();
	clockevent_calibrate();
	cpu0.measuring = true;
}

void sim_run_task(uint64_t cycles)
{
	host_advance(sim_now + cycles, true);
}

void sim_run_kernel(uint64_t cycles)
{
	host_advance(sim_now + cycles, false);
}

static void wake_fn(struct ktimer *t, uint64_t now)
{
	this_cpu()->woken = true;
}

void sim_sleep_until(uint64_t deadline)
{
	struct cpu *c = this_cpu();

	/* kernel/syscall.c, sleep_until (static there) */
	if (deadline <= rdtsc())
		c->res->c.expired_sleeps++;
	c->woken = false;
	c->sleep.fn = wake_fn;
	c->idle_entry = true;
	timer_add(&c->sleep, deadline);
	idle_wait(&c->woken);
}

struct vtimer_counters *sim_counters(void)
{
	return &result.c;
}
