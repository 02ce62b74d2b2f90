// SPDX-License-Identifier: MIT
/*
 * Workload tasks, run at CPL3 (native speed on PVM). Each writes its samples
 * (guest TSC cycles of lateness, negative = early) into its row of the
 * host-visible sample table and leaves with SYS_EXIT(status).
 */
#include "user.h"

/*
 * The first deadline: an interval from now, or with a phase (vtimer bench
 * gives every mode of one repeat the same), the first point at least that
 * far ahead that lies phase past a grid point of the nohz tick (of the
 * interval without a tick). Where the tick falls against the periods
 * decides whether it fires in the moment between a wake-up and the next
 * sleep, one more interrupt every few periods; a shared phase makes that
 * the same draw for every mode compared.
 */
static uint64_t cyclic_first(uint64_t interval)
{
	int has = boot->phase_ns != VTIMER_PHASE_NONE;

	return vtimer_phase_first(rdtsc(), interval,
				  boot->tick_ns ? ns_to_tsc(boot->tick_ns) : interval,
				  has ? ns_to_tsc(boot->phase_ns) : 0, has);
}

/*
 * cyclictest: sleep to absolute deadlines every interval, record
 * wake - deadline; one stretch of n periods, samples from index *i on.
 * With irq, also when the interrupt that woke it came (abi.h,
 * VTIMER_NO_IRQ_SAMPLE): the split of the wake-up between the delivery
 * and the guest's path to the task.
 */
static void cyclic_run(struct vtimer_result *res, int64_t *samples, uint32_t n, uint32_t *i,
		       int64_t *irq)
{
	uint64_t interval = ns_to_tsc(boot->interval_ns);
	uint64_t next = cyclic_first(interval);

	for (uint32_t k = 0; k < n; k++, (*i)++) {
		uint64_t last;

		sys(SYS_SLEEP_UNTIL, next, 0, 0);
		samples[*i] = (int64_t)(rdtsc() - next);
		if (irq) {
			last = *(volatile uint64_t *)&res->live.last_irq;
			irq[*i] = last >= next ? (int64_t)(last - next) : VTIMER_NO_IRQ_SAMPLE;
		}
		res->nr_samples = *i + 1;
		res->c.events++;
		next += interval;
	}
}

long cyclic_main(struct vtimer_result *res, int64_t *samples)
{
	uint32_t i = 0;

	cyclic_run(res, samples, boot->count, &i, samples + boot->count);
	return 0;
}

/* tscdeadline_latency: the kernel handler samples; the task waits. */
long latency_main(struct vtimer_result *res, int64_t *samples)
{
	(void)samples;
	sys(SYS_LATENCY, boot->count, ns_to_tsc(boot->interval_ns), boot->wait);
	while (*(volatile uint64_t *)&res->nr_samples < boot->count)
		__asm__ volatile("pause");
	return 0;
}

/*
 * One masked window: LVTT masked, a deadline armed delta ahead; count LAPIC
 * timer interrupts from delta/2 until two deltas past the deadline. Starting
 * at delta/2 leaves out an interrupt that was already on its way when the
 * mask went on (legitimate: it was raised before the mask).
 */
static long masked_window(struct vtimer_result *res, uint64_t delta)
{
	volatile uint64_t *irqs = &res->c.interrupts;
	uint64_t d = sys(SYS_MASK_TEST, delta, 0, 0), before;

	while (rdtsc() < d - delta / 2)
		__asm__ volatile("pause");
	before = *irqs;
	while (rdtsc() < d + 2 * delta)
		__asm__ volatile("pause");
	before = *irqs - before;
	sys(SYS_MASK_TEST, 0, 0, 0);
	return before;
}

/* Masked LVTT: nothing may arrive; samples hold the interrupts seen per window. */
long masked_main(struct vtimer_result *res, int64_t *samples)
{
	uint64_t delta = ns_to_tsc(boot->interval_ns);
	long bad = 0;

	for (uint32_t i = 0; i < boot->count; i++) {
		long seen = masked_window(res, delta);

		samples[i] = seen;
		res->nr_samples = i + 1;
		res->c.events++;
		bad += seen != 0;
	}
	return bad;
}

