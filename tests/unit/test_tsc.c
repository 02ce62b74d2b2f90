// SPDX-License-Identifier: MIT
/*
 * Checks src/timer/tsc.c, the time bases of the timer engine: guest TSC =
 * host TSC * guest_khz / host_khz + offset. The development host has offset 0
 * and no TSC scaling, so these tests are the only check of a non-zero offset
 * and of a ratio: guest -> host must never come out earlier than the exact
 * value (so no interrupt is early), and a round trip host -> guest -> host
 * must be exact with ratio 1 and within one host cycle otherwise. Host TSC <->
 * CLOCK_MONOTONIC is checked against exact arithmetic. At the edges (0, 1,
 * 2^63 - 1, 2^63, 2^63 + 1, ~0) with offsets of both signs and ratios both
 * ways, every conversion saturates to the exact value clamped to
 * [0, 2^64 - 1] and never wraps: a guest deadline of ~0 never comes out in
 * the past. Tolerance: none beyond the stated cycle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "timer/tsc.h"
#include "util.h"

static void test_offset_only(void **state)
{
	struct tsc_conv c = { .offset = -123456789, .guest_khz = 2600000, .host_khz = 2600000 };

	assert_int_equal(host_to_guest_tsc(&c, 1000000000ULL), 1000000000ULL - 123456789);
	assert_int_equal(guest_to_host_tsc(&c, 1000000000ULL - 123456789), 1000000000ULL);
	c.offset = 5000000000LL;
	for (uint64_t h = 0; h < 10000000000ULL; h += 999999937ULL)
		assert_int_equal(guest_to_host_tsc(&c, host_to_guest_tsc(&c, h)), h);
}

static void test_ratio_never_early(void **state)
{
	/* guest 1.5x the host rate, and a slower guest */
	const uint64_t khz[][2] = { { 3900000, 2600000 }, { 1000000, 2596122 } };

	for (int k = 0; k < 2; k++) {
		struct tsc_conv c = { .offset = 777, .guest_khz = khz[k][0], .host_khz = khz[k][1] };

		for (uint64_t g = 1000; g < 100000000000ULL; g = g * 3 + 17) {
			uint64_t h = guest_to_host_tsc(&c, g);

			/* the host deadline maps back to the guest deadline or later */
			assert_true(host_to_guest_tsc(&c, h) >= g);
			/* and one host cycle earlier would be early */
			if (h)
				assert_true(host_to_guest_tsc(&c, h - 1) <= g);
		}
	}
}

static void test_mono(void **state)
{
	struct tsc_conv c = { .guest_khz = 2600000, .host_khz = 2600000,
			      .tsc0 = 1000000, .mono0 = 5000000000ULL };

	/* 2.6 cycles per ns */
	assert_int_equal(host_tsc_to_mono(&c, 1000000 + 2600000), 5000000000ULL + 1000000);
	assert_int_equal(mono_to_host_tsc(&c, 5000000000ULL + 1000000), 1000000 + 2600000);
	/* before the reference pair */
	assert_int_equal(host_tsc_to_mono(&c, 1000000 - 2600), 5000000000ULL - 1000);
	assert_int_equal(ns_to_guest_cycles(&c, 1000), 2600);
}

/*
 * The _now conversions use a fresh (TSC, monotonic) pair: a reference pair
 * from "boot" (0, 0) must not matter. 1 ms of TSC ahead is 1 ms of monotonic
 * time ahead, within 10% (two clock reads apart, on a loaded host).
 */
/*
 * The "now"-relative conversions, against our own reading of the clocks
 * bracketing the call, with the same rate: whatever the calibration's error
 * e, the two differ by at most e times the time elapsed around the call (plus
 * 50 us of clock reads). Holds on a loaded or sanitized run, where a bound
 * in absolute time would not.
 */
static void test_mono_now_relative(void **state)
{
	struct tsc_conv c = { .tsc0 = 0, .mono0 = 0 };
	int64_t t0, tsc0, after, want, got;

	c.host_khz = c.guest_khz = tsc_calibrate_khz(20);
	assert_in_range(c.host_khz, 100000, 10000000);	/* 0.1 to 10 GHz */
	t0 = now_ns();
	tsc0 = rdtsc();
	got = host_tsc_to_mono_now(&c, tsc0 + c.host_khz);	/* 1 ms after tsc0 */
	after = now_ns();
	want = t0 + 1000000;
	assert_in_range(llabs(got - want), 0, (after - t0) / 5 + 50000);
	t0 = now_ns();
	tsc0 = rdtsc();
	got = mono_to_host_tsc_now(&c, t0 + 1000000) - tsc0;
	after = now_ns();
	want = c.host_khz;
	assert_in_range(llabs(got - want), 0, ((after - t0) / 5 + 50000) * c.host_khz / 1000000);
}

