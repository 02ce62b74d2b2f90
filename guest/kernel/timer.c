// SPDX-License-Identifier: MIT
/*
 * Per-CPU timer queue (a sorted list: a CPU holds a handful of timers), the
 * timer interrupt, the nohz tick and idle. The clockevent is reprogrammed
 * only when the earliest deadline changes, and once per interrupt, as
 * Linux's hrtimer code does: that is what decides how many deadline writes a
 * workload costs.
 */
#include "kernel.h"

static void expire_queue(struct cpu *c, uint64_t now)
{
	struct ktimer *t;

	while ((t = c->queue) && t->deadline <= now) {
		c->queue = t->next;
		t->queued = false;
		t->fn(t, now);
	}
}

/*
 * A due deadline never exits. If the head is due, or nearer than what one
 * exit to the VMM costs (c->due_margin, measured at boot), programming it buys
 * nothing: the CPU waits it out and runs the expiry itself, as Linux runs an
 * hrtimer whose clockevent refused a passed deadline (-ETIME). No write, no
 * page store, no interrupt, never early. The clockevent judges "due" at the
 * last moment before the write or the page store (kernel/clockevent.c,
 * pv/pv.c) and refuses; this runs what it refused.
 */
static void run_due(struct cpu *c, uint64_t head)
{
	uint64_t now;

	while ((now = rdtsc()) < head)
		cpu_relax();
	c->res->c.due_at_program++;
	c->in_expire = true;
	expire_queue(c, now);
	c->in_expire = false;
}

/*
 * Programs the queue's head if it changed (or a re-program was forced), after
 * running whatever is due. Not while an expiry runs: its end reprograms once.
 * The loop ends: each pass either programs or runs a due timer, and at most
 * MAX_DUE_RUNS are run in one call (a timer that keeps re-adding itself
 * within the due margin, such as a tick shorter than one exit, is then
 * programmed like any other). On a PVM host every instruction here is
 * emulated (~1 us each): the path is kept short on purpose.
 */
#define MAX_DUE_RUNS	16

/* After a refusal: run what is due and program what follows, up to MAX_DUE_RUNS. */
static void __attribute__((noinline)) reprogram_due(struct cpu *c, uint64_t head)
{
	for (int runs = 1;; runs++) {
		struct ktimer *t;

		run_due(c, head);
		t = c->queue;
		head = t ? t->deadline : 0;
		if (head == c->programmed && !c->force_program)
			return;
		/* force_program stays on a refusal: a forced program must not be lost */
		if (clockevent_program(head, t ? t->slack : 0, runs < MAX_DUE_RUNS)) {
			c->force_program = false;
			return;
		}
	}
}

static void reprogram_head(struct cpu *c)
{
	struct ktimer *t = c->queue;
	uint64_t head = t ? t->deadline : 0;

	if (clockevent_program(head, t ? t->slack : 0, true))
		c->force_program = false;
	else
		reprogram_due(c, head);
}

/* The common case, no change of the head, inline: no call, no frame. */
static inline void reprogram(struct cpu *c)
{
	struct ktimer *t = c->queue;

	if (c->in_expire || ((t ? t->deadline : 0) == c->programmed && !c->force_program))
		return;
	reprogram_head(c);
}

/*
 * Program the queue's head again even if it has not changed: the path to the
 * timer changed under it (PV page on/off, LVTT mask or mode). `programmed`
 * is kept, so clockevent_program() can still tell a replaced deadline that
 * had passed (stale interrupt) from an early one.
 */
void timer_reprogram(void)
{
	struct cpu *c = this_cpu();

	c->force_program = true;
	timer_expire(rdtsc());
}