/*
 * Every timer must still arrive, never early, while the guest changes how it
 * programs the timer under the host: PV page off, on again, LVTT one-shot,
 * back to TSC-deadline; then LVTT masked windows must deliver nothing.
 */
long switch_main(struct vtimer_result *res, int64_t *samples)
{
	static const long steps[][2] = {
		{ -1, 0 }, { SYS_PV, 0 }, { SYS_PV, 1 },
		{ SYS_LAPIC_MODE, VTIMER_LAPIC_ONESHOT }, { SYS_LAPIC_MODE, VTIMER_LAPIC_DEADLINE },
	};
	uint32_t per = boot->count / 5, i = 0;
	uint64_t delta = ns_to_tsc(boot->interval_ns);
	long bad = 0;

	for (int s = 0; s < 5; s++) {
		if (steps[s][0] > 0)
			sys(steps[s][0], steps[s][1], 0, 0);
		cyclic_run(res, samples, s == 4 ? boot->count - 4 * per : per, &i, NULL);
	}
	for (int k = 0; k < 3; k++)
		bad += masked_window(res, delta) != 0;
	return bad;
}

/* The enable MSR's rules, then timers must still work on the re-enabled page. */
long abi_main(struct vtimer_result *res, int64_t *samples)
{
	long bad = sys(SYS_PV_ABI, 0, 0, 0);
	uint32_t i = 0;

	cyclic_run(res, samples, boot->count, &i, NULL);
	return bad;
}

/*
 * Hostile: every vCPU at once attacks every input the guest controls
 * (kernel/hostile.c), waits three intervals with interrupts not judged (the
 * guest scrambled its own timer), then must run a full cyclic stretch with
 * every timer delivered. Fails (status 2) if the #GP count differs from
 * what the host's rules promise (kernel/hostile.c).
 */
long hostile_main(struct vtimer_result *res, int64_t *samples)
{
	long gp = sys(SYS_HOSTILE, 1, 0, 0);
	uint32_t i = 0;

	sys(SYS_SLEEP_UNTIL, rdtsc() + 3 * ns_to_tsc(boot->interval_ns), 0, 0);
	sys(SYS_HOSTILE, 0, 0, 0);
	cyclic_run(res, samples, boot->count, &i, NULL);
	return gp < 0 ? 2 : 0;
}

/*
 * rr (kernel/rr.c): even CPUs are clients, odd ones servers. A client's
 * samples are round-trip times (TSC cycles), its transactions the count
 * completed; the server's last reply arms no retransmit timer (nothing
 * acknowledges it).
 */
long rr_main(struct vtimer_result *res, int64_t *samples)
{
	bool client = !(*(volatile uint32_t *)&res->cpu & 1);

	for (uint32_t i = 1; i <= boot->count; i++) {
		if (client) {
			uint64_t t0 = rdtsc();

			if (sys(SYS_RR_SEND, i, 1, 0) < 0 || sys(SYS_RR_RECV, i, 0, 0) < 0)
				return 3;	/* no peer: an odd CPU count */
			samples[i - 1] = (int64_t)(rdtsc() - t0);
			res->nr_samples = i;
			res->c.transactions++;
		} else if (sys(SYS_RR_RECV, i, 0, 0) < 0 || sys(SYS_RR_SEND, i, i < boot->count, 0) < 0) {
			return 3;
		}
		res->c.events++;
	}
	return 0;
}

/*
 * tick: per event, one tick period asleep (nohz: the tick stops, only the
 * sleep timer is armed; waking restarts it on its grid), then busy at CPL3
 * for at least a period and until a tick has run (its lateness is sampled,
 * kernel/timer.c): one or two ticks per event however late the host runs
 * the guest, so the host sizes the sample row at 2 x count. Needs --tick.
 */
