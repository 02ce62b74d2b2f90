// SPDX-License-Identifier: MIT
/*
 * The clockevent: turns "interrupt me at guest TSC D" into LAPIC timer
 * programming in the mode the host asked for (boot->lapic_mode):
 *  - TSC-deadline: one MSR write of D (SDM vol. 3, 11.5.4.1);
 *  - one-shot: TMICT = ceil((D - now) * bus / tsc), divide by 1, so the
 *    interrupt is never earlier than D as long as both clocks are exact;
 *  - periodic: the LAPIC ticks every interval and the timer queue is checked
 *    on each tick, so deadlines are rounded up to the next tick.
 * Counts every deadline and every MSR write in the host-visible record.
 */
#include "kernel.h"

static uint32_t lvtt_mode(void)
{
	switch (this_cpu()->lapic_mode) {
	case VTIMER_LAPIC_ONESHOT:
		return LVTT_ONESHOT;
	case VTIMER_LAPIC_PERIODIC:
		return LVTT_PERIODIC;
	default:
		return LVTT_TSCDEADLINE;
	}
}

/*
 * The PV page mirrors LVTT (the host cannot see x2APIC LVTT writes). A mask
 * reaches the mirror before the LAPIC and an unmask after it, so the host
 * never injects while the LAPIC would not deliver.
 */
static void lvtt_write(bool masked)
{
	struct cpu *c = this_cpu();
	uint32_t v = lvtt_mode() | VEC_TIMER | (masked ? LVT_MASKED : 0);

	c->lvtt = v;
	if (c->pv && masked)
		*(volatile uint32_t *)&c->pv->lvtt = v;
	kwrmsr(MSR_X2APIC_LVTT, v);
	if (c->pv && !masked)
		*(volatile uint32_t *)&c->pv->lvtt = v;
	c->res->c.other_msr_writes++;
}

void clockevent_init(void)
{
	struct cpu *c = this_cpu();

	kwrmsr(MSR_X2APIC_TDCR, TDCR_DIV1);
	c->res->c.other_msr_writes++;
	lvtt_write(false);
	if (c->lapic_mode == VTIMER_LAPIC_PERIODIC) {
		/* Initial count in bus cycles: interval_ns * bus_hz / 1e9. */
		kwrmsr(MSR_X2APIC_TMICT, boot->interval_ns * (boot->apic_bus_hz / 1000000) / 1000);
		c->res->c.other_msr_writes++;
	}
}

static uint64_t pv_window;	/* boot->pv_window_ns in TSC cycles */

/*
 * The due margin (kernel/timer.c, run_due): the cheapest of four no-op exits
 * to the VMM, measured here at boot. A deadline nearer than one exit is
 * waited out instead of programmed. Capped at 100 us of TSC, so a host
 * stall that spoils all four samples cannot make the CPU spin for long.
 */

void clockevent_calibrate(void)
{
	struct cpu *c = this_cpu();
	uint64_t best = ~0ULL, cap = boot->tsc_khz / 10;

	for (int i = 0; i < 4; i++) {
		uint64_t t0 = rdtsc_ordered(), t;

		ucall(VTIMER_UCALL_SYNC, 0, 0);
		t = rdtsc_ordered() - t0;
		if (t < best)
			best = t;
	}
	c->due_margin = best < cap ? best : cap;
	pv_window = boot->pv_window_ns * boot->tsc_khz / 1000000;
	c->res->due_margin = c->due_margin;
}

/*
 * Masking also zeroes the deadline (first), as Linux's lapic_timer_shutdown()
 * does (AMD erratum 411): a VMM that owns the TSC-deadline MSR but cannot see
 * x2APIC LVTT writes (docs/pv-abi.md, "LVTT") then learns of the mask at
 * that write, and a deadline armed before the mask cannot fire through it.
 */
void clockevent_mask(bool masked)
{
	struct cpu *c = this_cpu();

	if (masked && c->lapic_mode == VTIMER_LAPIC_DEADLINE)
		clockevent_program(0, 0, false);
	lvtt_write(masked);
}

/* One-shot mode: TMICT = ceil((D - now) * bus / tsc), at least 1. */
static void oneshot_program(uint64_t deadline)
{
	uint64_t now, count = 0;

	if (deadline) {
		now = rdtsc();
		count = 1;
		if (deadline > now)
			count = ((deadline - now) * (boot->apic_bus_hz / 1000) + boot->tsc_khz - 1) /
				boot->tsc_khz;
		if (count > 0xffffffff)
			count = 0xffffffff;
	}
	kwrmsr(MSR_X2APIC_TMICT, count);
	this_cpu()->res->c.other_msr_writes++;
}

