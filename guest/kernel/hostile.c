// SPDX-License-Identifier: MIT
/*
 * The hostile workload's kernel side (SYS_HOSTILE). Every vCPU, at once,
 * writes adversarial values to every input the guest controls while its
 * timers are live:
 *   - the TSC-deadline MSR: 0, 1, past, now, ~0, 2^63 - 1, 2^63, 2^63 + 1;
 *   - every field of its PV page, whole and torn (32-bit halves), host-owned
 *     fields included, with MSR exits in between so the host reads them;
 *   - the PV enable MSR: beyond RAM, the APIC's MMIO page, reserved bits (an
 *     unaligned address), no enable bit, another vCPU's page, and an
 *     enable/disable storm;
 *   - LVTT: every mode, mask on and off, another vector, a periodic timer
 *     with the smallest count (a timer storm KVM must floor);
 *   - the boot record (the guest runs on its own copy, kernel/main.c), its
 *     result record and its ucall slot;
 *   - its own TSC: IA32_TSC and IA32_TSC_ADJUST, with a timer live across
 *     them and one armed across the wrap at 2^64.
 * Each group is one bit of the boot record's `attacks` (--attack), so that
 * every case can be tried alone. Then it puts everything back. Attempts and #GPs are counted in the result
 * record; interrupts from the attack to the end of a grace sleep are not
 * judged early or unexpected (the guest itself scrambled what it
 * programmed): hostile(0) moves them to hostile_irqs. The workload then runs
 * cyclic and the tests check every timer.
 */
#include "kernel.h"

static void attempt(struct cpu *c, uint32_t msr, uint64_t val)
{
	c->res->c.hostile_writes++;
	if (wrmsr_safe(msr, val))
		c->res->c.hostile_gp++;
}