long tick_main(struct vtimer_result *res, int64_t *samples)
{
	volatile uint64_t *ticks = &res->nr_samples;
	uint64_t p = tick_cycles;

	(void)samples;
	if (!p)
		return 4;
	for (uint32_t i = 0; i < boot->count; i++) {
		uint64_t end, before;

		sys(SYS_SLEEP_UNTIL, rdtsc() + p, 0, 0);
		end = rdtsc() + p;
		before = *ticks;
		while (rdtsc() < end || *ticks == before)
			__asm__ volatile("pause");
		res->c.events++;
	}
	return 0;
}

/*
 * A redis-like work unit at CPL3: 16 SETs or GETs on a 1024-slot
 * open-addressing table with xorshift keys. Returns a checksum so the
 * compiler keeps the work.
 */
static volatile uint64_t work_sink;

static uint64_t work_unit(uint64_t *table, uint64_t *rng)
{
	uint64_t sum = 0;

	for (int k = 0; k < 16; k++) {
		uint64_t x = *rng;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		*rng = x;
		for (uint32_t h = x & 1023, probe = 0; probe < 8; probe++, h = (h + 1) & 1023) {
			if (x & 1) {		/* SET */
				if (!table[h] || table[h] == (x | 1)) {
					table[h] = x | 1;
					break;
				}
			} else if (table[h] == (x | 1)) {	/* GET */
				sum += h;
				break;
			}
		}
	}
	return sum;
}

/*
 * throughput: CPL3 work units while the kernel runs a timer load (the
 * latency workload's handler re-arming every interval, samples its
 * lateness); stops when the timer load has run count events.
 */
long throughput_main(struct vtimer_result *res, int64_t *samples)
{
	static uint64_t tables[VTIMER_MAX_VCPUS][1024];
	uint64_t *table = tables[*(volatile uint32_t *)&res->cpu % VTIMER_MAX_VCPUS];
	uint64_t rng = 0x9e3779b97f4a7c15ULL ^ res->cpu, sum = 0;

	(void)samples;
	sys(SYS_LATENCY, boot->count, ns_to_tsc(boot->interval_ns), VTIMER_WAIT_BUSY);
	while (*(volatile uint64_t *)&res->nr_samples < boot->count) {
		sum += work_unit(table, &rng);
		res->c.work_units++;
	}
	work_sink = sum;	/* keeps the GETs */
	return 0;
}

/* Crash: the BSP triple-faults; the others sleep until the host ends the run. */
long crash_main(struct vtimer_result *res, int64_t *samples)
{
	(void)res;
	(void)samples;
	if (boot->nr_cpus && *(volatile uint32_t *)&res->cpu == 0)
		sys(SYS_CRASH, 0, 0, 0);
	for (;;)
		sys(SYS_SLEEP_UNTIL, rdtsc() + ns_to_tsc(boot->interval_ns), 0, 0);
	return 1;
}

void workload_main(uint64_t cpu)
{
	struct vtimer_result *res = (struct vtimer_result *)boot->results_gpa + cpu;
	int64_t *samples = (int64_t *)boot->samples_gpa + cpu * boot->samples_per_cpu;
	long status;

	switch (boot->workload) {
	case VTIMER_WL_CYCLIC:
		status = cyclic_main(res, samples);
		break;
	case VTIMER_WL_LATENCY:
		status = latency_main(res, samples);
		break;
	case VTIMER_WL_MASKED:
		status = masked_main(res, samples);
		break;
	case VTIMER_WL_SWITCH:
		status = switch_main(res, samples);
		break;
	case VTIMER_WL_ABI:
		status = abi_main(res, samples);
		break;
	case VTIMER_WL_HOSTILE:
		status = hostile_main(res, samples);
		break;
	case VTIMER_WL_CRASH:
		status = crash_main(res, samples);
		break;
	case VTIMER_WL_RR:
		status = rr_main(res, samples);
		break;
	case VTIMER_WL_TICK:
		status = tick_main(res, samples);
		break;
	case VTIMER_WL_THROUGHPUT:
		status = throughput_main(res, samples);
		break;
	default:
		status = 127;
	}
	sys(SYS_EXIT, status, 0, 0);
	for (;;)
		;
}
