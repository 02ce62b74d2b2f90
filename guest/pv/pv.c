// SPDX-License-Identifier: MIT
/*
 * Guest side of the vtimer PV timer interface (docs/pv-abi.md): discovery by
 * CPUID (read at CPL0: on PVM hosts CPL3 sees the outer host's leaves), the
 * per-CPU page, and the one rule that decides whether a deadline needs the
 * TSC-deadline MSR (an exit) or the page is enough:
 *
 *   exit unless  DIRECT
 *            or  LAZY    and armed != 0 and D >= armed      (host re-arms at pending)
 *            or  HORIZON and horizon != 0 and D + slack >= horizon + margin
 *                                            (the scanner finds it in time)
 * where slack is how late this deadline may fire (0 except for the tick).
 *
 * msr, lazy, pv, hybrid and direct are feature combinations of that rule,
 * not separate code paths.
 */
#include "../kernel/kernel.h"
#include "vtimer/pv.h"

static uint8_t pages[VTIMER_MAX_VCPUS][4096] __attribute__((aligned(4096)));
static uint32_t offered, pv_msr;

static const char *names(uint32_t f)
{
	switch (f & ~VTIMER_F_IDLE) {
	case VTIMER_F_LAZY: return "lazy";
	case VTIMER_F_HORIZON: return "pv (horizon)";
	case VTIMER_F_LAZY | VTIMER_F_HORIZON: return "hybrid (lazy + horizon)";
	case VTIMER_F_DIRECT: return "direct";
	}
	return "?";
}

/* BSP: read the CPUID leaves once; every CPU then enables its own page. */
void pv_discover(void)
{
	uint32_t r[4];

	cpuid(VTIMER_CPUID_SIGNATURE, 0, r);
	if (r[0] < VTIMER_CPUID_FEATURES || r[1] != VTIMER_SIG_EBX || r[2] != VTIMER_SIG_ECX ||
	    r[3] != VTIMER_SIG_EDX) {
		if (this_cpu()->id == 0)
			printk("vtimer guest: no PV timer interface: plain TSC-deadline MSR writes\n");
		return;
	}
	cpuid(VTIMER_CPUID_FEATURES, 0, r);
	if (r[2] != VTIMER_PV_VERSION || !(r[0] & VTIMER_F_ALL)) {
		if (this_cpu()->id == 0)
			printk("vtimer guest: PV timer layout %u unsupported: plain MSR writes\n",
			       r[2]);
		return;
	}
	offered = r[0] & VTIMER_F_ALL;
	pv_msr = r[1];
	if (this_cpu()->id == 0)
		printk("vtimer guest: PV timer %s%s\n", names(offered),
		       offered & VTIMER_F_IDLE ? ", idle look" : "");
}

bool pv_enable(void)
{
	struct cpu *c = this_cpu();
	struct vtimer_pv_page *p = (struct vtimer_pv_page *)pages[c->id];

	if (!offered)
		return false;
	p->pending = 0;
	p->lvtt = c->lvtt;
	kwrmsr(pv_msr, (uint64_t)p | VTIMER_PV_ENABLE);
	c->res->c.other_msr_writes++;
	if (*(volatile uint32_t *)&p->version != VTIMER_PV_VERSION)
		return false;
	c->pv = p;
	c->pv_features = p->features & offered;
	return true;
}

void pv_disable(void)
{
	struct cpu *c = this_cpu();

	if (!c->pv)
		return;
	kwrmsr(pv_msr, 0);
	c->res->c.other_msr_writes++;
	c->pv = NULL;
	c->pv_features = 0;
}

/*
 * Returns PV_PAGE if the page is enough, PV_OWED if the deadline has to go
 * through the MSR too (the caller writes it at once, or on the way to idle
 * as the idle look: pv-abi.md 4.1); the MSR
 * must then carry the value stored in `pending`, kept in c->pv_prev (pv-abi.md,
 * guest rule): the host records the MSR's value as seen, and would find a
 * different `pending` new at its next scan and interrupt again. With
 * may_refuse it applies the kernel's due rule (kernel/timer.c, run_due) as
 * the last thing before the store, and stores nothing for a due deadline.
 */
enum pv_decision pv_program(struct cpu *c, uint64_t d, uint64_t slack, bool may_refuse)
{
	struct vtimer_pv_page *p = c->pv;
	uint32_t f = c->pv_features;
	uint64_t armed, horizon;

	if (d) {
		/* The host acts on changes of pending: a deadline equal to the
		 * last one stored must differ to be seen (one cycle later is
		 * harmless; never wrapped to 0, which means stop). */
		d += d == c->pv_prev && ~d;
		if (may_refuse && d <= rdtsc() + c->due_margin)
			return PV_REFUSED;
		c->pv_prev = d;
	}
	*(volatile uint64_t *)&p->pending = d;
	__asm__ volatile("mfence" ::: "memory");	/* pending visible before we look */
	if (!d || (f & VTIMER_F_DIRECT))
		goto no_exit;
	/* A deadline that fell due since the due rule's check still exits:
	 * the host may have served this value before and would not look at it
	 * again (pv-abi.md, guest rule). On the way to idle the exit may be
	 * the idle look, which saves the hlt's (pv-abi.md 4.1). */
	if (d <= rdtsc()) {
		c->res->c.pv_exit_passed++;
		return PV_OWED;
	}
	armed = *(volatile uint64_t *)&p->armed;
	horizon = *(volatile uint64_t *)&p->horizon;
	if ((f & VTIMER_F_LAZY) && armed && d >= armed)
		goto no_exit;
	/* A deadline that may fire `slack` late only needs the scan by d + slack. */
	if ((f & VTIMER_F_HORIZON) && horizon && d + slack >= horizon + p->margin)
		goto no_exit;
	/* for the far-exit check: the value decided on (the passed-deadline
	 * exit above needs none: it cannot be far) */
	c->pv_horizon = horizon;
	if (horizon)
		c->res->c.pv_exit_near++;
	return PV_OWED;
no_exit:
	if (d)
		c->res->c.pv_writes++;
	return PV_PAGE;
}

