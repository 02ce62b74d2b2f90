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
	switch (boot->lapic_mode) {
	case VTIMER_LAPIC_ONESHOT:
		return LVTT_ONESHOT;
	case VTIMER_LAPIC_PERIODIC:
		return LVTT_PERIODIC;
	default:
		return LVTT_TSCDEADLINE;
	}
}

static void lvtt_write(bool masked)
{
	wrmsr(MSR_X2APIC_LVTT, lvtt_mode() | VEC_TIMER | (masked ? LVT_MASKED : 0));
	this_cpu()->res->c.other_msr_writes++;
}

void clockevent_init(void)
{
	struct cpu *c = this_cpu();

	wrmsr(MSR_X2APIC_TDCR, TDCR_DIV1);
	c->res->c.other_msr_writes++;
	lvtt_write(false);
	if (boot->lapic_mode == VTIMER_LAPIC_PERIODIC) {
		/* Initial count in bus cycles: interval_ns * bus_hz / 1e9. */
		wrmsr(MSR_X2APIC_TMICT, boot->interval_ns * (boot->apic_bus_hz / 1000000) / 1000);
		c->res->c.other_msr_writes++;
	}
}

void clockevent_mask(bool masked)
{
	lvtt_write(masked);
}

void clockevent_program(uint64_t deadline)
{
	struct cpu *c = this_cpu();
	uint64_t now, count;

	/* Replacing a deadline that already passed leaves its interrupt pending. */
	if (c->programmed && c->programmed <= rdtsc())
		c->stale = true;
	c->programmed = deadline;
	if (deadline)
		c->res->c.deadlines++;
	switch (boot->lapic_mode) {
	case VTIMER_LAPIC_DEADLINE:
		wrmsr(MSR_TSC_DEADLINE, deadline);
		c->res->c.msr_writes++;
		break;
	case VTIMER_LAPIC_ONESHOT:
		count = 0;
		if (deadline) {
			now = rdtsc();
			count = 1;
			if (deadline > now)
				count = ((deadline - now) * (boot->apic_bus_hz / 1000) +
					 boot->tsc_khz - 1) / boot->tsc_khz;
			if (count > 0xffffffff)
				count = 0xffffffff;
		}
		wrmsr(MSR_X2APIC_TMICT, count);
		c->res->c.other_msr_writes++;
		break;
	default:
		c->programmed = 0;	/* the periodic tick finds expired timers */
		break;
	}
}