/*
 * TSC-deadline mode through the MSR, after the PV page (if on) decided the
 * deadline needs it: the MSR then carries the value `pending` holds
 * (pv_program may move a deadline one cycle later, c->pv_prev), or the host
 * would take the two for different deadlines and interrupt twice.
 */
static void deadline_msr(struct cpu *c, uint64_t deadline)
{
	if (c->pv && deadline) {
		deadline = c->pv_prev;
		/* Once the host published a horizon, its next scan is never more
		 * than a period away: an exit for a deadline beyond period +
		 * margin breaks the protocol (tests assert far_exits == 0).
		 * Judged on the horizon pv_program decided on: one read again
		 * here may be a scan's newer one, after a re-enabled page's
		 * first exits, which had none (a false far exit, test_switch). */
		if (pv_window && c->pv_horizon && deadline > rdtsc() + pv_window)
			c->res->c.far_exits++;
	}
	kwrmsr(MSR_TSC_DEADLINE, deadline);
	c->res->c.msr_writes++;
}

/*
 * The hot path of every timer change: on a PVM host each instruction here is
 * emulated (~1 us), so it reads the TSC once before the write (the due rule)
 * and once after (stale interrupts), and exits only when the page says so.
 */
bool clockevent_program(uint64_t deadline, uint64_t slack, bool may_refuse)
{
	struct cpu *c = this_cpu();
	uint64_t old = c->programmed;
	enum pv_decision pv = PV_MSR;

	/*
	 * The due rule at the last moment before the write or the page store
	 * (kernel/timer.c, run_due): refused, the caller runs it. Through the
	 * page, pv_program judges it itself, right before its store: a
	 * deadline falling due between the check and the store exits, and on
	 * a host that preempts the vCPU (a busy host) the shorter that window,
	 * the fewer of them.
	 */
	if (c->lapic_mode == VTIMER_LAPIC_DEADLINE && c->pv) {
		pv = pv_program(c, deadline, slack, may_refuse);
		if (pv == PV_REFUSED)
			return false;
	} else if (deadline && may_refuse && deadline <= rdtsc() + c->due_margin) {
		return false;
	}
	if (deadline)
		c->res->c.deadlines++;
	c->programmed = deadline;
	switch (c->lapic_mode) {
	case VTIMER_LAPIC_DEADLINE:
		/*
		 * On the way to idle (c->idle_entry) an owed write waits for the
		 * idle look, which makes it with the hlt (pv/pv.c); idle_end()
		 * makes it if the CPU did not halt after all. Any new program
		 * replaces what was owed.
		 */
		c->pv_owed = false;
		if (pv == PV_OWED && c->idle_entry && (c->pv_features & VTIMER_F_IDLE))
			c->pv_owed = true;
		else if (pv != PV_PAGE)
			deadline_msr(c, deadline);
		break;
	case VTIMER_LAPIC_ONESHOT:
		oneshot_program(deadline);
		break;
	default:
		c->programmed = 0;	/* the periodic tick finds expired timers */
		return true;
	}
	/*
	 * A replaced deadline that passed before the new one was in place may
	 * still interrupt (it sat in the IRR, or a host timer fired while the
	 * write was exiting): legitimate, so counted as stale, not early. So
	 * may one due within the due margin: KVM's lapic_timer_advance fires
	 * its host timer that much ahead and delivers the interrupt even if
	 * the deadline is replaced meanwhile. A count one too high costs one
	 * re-program (kernel/timer.c), never a lost timer; it is held at
	 * STALE_MAX (kernel.h), so such counts do not pile up.
	 */
	if (old) {
		uint64_t t = rdtsc_ordered();

		c->prev_programmed = old;	/* for an anomaly's record (timer.c) */
		c->program_tsc = t;
		if (old <= t + c->due_margin && c->stale < STALE_MAX)
			c->stale++;
	}
	return true;
}

/* idle_end(): a write owed for the idle look that the CPU did not make. */
void clockevent_flush(void)
{
	struct cpu *c = this_cpu();

	if (c->pv_owed) {
		c->pv_owed = false;
		deadline_msr(c, c->programmed);
	}
}

/* LVTT mode switch at run time: stop the old mode, start the new, re-program. */
void clockevent_set_mode(uint32_t mode)
{
	struct cpu *c = this_cpu();

	clockevent_program(0, 0, false);
	if (c->lapic_mode == VTIMER_LAPIC_PERIODIC) {
		kwrmsr(MSR_X2APIC_TMICT, 0);
		c->res->c.other_msr_writes++;
	}
	c->lapic_mode = mode;
	clockevent_init();
	timer_reprogram();
}