/*
 * The idle look (pv-abi.md 4.1): the CPU owes the MSR the deadline in
 * `pending` (kernel/clockevent.c deferred it, c->pv_owed) and is about to
 * halt. One wrmsr of the idle MSR makes the host take `pending` as written
 * to the MSR and halt the vCPU: one exit for the write and the hlt. Counted
 * as the write it replaces (in pv_exit_near or pv_exit_passed already), and
 * as an op of its own kind (a wrmsr the VMM handles), not as a TSC-deadline
 * write or a hlt.
 */
void pv_idle_look(struct cpu *c)
{
	c->pv_owed = false;
	c->res->c.pv_idle_looks++;
	if (c->measuring) {
		c->res->c.op_wrmsr_other++;
		c->res->c.op_user++;
	}
	safe_idle_look(VTIMER_IDLE_MSR(pv_msr));
}

/*
 * entry.S: an interrupt came between the idle look's sti and its wrmsr (a
 * host that broke sti's shadow) and resumes after it: the look was not made,
 * so the write is owed again, unless the handler re-programs meanwhile.
 */
void look_shadow_broken(void)
{
	struct cpu *c = this_cpu();

	c->res->c.halt_shadow_breaks++;
	c->pv_owed = true;
	c->res->c.pv_idle_looks--;
	if (c->measuring && c->res->c.op_user) {
		c->res->c.op_wrmsr_other--;
		c->res->c.op_user--;
	}
}

#ifdef GUEST_HOSTED
/* tests/guest/: a fresh boot for each simulated run */
void pv_reset(void)
{
	offered = 0;
	pv_msr = 0;
}
#endif

bool pv_offered(void)
{
	return offered != 0;
}

uint32_t pv_msr_index(void)
{
	return offered ? pv_msr : MSR_VTIMER_PV;
}

uint64_t pv_page_gpa(uint32_t cpu)
{
	return (uint64_t)pages[cpu < VTIMER_MAX_VCPUS ? cpu : 0];
}

/*
 * The enable MSR must follow KVM's PV MSR conventions (docs/pv-abi.md):
 * reserved bits, a missing enable bit or a page outside RAM raise #GP and
 * change nothing; 0 disables; a valid value enables. Without the interface
 * the MSR does not exist and every write raises #GP. Returns failed checks.
 */
long pv_abi_check(void)
{
	struct cpu *c = this_cpu();
	uint64_t page = (uint64_t)pages[c->id], ram = boot->mem_size;
	uint32_t msr = offered ? pv_msr : MSR_VTIMER_PV;
	const struct { uint64_t val; int gp; } cases[] = {
		{ page | VTIMER_PV_ENABLE | 0x2, 1 },		/* reserved bit 1 */
		{ page | VTIMER_PV_ENABLE | 0x800, 1 },	/* reserved bit 11 */
		{ page, 1 },					/* no enable bit */
		{ (ram & ~0xfffULL) | VTIMER_PV_ENABLE, 1 },	/* page beyond RAM */
		{ (1ULL << 52) | VTIMER_PV_ENABLE, 1 },	/* far beyond RAM */
		{ 0, 0 },					/* disable */
		{ page | VTIMER_PV_ENABLE, 0 },		/* enable */
	};
	long bad = 0;

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int want = offered ? cases[i].gp : 1;

		if (wrmsr_safe(msr, cases[i].val) != want)
			bad++;
	}
	/*
	 * The idle MSR (pv-abi.md 4.1): any value but 0 raises #GP, and so
	 * does 0 without an enabled page (with one, 0 would halt this CPU,
	 * which has IF = 0 here: not tried). Left enabled, as above.
	 */
	if (offered & VTIMER_F_IDLE) {
		bad += wrmsr_safe(VTIMER_IDLE_MSR(msr), 1) != 1;
		bad += wrmsr_safe(msr, 0) != 0;
		bad += wrmsr_safe(VTIMER_IDLE_MSR(msr), 0) != 1;
		bad += wrmsr_safe(msr, page | VTIMER_PV_ENABLE) != 0;
	}
	if (offered) {
		struct vtimer_pv_page *p = (struct vtimer_pv_page *)page;

		if (*(volatile uint32_t *)&p->version != VTIMER_PV_VERSION)
			bad++;
		c->pv = p;	/* the last case left it enabled */
		c->pv_features = p->features & offered;
		p->lvtt = c->lvtt;
	}
	return bad;
}
