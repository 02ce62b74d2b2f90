// SPDX-License-Identifier: MIT
/*
 * System calls from the CPL3 task, entered by "int $4" through a DPL3 gate:
 * on this PVM host syscall/sysenter do not reach CPL0 and int $n only does
 * for n = 3, 4 (DESIGN.md); on VMX/SVM int $4 works the same way.
 */
#include "kernel.h"

static void wake_fn(struct ktimer *t, uint64_t now)
{
	(void)t;
	(void)now;
	this_cpu()->woken = true;
}

static void sleep_until(uint64_t deadline)
{
	struct cpu *c = this_cpu();

	/*
	 * An already-passed deadline arms nothing: timer_add() finds it due and
	 * runs the wake-up at once (kernel/timer.c, run_due). Counted, as the
	 * measure of how late the host ran this vCPU.
	 */
	if (deadline <= rdtsc())
		c->res->c.expired_sleeps++;
	c->woken = false;
	c->sleep.fn = wake_fn;
	c->idle_entry = true;	/* its program may wait for the idle look (timer.c) */
	timer_add(&c->sleep, deadline);
	idle_wait(&c->woken);
}

/* tscdeadline_latency: the handler records now - deadline, re-arms now + delta. */
static void lat_fn(struct ktimer *t, uint64_t now)
{
	struct cpu *c = this_cpu();
	uint64_t n = c->res->nr_samples;

	if (n < boot->samples_per_cpu)
		c->samples[n] = (int64_t)(now - t->deadline);
	c->res->nr_samples = n + 1;
	c->res->c.events++;
	if (n + 1 < c->lat_count)
		timer_add(t, now + c->lat_delta);
	else
		c->lat_done = true;
}

static long latency(uint64_t count, uint64_t delta, uint64_t wait)
{
	struct cpu *c = this_cpu();

	c->lat_count = count;
	c->lat_delta = delta;
	c->lat_done = false;
	c->lat.fn = lat_fn;
	c->idle_entry = wait == VTIMER_WAIT_HLT;	/* as sleep_until */
	timer_add(&c->lat, rdtsc() + delta);
	if (wait == VTIMER_WAIT_HLT)
		idle_wait(&c->lat_done);
	return 0;	/* busy: the task polls nr_samples in CPL3 */
}

static void probe_fn(struct ktimer *t, uint64_t now)
{
	(void)t;
	(void)now;
}

/*
 * Masked LVTT: a0 = delta masks LVTT and arms a timer delta ahead, returning
 * its deadline; a0 = 0 unmasks and re-programs the queue. The task counts
 * interrupts itself (they are in its result record).
 */
static long mask_test(uint64_t delta)
{
	struct cpu *c = this_cpu();

	if (delta) {
		clockevent_mask(true);
		c->probe.fn = probe_fn;
		timer_add(&c->probe, rdtsc() + delta);
		return c->probe.deadline;
	}
	timer_del(&c->probe);
	clockevent_mask(false);
	/* Whatever expired while masked is gone: program the queue afresh. */
	timer_reprogram();
	return 0;
}

/* PV page off or on in the middle of a run. */
static long pv_switch(long on)
{
	if (on)
		pv_enable();
	else
		pv_disable();
	timer_reprogram();
	return this_cpu()->pv != NULL;
}

long syscall_dispatch(long a0, long a1, long a2, long nr)
{
	switch (nr) {
	case SYS_EXIT:
		cpu_finish(a0);
	case SYS_SLEEP_UNTIL:
		sleep_until(a0);
		return 0;
	case SYS_LATENCY:
		return latency(a0, a1, a2);
	case SYS_MASK_TEST:
		return mask_test(a0);
	case SYS_PV:
		return pv_switch(a0);
	case SYS_PV_ABI: {
		long bad = pv_abi_check();

		timer_reprogram();
		return bad;
	}
	case SYS_HOSTILE:
		return hostile(a0);
	case SYS_RR_SEND:
		return rr_send(a0, a1);
	case SYS_RR_RECV:
		return rr_recv(a0);
	case SYS_CRASH: {
		struct { uint16_t limit; uint64_t base; } __attribute__((packed)) none = { 0, 0 };

		/* no IDT: the breakpoint faults, so does the #GP, then the #DF */
		__asm__ volatile("lidt %0; int3" : : "m"(none));
		return -1;
	}
	case SYS_LAPIC_MODE:
		if (a0 > VTIMER_LAPIC_PERIODIC)
			return -1;
		clockevent_set_mode(a0);
		return 0;
	}
	return -1;
}