static void deadline_attack(struct cpu *c)
{
	uint64_t now = rdtsc();
	const uint64_t vals[] = {
		0, 1, now - 1000, now, ~0ULL, (1ULL << 63) - 1, 1ULL << 63, (1ULL << 63) + 1,
		now + boot->tsc_khz / 10, 0,
	};

	for (unsigned int i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		attempt(c, MSR_TSC_DEADLINE, vals[i]);
}

/*
 * A store into the page's 32-bit word w: the LVTT mirror never names vector
 * 16-31 (delivered, as the APIC does, but onto this kernel's exception
 * gates) or 0xff (the spurious gate, which does not acknowledge); it moves
 * them to 48-63 and 0xfe. Vectors 0-15, which the host refuses, are kept.
 */
static uint32_t page_word(unsigned int w, uint32_t v)
{
	uint32_t vec = v & 0xff;

	if (w != offsetof(struct vtimer_pv_page, lvtt) / 4)
		return v;
	if (vec >= 16 && vec < 32)
		return v | 0x20;
	return vec == 0xff ? v - 1 : v;
}

/* Whole and torn stores of edge values into every field of the page. */
static void page_attack(struct cpu *c, struct vtimer_pv_page *p)
{
	uint64_t now = rdtsc();
	const uint64_t vals[] = {
		~0ULL, 0, 1, now, now - 1, now + 1000, (1ULL << 63) + 1, 0x8000000000000000ULL,
		now + boot->tsc_khz, 0xdeadbeefcafef00dULL,
	};
	volatile uint32_t *words = (volatile uint32_t *)p;

	for (unsigned int i = 0; i < 64; i++) {
		uint64_t v = vals[i % (sizeof(vals) / sizeof(vals[0]))];
		unsigned int w = (i * 7) % (sizeof(*p) / 4);

		if (i & 1) {
			words[w] = page_word(w, (uint32_t)v);		/* torn: low half, */
			attempt(c, MSR_TSC_DEADLINE, now + 1000000 + i);	/* host reads, */
			words[w ^ 1] = page_word(w ^ 1, (uint32_t)(v >> 32));	/* then the high */
		} else {
			unsigned int lo = w & ~1u;

			v ^= (uint64_t)i << 40;
			*(volatile uint64_t *)&words[lo] = page_word(lo, (uint32_t)v) |
				(uint64_t)page_word(lo + 1, (uint32_t)(v >> 32)) << 32;
		}
		c->res->c.hostile_writes++;
	}
	attempt(c, MSR_TSC_DEADLINE, ~0ULL);
	*(volatile uint64_t *)&p->pending = ~0ULL;
	attempt(c, MSR_TSC_DEADLINE, 0);
}

static void enable_attack(struct cpu *c, uint32_t msr, uint64_t own)
{
	const uint64_t vals[] = {
		(boot->mem_size & ~0xfffULL) | VTIMER_PV_ENABLE,	/* beyond RAM */
		0xfee00000ULL | VTIMER_PV_ENABLE,			/* the APIC's MMIO page */
		(own + 8) | VTIMER_PV_ENABLE,				/* unaligned: reserved bits */
		own | 0x800 | VTIMER_PV_ENABLE,				/* reserved bit 11 */
		own,							/* no enable bit */
		(1ULL << 52) | VTIMER_PV_ENABLE,			/* far beyond RAM */
		~0ULL,
	};

	for (unsigned int i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		attempt(c, msr, vals[i]);
	for (int i = 0; i < 50; i++) {			/* enable/disable storm */
		attempt(c, msr, own | VTIMER_PV_ENABLE);
		attempt(c, msr, 0);
	}
	/* The idle MSR (pv-abi.md 4.1), page now disabled: 0 and any other value #GP. */
	attempt(c, VTIMER_IDLE_MSR(msr), 0);
	attempt(c, VTIMER_IDLE_MSR(msr), 1);
	attempt(c, VTIMER_IDLE_MSR(msr), ~0ULL);
}

static void lvtt_attack(struct cpu *c)
{
	const uint32_t lvtt[] = {
		LVTT_ONESHOT | VEC_TIMER, LVTT_PERIODIC | VEC_TIMER,
		LVTT_TSCDEADLINE | VEC_TIMER | LVT_MASKED, LVTT_TSCDEADLINE | VEC_WAKE,
		LVTT_PERIODIC | VEC_TIMER | LVT_MASKED, LVTT_TSCDEADLINE | VEC_TIMER,
	};

	for (unsigned int i = 0; i < sizeof(lvtt) / sizeof(lvtt[0]); i++) {
		attempt(c, MSR_X2APIC_LVTT, lvtt[i]);
		if (c->pv)
			*(volatile uint32_t *)&c->pv->lvtt = lvtt[i] ^ (i << 8);	/* a lying mirror */
		attempt(c, MSR_X2APIC_TMICT, 1);	/* the smallest count: a storm */
		attempt(c, MSR_TSC_DEADLINE, rdtsc() + 1);
		for (int k = 0; k < 20; k++)
			cpu_relax();
	}
	attempt(c, MSR_X2APIC_TMICT, 0);
}

/*
 * The guest's own clock, with timers live: IA32_TSC to 1 ms short of 2^64
 * (the timer armed before is then behind the clock: due at once, as on
 * hardware), a deadline across the wrap (a small value: due at once) and ~0
 * (now 1 ms ahead, not never), IA32_TSC to 0 and 2^63, IA32_TSC_ADJUST by
 * +-2^62 and to 2^63. Writing IA32_TSC_ADJUST back to its first value then
 * puts the TSC back on its own timeline, since every IA32_TSC write moved
 * IA32_TSC_ADJUST by the same amount (SDM 17.17.3; KVM does the same). KVM
 * always offers IA32_TSC_ADJUST (CPUID.7.0:EBX[1]); without it the attack
 * is not tried, as it could not be undone. 10 writes, none may #GP.
 */
static void tsc_attack(struct cpu *c)
{
	uint64_t khz = boot->tsc_khz, a0;
	uint32_t r[4];

	cpuid(7, 0, r);
	if (!(r[1] & (1u << 1)))
		return;
	a0 = rdmsr(MSR_IA32_TSC_ADJUST);
	attempt(c, MSR_TSC_DEADLINE, rdtsc() + khz);
	attempt(c, MSR_IA32_TSC, ~0ULL - khz);
	attempt(c, MSR_TSC_DEADLINE, rdtsc() + 2 * khz);
	attempt(c, MSR_TSC_DEADLINE, ~0ULL);
	attempt(c, MSR_IA32_TSC, 0);
	attempt(c, MSR_IA32_TSC, 1ULL << 63);
	attempt(c, MSR_IA32_TSC_ADJUST, a0 + (1ULL << 62));
	attempt(c, MSR_IA32_TSC_ADJUST, a0 - (1ULL << 62));
	attempt(c, MSR_IA32_TSC_ADJUST, 1ULL << 63);
	attempt(c, MSR_IA32_TSC_ADJUST, a0);
}

/* Garbage in the shared records; the own result record is put back (IF = 0). */
static void record_attack(struct cpu *c)
{
	struct vtimer_result saved = *c->res;
	volatile uint64_t *b = (volatile uint64_t *)VTIMER_GPA_BOOT;
	volatile uint64_t *r = (volatile uint64_t *)c->res;

	for (unsigned int i = 0; i < sizeof(struct vtimer_boot) / 8; i++)
		b[i] = ~0ULL - i;
	for (unsigned int i = 0; i < sizeof(struct vtimer_result) / 8; i++)
		r[i] = 0x7fffffffffffffffULL - i;
	*c->res = saved;
	c->ucall->version = ~0u;
	c->ucall->cmd = ~0u;
	c->res->c.hostile_writes += 3;
}

/* All CPUs meet here (IF = 0, so only spinning): generation-counted. */
static void barrier(void)
{
	static volatile uint32_t arrived, generation;
	uint32_t gen = generation;

	if (__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST) == boot->nr_cpus) {
		arrived = 0;
		__atomic_add_fetch(&generation, 1, __ATOMIC_SEQ_CST);
	} else {
		while (generation == gen)
			cpu_relax();
	}
}

/* Each CPU's counters as the attack began (hostile() below). */
static struct vtimer_counters before[VTIMER_MAX_VCPUS];
static struct vtimer_anomaly anomaly_before[VTIMER_MAX_VCPUS];

/*
 * Returns the #GPs taken, or -1 if they differ from what the host's rules
 * fix exactly: with the PV interface offered, the 7 refused enable values
 * and another vCPU's page (8); without it, every write of the enable MSR
 * (7 + 100 + 1 = 108); in both, the 3 idle-MSR writes. With one vCPU there
 * is no other page to name. Only the enable attack takes #GPs.
 */
long hostile(long on)
{
	struct cpu *c = this_cpu();
	uint32_t msr = pv_msr_index();
	uint64_t own = pv_page_gpa(c->id);
	uint64_t other = pv_page_gpa((c->id + 1) % boot->nr_cpus);
	bool had_pv = c->pv != NULL, ok;
	uint32_t a = boot->attacks;
	uint64_t want = a & VTIMER_ATTACK_ENABLE ?
			(pv_offered() ? 7 : 107) + 3 + (boot->nr_cpus > 1) : 0;

	if (!on) {
		/*
		 * The grace sleep is over. The guest scrambled its own timer, so
		 * the interrupts since the attack began are not judged: they move
		 * to hostile_irqs, and what they did to the early, unexpected and
		 * stale counts is undone. No cost on the interrupt path.
		 */
		struct vtimer_counters *r = &c->res->c, *b = &before[c->id];

		r->hostile_irqs += r->interrupts - b->interrupts;
		r->interrupts = b->interrupts;
		r->early = b->early;
		r->unexpected = b->unexpected;
		r->stale = b->stale;
		c->res->anomaly = anomaly_before[c->id];	/* and the record of the first */
		c->stale = 0;
		return 0;
	}
	before[c->id] = c->res->c;
	anomaly_before[c->id] = c->res->anomaly;
	if (a & VTIMER_ATTACK_DEADLINE)
		deadline_attack(c);
	if ((a & VTIMER_ATTACK_PAGE) && c->pv)
		page_attack(c, c->pv);
	if (a & VTIMER_ATTACK_ENABLE)
		enable_attack(c, msr, own);
	if (a & VTIMER_ATTACK_LVTT)
		lvtt_attack(c);
	if (a & VTIMER_ATTACK_RECORDS)
		record_attack(c);
	if (a & VTIMER_ATTACK_TSC)
		tsc_attack(c);

	/* Put things back: no timer armed, the page re-enabled, LVTT as booted. */
	c->pv = NULL;
	c->pv_features = 0;
	kwrmsr(MSR_TSC_DEADLINE, 0);
	c->res->c.msr_writes++;	/* a kernel write, not an attack: counted as the clockevent's */
	kwrmsr(MSR_X2APIC_TMICT, 0);
	ok = !had_pv || pv_enable();	/* no early return: the others wait below */
	c->programmed = 0;
	clockevent_set_mode(c->lapic_mode);
	/* Every page is enabled again: naming another vCPU's must #GP. */
	barrier();
	if (boot->nr_cpus > 1 && (a & VTIMER_ATTACK_ENABLE))
		attempt(c, msr, other | VTIMER_PV_ENABLE);
	barrier();
	return ok && c->res->c.hostile_gp == want ? (long)want : -1;
}