static void unlink(struct cpu *c, struct ktimer *t)
{
	for (struct ktimer **p = &c->queue; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	t->queued = false;
}

void timer_add(struct ktimer *t, uint64_t deadline)
{
	struct cpu *c = this_cpu();
	struct ktimer **p = &c->queue;

	if (t->queued)
		unlink(c, t);
	t->deadline = deadline;
	while (*p && (*p)->deadline <= deadline)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
	t->queued = true;
	reprogram(c);
}

void timer_del(struct ktimer *t)
{
	struct cpu *c = this_cpu();

	if (!t->queued)
		return;
	unlink(c, t);
	reprogram(c);
}

/* Runs expired timers, then programs the earliest remaining deadline once. */
void timer_expire(uint64_t now)
{
	struct cpu *c = this_cpu();

	c->in_expire = true;
	expire_queue(c, now);
	c->in_expire = false;
	reprogram(c);
}

/* The first early or unexpected interrupt, recorded for the host (abi.h). */
static void __attribute__((noinline, cold)) note_anomaly(struct cpu *c, uint64_t kind,
							 uint64_t now)
{
	struct vtimer_anomaly *a = &c->res->anomaly;

	if (a->kind)
		return;
	a->tsc = now;
	a->programmed = c->programmed;
	a->prev_programmed = c->prev_programmed;
	a->program_tsc = c->program_tsc;
	a->prev_irq = c->res->live.last_irq;	/* not yet this one's */
	a->stale_owed = c->stale;
	a->interrupts = c->res->c.interrupts - 1;
	a->kind = kind;
}

/* The LAPIC timer vector (entry.S: timer_entry). */
void timer_interrupt(void)
{
	struct cpu *c = this_cpu();
	uint64_t now;

	apic_eoi(c);	/* first: PV EOI works only before any exit (pv/pv_eoi.c) */
	now = rdtsc();
	c->res->c.interrupts++;
	/*
	 * One stale interrupt is owed per replaced deadline that had passed (a
	 * count, not a flag: two can be in flight; tests/models/lazy.pml
	 * -DGUEST_STALE_FLAG).
	 */
	if (c->lapic_mode == VTIMER_LAPIC_PERIODIC) {
		/* the periodic tick: nothing is programmed per deadline */
	} else if (c->programmed && now >= c->programmed) {
		c->programmed = 0;	/* a fired deadline is disarmed (SDM 11.5.4.1) */
	} else if (c->stale) {
		/*
		 * A replaced deadline's. Ours should still be armed, but a replaced
		 * deadline's interrupt can also never come (the write cancelled it
		 * in time), leaving the count one too high: then this could be our
		 * own interrupt, delivered a hair early by the LAPIC (stock KVM's
		 * lapic_timer_advance). Program ours again rather than trust the
		 * count: one extra write, never a lost timer. Not with the PV page
		 * on: that host injects only a `pending` value that has passed
		 * (pv-abi.md 5.2), so this is not ours and ours is still the
		 * host's (tests/models/lazy.pml checks never_lost with no
		 * re-program); there it would only be one more deadline, stored
		 * near its time, so often through the MSR.
		 */
		c->stale--;
		c->res->c.stale++;
		c->force_program = !c->pv;
	} else if (!c->programmed) {
		/* nothing armed, nothing owed: a second interrupt for one deadline */
		c->res->c.unexpected++;
		note_anomaly(c, VTIMER_ANOMALY_UNEXPECTED, now);
	} else {
		c->res->c.early++;
		note_anomaly(c, VTIMER_ANOMALY_EARLY, now);
		c->programmed = 0;
	}
	c->res->live.last_irq = now;
	timer_expire(now);
}

static void tick_fn(struct ktimer *t, uint64_t now)
{
	uint64_t next = t->deadline + tick_cycles;

	/* The tick workload's samples: each tick's lateness. */
	if (boot->workload == VTIMER_WL_TICK) {
		struct cpu *c = this_cpu();
		uint64_t n = c->res->nr_samples;

		/* counted past the row too (the host clamps): the task waits on it */
		if (n < boot->samples_per_cpu)
			c->samples[n] = (int64_t)(now - t->deadline);
		c->res->nr_samples = n + 1;
	}

	timer_add(t, next > now ? next : now + tick_cycles);
}

/* nohz: the tick runs while the CPU is busy and stops while it idles. */
void tick_start(void)
{
	struct cpu *c = this_cpu();
	uint64_t p = tick_cycles, now;

	/* In periodic LAPIC mode the hardware tick is the tick. */
	if (!p || c->tick_on || c->lapic_mode == VTIMER_LAPIC_PERIODIC)
		return;
	now = rdtsc();
	c->tick_on = true;
	c->tick.fn = tick_fn;
	/*
	 * The tick tolerates lateness (Linux gives timers slack the same way):
	 * an eighth of a period lets a PV guest hand a tick restarted just
	 * ahead of now to the host's next scan instead of exiting for it.
	 */
	c->tick.slack = p / 8;
	timer_add(&c->tick, now - now % p + p);
}

void tick_stop(void)
{
	struct cpu *c = this_cpu();

	if (!c->tick_on)
		return;
	c->tick_on = false;
	timer_del(&c->tick);
}

/*
 * Idle entry and exit. From idle_begin() (or earlier: the sleep that leads
 * to it sets c->idle_entry before arming its timer) a deadline write owed
 * may wait for the idle loop's halt, which makes it as one idle look
 * (pv/pv.c); idle_end() makes any still owed before the CPU runs on.
 * Interrupts are off in the kernel, so only the handlers taken inside the
 * loop's halts see c->idle_entry set, and they return into the loop.
 */
void idle_begin(void)
{
	this_cpu()->idle_entry = true;
	tick_stop();
}

void idle_end(void)
{
	this_cpu()->idle_entry = false;
	clockevent_flush();
	tick_start();
}

void idle_wait(volatile bool *cond)
{
	idle_begin();
	while (!*cond)
		khalt();
	idle_end();
}