static const uint64_t edges[] = {
	0, 1, (1ULL << 63) - 1, 1ULL << 63, (1ULL << 63) + 1, UINT64_MAX - 1, UINT64_MAX,
};

static const struct tsc_conv convs[] = {
	{ .offset = 0, .guest_khz = 2600000, .host_khz = 2600000 },
	{ .offset = -(1LL << 40), .guest_khz = 2600000, .host_khz = 2600000 },
	{ .offset = 1LL << 40, .guest_khz = 2600000, .host_khz = 2600000 },
	{ .offset = INT64_MIN, .guest_khz = 3900000, .host_khz = 2600000 },
	{ .offset = INT64_MAX, .guest_khz = 1000000, .host_khz = 2596122 },
	{ .offset = -777, .guest_khz = 3900000, .host_khz = 2600000 },
};

static uint64_t clamp(__int128 v)
{
	return v < 0 ? 0 : v > (__int128)UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static void test_edges_saturate(void **state)
{
	for (size_t k = 0; k < sizeof(convs) / sizeof(convs[0]); k++) {
		const struct tsc_conv *c = &convs[k];

		for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
			uint64_t x = edges[i];
			unsigned __int128 gk = c->guest_khz, hk = c->host_khz;
			__int128 d = (__int128)x - c->offset;
			__int128 h = d <= 0 ? 0 : (__int128)(((unsigned __int128)d * hk + gk - 1) / gk);
			__int128 g = (__int128)((unsigned __int128)x * gk / hk) + c->offset;

			assert_true(guest_to_host_tsc(c, x) == clamp(h));
			assert_true(host_to_guest_tsc(c, x) == clamp(g));
			/* never early: the host deadline maps back at or after the guest's */
			if (guest_to_host_tsc(c, x) < UINT64_MAX)
				assert_true(host_to_guest_tsc(c, guest_to_host_tsc(c, x)) >= x ||
					    host_to_guest_tsc(c, guest_to_host_tsc(c, x)) == UINT64_MAX);
		}
		/* a later guest deadline never converts to an earlier host one */
		for (size_t i = 1; i < sizeof(edges) / sizeof(edges[0]); i++)
			assert_true(guest_to_host_tsc(c, edges[i]) >= guest_to_host_tsc(c, edges[i - 1]));
	}
}

/* The case of the finding: guest ~0 with the usual negative offset used to wrap to 2^40 - 1. */
static void test_never_stays_far(void **state)
{
	struct tsc_conv c = { .offset = -(1LL << 40), .guest_khz = 2600000, .host_khz = 2600000,
			      .tsc0 = 1ULL << 40, .mono0 = 5000000000ULL };

	assert_true(guest_to_host_tsc(&c, UINT64_MAX) == UINT64_MAX);
	assert_true(host_tsc_to_mono(&c, UINT64_MAX) > c.mono0);
	assert_true(tsc_is_never(UINT64_MAX, host_to_guest_tsc(&c, c.tsc0)));
	assert_true(tsc_is_never((1ULL << 63) + 1, 1000));
	assert_false(tsc_is_never((1ULL << 62) + 1000, 1000));	/* exactly the horizon */
	assert_false(tsc_is_never(5, 1000));			/* past: due, not never */
	assert_false(tsc_is_never(1000 + 2600000ULL * 3600 * 1000, 1000));	/* an hour */
}

static void test_mono_edges(void **state)
{
	const uint64_t khz[] = { 1000, 2600000, 4000000000ULL };

	for (size_t k = 0; k < 3; k++) {
		struct tsc_conv c = { .guest_khz = khz[k], .host_khz = khz[k],
				      .tsc0 = 123456789, .mono0 = 5000000000ULL };

		for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
			uint64_t x = edges[i];
			__int128 m = (__int128)c.mono0 +
				((__int128)x - (__int128)c.tsc0) * 1000000 / (__int128)khz[k];
			__int128 t = (__int128)c.tsc0 +
				((__int128)x - (__int128)c.mono0) * (__int128)khz[k] / 1000000;

			assert_true(host_tsc_to_mono(&c, x) == clamp(m));
			assert_true(mono_to_host_tsc(&c, x) == clamp(t));
		}
		assert_true(host_tsc_to_mono(&c, UINT64_MAX) > c.mono0);
		assert_true(host_tsc_to_mono(&c, 0) < c.mono0);
		assert_true(ns_to_guest_cycles(&c, UINT64_MAX) ==
			    clamp((__int128)((unsigned __int128)UINT64_MAX * khz[k] / 1000000)));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offset_only),
		cmocka_unit_test(test_ratio_never_early),
		cmocka_unit_test(test_mono),
		cmocka_unit_test(test_mono_now_relative),
		cmocka_unit_test(test_edges_saturate),
		cmocka_unit_test(test_never_stays_far),
		cmocka_unit_test(test_mono_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
