// SPDX-License-Identifier: MIT
#include <time.h>

#include "tsc.h"
#include "../util.h"

/* guest = host * guest_khz / host_khz + offset, in 128-bit arithmetic. */
uint64_t host_to_guest_tsc(const struct tsc_conv *c, uint64_t host)
{
	unsigned __int128 g = (unsigned __int128)host * c->guest_khz / c->host_khz;

	return (uint64_t)g + (uint64_t)c->offset;
}

/* The inverse, rounded up so a converted deadline is never before the guest's. */
uint64_t guest_to_host_tsc(const struct tsc_conv *c, uint64_t guest)
{
	unsigned __int128 d = (uint64_t)(guest - (uint64_t)c->offset);

	if (c->guest_khz == c->host_khz)
		return (uint64_t)d;
	return (uint64_t)((d * c->host_khz + c->guest_khz - 1) / c->guest_khz);
}

uint64_t host_tsc_to_mono(const struct tsc_conv *c, uint64_t host)
{
	int64_t d = (int64_t)(host - c->tsc0);

	return c->mono0 + (int64_t)((__int128)d * 1000000 / (__int128)c->host_khz);
}

uint64_t mono_to_host_tsc(const struct tsc_conv *c, uint64_t mono)
{
	int64_t d = (int64_t)(mono - c->mono0);

	return c->tsc0 + (int64_t)((__int128)d * (__int128)c->host_khz / 1000000);
}

uint64_t host_tsc_to_mono_now(const struct tsc_conv *c, uint64_t host)
{
	struct tsc_conv n = *c;

	n.tsc0 = rdtsc();
	n.mono0 = now_ns();
	return host_tsc_to_mono(&n, host);
}

uint64_t mono_to_host_tsc_now(const struct tsc_conv *c, uint64_t mono)
{
	struct tsc_conv n = *c;

	n.tsc0 = rdtsc();
	n.mono0 = now_ns();
	return mono_to_host_tsc(&n, mono);
}

uint64_t ns_to_guest_cycles(const struct tsc_conv *c, uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * c->guest_khz / 1000000);
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
