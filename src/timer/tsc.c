// SPDX-License-Identifier: MIT
#include <stdbool.h>
#include <time.h>

#include "tsc.h"
#include "../util.h"

/*
 * The host <-> monotonic conversions saturate to [0, 2^64 - 1] instead of
 * wrapping: a time before 0 is 0, one past 2^64 - 1 is 2^64 - 1. Guest TSC
 * values wrap, as the guest's own TSC does (tsc.h).
 */
static uint64_t sat(__int128 v)
{
	if (v < 0)
		return 0;
	return v > (__int128)UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

/*
 * a * b / d, unsaturated; d != 0, a < 2^65 and b < 2^63 so the product fits
 * in 128 bits (b is a clock rate in kHz or 10^6, far below that).
 */
static __int128 muldiv(unsigned __int128 a, uint64_t b, uint64_t d, bool round_up)
{
	unsigned __int128 p = a * b;

	return (__int128)(p / d + (round_up && p % d));
}

static bool ratio_one(const struct tsc_conv *c)
{
	return c->guest_khz == c->host_khz || !c->guest_khz || !c->host_khz;
}

/* guest = host * guest_khz / host_khz + offset, modulo 2^64 as in KVM. */
uint64_t host_to_guest_tsc(const struct tsc_conv *c, uint64_t host)
{
	uint64_t g = ratio_one(c) ? host : (uint64_t)muldiv(host, c->guest_khz, c->host_khz, false);

	return g + (uint64_t)c->offset;
}

uint64_t guest_deadline_to_host(const struct tsc_conv *c, uint64_t deadline, uint64_t host_now)
{
	uint64_t g = host_to_guest_tsc(c, host_now), d;

	if (deadline <= g)
		return host_now;
	d = deadline - g;
	if (d > TSC_NEVER_CYCLES)
		return TSC_HOST_NEVER;
	return sat((__int128)host_now +
		   (ratio_one(c) ? (__int128)d : muldiv(d, c->host_khz, c->guest_khz, true)));
}

/* base + (x - x0) * num / den, the difference signed, truncated, saturated. */
static uint64_t rebase(uint64_t x, uint64_t x0, uint64_t base, uint64_t num, uint64_t den)
{
	if (x >= x0)
		return sat(base + muldiv(x - x0, num, den, false));
	return sat(base - muldiv(x0 - x, num, den, false));
}

uint64_t host_tsc_to_mono(const struct tsc_conv *c, uint64_t host)
{
	return rebase(host, c->tsc0, c->mono0, 1000000, c->host_khz ? c->host_khz : 1);
}

uint64_t mono_to_host_tsc(const struct tsc_conv *c, uint64_t mono)
{
	return rebase(mono, c->mono0, c->tsc0, c->host_khz, 1000000);
}

/*
 * A (host TSC, CLOCK_MONOTONIC) pair read together: the clock between two
 * TSC reads, paired with the later one. The TSC at the clock read lies
 * between them, so the pair's error is at most their gap and always one
 * way: a monotonic time converts to a host TSC no earlier than the true one
 * (a published scan horizon is never earlier than the scan: tsc.h), and a
 * host TSC to a monotonic time no later (a wake-up is never late for it).
 * A gap over TSC_PAIR_GAP_NS (the thread was preempted between the reads)
 * is read again, TSC_PAIR_TRIES times at most; then the narrowest is kept.
 */
static struct tsc_conv now_pair(const struct tsc_conv *c)
{
	/* host_khz only: the housekeeping thread calls this without the vCPU's
	 * lock, and the offset may change under it (a guest TSC write) */
	struct tsc_conv n = { .host_khz = c->host_khz }, best = n;
	uint64_t cap = c->host_khz * TSC_PAIR_GAP_NS / 1000000, gap = UINT64_MAX;

	for (int i = 0; i < TSC_PAIR_TRIES && gap > cap; i++) {
		uint64_t t1 = rdtsc();

		n.mono0 = now_ns();
		n.tsc0 = rdtsc();
		if (n.tsc0 - t1 < gap) {
			gap = n.tsc0 - t1;
			best = n;
		}
	}
	return best;
}

uint64_t host_tsc_to_mono_now(const struct tsc_conv *c, uint64_t host)
{
	struct tsc_conv n = now_pair(c);

	return host_tsc_to_mono(&n, host);
}

uint64_t mono_to_host_tsc_now(const struct tsc_conv *c, uint64_t mono)
{
	struct tsc_conv n = now_pair(c);

	return mono_to_host_tsc(&n, mono);
}

uint64_t ns_to_guest_cycles(const struct tsc_conv *c, uint64_t ns)
{
	return sat(muldiv(ns, c->guest_khz, 1000000, false));
}

uint64_t tsc_calibrate_khz(unsigned int ms)
{
	uint64_t t0 = rdtsc(), m0 = now_ns(), t1, m1;
	struct timespec ts = { 0, (long)ms * 1000000 };

	nanosleep(&ts, NULL);
	t1 = rdtsc();
	m1 = now_ns();
	return (uint64_t)((unsigned __int128)(t1 - t0) * 1000000 / (m1 - m0));
}
