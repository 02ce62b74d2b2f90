// SPDX-License-Identifier: MIT
/*
 * rr, netperf TCP_RR's timer pattern: CPUs 2k and 2k+1 exchange request and
 * response through shared memory and wake each other by IPI. Each send arms
 * a retransmit timer VTIMER_RR_RTO_NS ahead (or pushes it later: mod_timer),
 * and the peer's next message, which acknowledges it, cancels it. Waiting
 * for the peer idles the CPU in hlt, and idle stops the nohz tick and
 * restarts it on the tick grid (kernel/timer.c): the re-arm-before-expiry
 * pattern behind the lazy series' TCP_RR figures.
 */
#include "kernel.h"

static volatile uint64_t rr_slot[VTIMER_MAX_VCPUS];	/* the last sequence each CPU sent */

static void send_wake(struct cpu *c)
{
	const struct vtimer_result *peer = (const struct vtimer_result *)boot->results_gpa + c->rr_peer;

	/* fixed delivery, physical destination, edge: x2APIC ICR (SDM 11.12.9) */
	kwrmsr(MSR_X2APIC_ICR, ((uint64_t)peer->apic_id << 32) | VEC_IPI);
}

/* No reply in time: count it and wake the peer again, as a retransmission. */
static void rto_fn(struct ktimer *t, uint64_t now)
{
	struct cpu *c = this_cpu();

	c->res->c.retransmits++;
	send_wake(c);
	timer_add(t, now + VTIMER_RR_RTO_NS * boot->tsc_khz / 1000000);
}

static bool peer_ok(struct cpu *c)
{
	c->rr_peer = c->id ^ 1;
	return c->rr_peer < boot->nr_cpus;
}

long rr_send(uint64_t seq, bool arm)
{
	struct cpu *c = this_cpu();

	if (!peer_ok(c))
		return -1;
	__atomic_store_n(&rr_slot[c->id], seq, __ATOMIC_RELEASE);
	if (arm) {
		c->rto.fn = rto_fn;
		timer_add(&c->rto, rdtsc() + VTIMER_RR_RTO_NS * boot->tsc_khz / 1000000);
	} else {
		timer_del(&c->rto);
	}
	send_wake(c);
	return 0;
}

/* Waits for the peer's message seq; it acknowledges ours, so the retransmit timer goes. */
long rr_recv(uint64_t seq)
{
	struct cpu *c = this_cpu();

	if (!peer_ok(c))
		return -1;
	if (__atomic_load_n(&rr_slot[c->rr_peer], __ATOMIC_ACQUIRE) != seq) {
		idle_begin();
		while (__atomic_load_n(&rr_slot[c->rr_peer], __ATOMIC_ACQUIRE) != seq)
			khalt();
		idle_end();
	}
	timer_del(&c->rto);
	return 0;
}

void ipi_interrupt(void)
{
	struct cpu *c = this_cpu();

	apic_eoi(c);
	c->res->c.ipis++;
}
