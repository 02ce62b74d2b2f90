// SPDX-License-Identifier: MIT
/*
 * Checks src/timer/tsc.c, the time bases of the timer engine: guest TSC =
 * host TSC * guest_khz / host_khz + offset, modulo 2^64 as KVM computes it.
 * The development host has offset 0 and no TSC scaling, so these tests are
 * the only check of a non-zero offset and of a ratio: a deadline converted
 * to host time must never come out earlier than the exact value (so no
 * interrupt is early), and a round trip host -> guest -> host must be exact
 * with ratio 1 and the earliest host cycle otherwise. At the edges (0, 1,
 * 2^63 - 1, 2^63, 2^63 + 1, ~0), for deadlines and for the host's now, with
 * offsets of both signs and ratios both ways, a deadline is due at once when
 * the guest TSC has reached it (unsigned, the hardware rule), "never" past
 * the 2^62 horizon, and otherwise falls exactly its distance ahead: however
 * near 2^64 the guest has set its TSC, nothing comes out in the past. Host
 * TSC <-> CLOCK_MONOTONIC saturates to [0, 2^64 - 1], checked against exact
 * arithmetic. Tolerance: none beyond the stated cycle.
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
	assert_int_equal(guest_deadline_to_host(&c, 1000000000ULL - 123456789, 999000000ULL),
			 1000000000ULL);
	c.offset = 5000000000LL;
	for (uint64_t h = 0; h < 10000000000ULL; h += 999999937ULL)
		assert_int_equal(guest_deadline_to_host(&c, host_to_guest_tsc(&c, h), h / 2), h);
}

static void test_ratio_never_early(void **state)
{
	/* guest 1.5x the host rate, and a slower guest */
	const uint64_t khz[][2] = { { 3900000, 2600000 }, { 1000000, 2596122 } };

	for (int k = 0; k < 2; k++) {
		struct tsc_conv c = { .offset = 777, .guest_khz = khz[k][0], .host_khz = khz[k][1] };

		for (uint64_t g = 1000; g < 100000000000ULL; g = g * 3 + 17) {
			uint64_t h = guest_deadline_to_host(&c, g, 0);

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

/* Every deadline edge at every host "now" edge, under every conversion. */
static void test_edges(void **state)
{
	for (size_t k = 0; k < sizeof(convs) / sizeof(convs[0]); k++) {
		const struct tsc_conv *c = &convs[k];
		unsigned __int128 gk = c->guest_khz, hk = c->host_khz;

		for (size_t n = 0; n < sizeof(edges) / sizeof(edges[0]); n++) {
			uint64_t now = edges[n];
			uint64_t g = (uint64_t)(now * gk / hk) + (uint64_t)c->offset;	/* mod 2^64 */

			assert_true(host_to_guest_tsc(c, now) == g);
			for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
				uint64_t x = edges[i], h = guest_deadline_to_host(c, x, now);

				if (x <= g) {
					assert_true(h == now);			/* due at once */
				} else if (x - g > TSC_NEVER_CYCLES) {
					assert_true(h == TSC_HOST_NEVER);
					assert_true(tsc_is_never(x, g));
				} else {
					/* exactly its distance ahead, rounded up: never early */
					assert_true(h == clamp((__int128)now +
						(__int128)(((x - g) * hk + gk - 1) / gk)));
					assert_false(tsc_is_never(x, g));
				}
			}
		}
	}
}

/* The case of the finding: guest ~0 with the usual negative offset used to wrap to 2^40 - 1. */
static void test_never_stays_far(void **state)
{
	struct tsc_conv c = { .offset = -(1LL << 40), .guest_khz = 2600000, .host_khz = 2600000,
			      .tsc0 = 1ULL << 40, .mono0 = 5000000000ULL };

	assert_true(guest_deadline_to_host(&c, UINT64_MAX, c.tsc0) == TSC_HOST_NEVER);
	assert_true(host_tsc_to_mono(&c, UINT64_MAX) > c.mono0);
	assert_true(tsc_is_never(UINT64_MAX, host_to_guest_tsc(&c, c.tsc0)));
	assert_true(tsc_is_never((1ULL << 63) + 1, 1000));
	assert_false(tsc_is_never((1ULL << 62) + 1000, 1000));	/* exactly the horizon */
	assert_false(tsc_is_never(5, 1000));			/* past: due, not never */
	assert_false(tsc_is_never(1000 + 2600000ULL * 3600 * 1000, 1000));	/* an hour */
}

/*
 * A guest that set its TSC 1000 cycles short of 2^64 (IA32_TSC): before the
 * wrap, a deadline that wrapped to a small value is already due (TSC >=
 * deadline), and ~0 falls 999 cycles ahead; after the wrap its TSC reads
 * small again, and a deadline 500 cycles on is 500 cycles ahead, not due.
 * (Conversions that saturated read the wrapped TSC as 2^64 - 1: that
 * deadline came out due at once, an early interrupt.)
 */
static void test_guest_tsc_wraps(void **state)
{
	const uint64_t h0 = 1ULL << 40;
	struct tsc_conv c = { .offset = (int64_t)(0 - 1000 - h0), .guest_khz = 2600000,
			      .host_khz = 2600000 };

	assert_true(host_to_guest_tsc(&c, h0) == UINT64_MAX - 999);
	assert_true(guest_deadline_to_host(&c, 500, h0) == h0);
	assert_true(guest_deadline_to_host(&c, UINT64_MAX, h0) == h0 + 999);
	assert_true(host_to_guest_tsc(&c, h0 + 2000) == 1000);
	assert_true(guest_deadline_to_host(&c, 1500, h0 + 2000) == h0 + 2500);
	assert_true(guest_deadline_to_host(&c, UINT64_MAX, h0 + 2000) == TSC_HOST_NEVER);
	c.guest_khz = 3900000;	/* and with a ratio: 500 guest cycles are 334 host ones */
	c.offset = (int64_t)(1000 - (uint64_t)(h0 * 3 / 2));
	assert_true(host_to_guest_tsc(&c, h0) == 1000);
	assert_true(guest_deadline_to_host(&c, 1500, h0) == h0 + 334);
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
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_guest_tsc_wraps),
		cmocka_unit_test(test_never_stays_far),
		cmocka_unit_test(test_mono_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
