// SPDX-License-Identifier: MIT
/*
 * Checks src/timer/tsc.c, the time bases of the timer engine: guest TSC =
 * host TSC * guest_khz / host_khz + offset. The development host has offset 0
 * and no TSC scaling, so these tests are the only check of a non-zero offset
 * and of a ratio: guest -> host must never come out earlier than the exact
 * value (so no interrupt is early), and a round trip host -> guest -> host
 * must be exact with ratio 1 and within one host cycle otherwise. Host TSC <->
 * CLOCK_MONOTONIC is checked against exact arithmetic. Tolerance: none beyond
 * the stated cycle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
static void test_mono_now_relative(void **state)
{
	struct tsc_conv c = { .tsc0 = 0, .mono0 = 0 };
	uint64_t t, m;

	c.host_khz = c.guest_khz = tsc_calibrate_khz(20);
	assert_in_range(c.host_khz, 100000, 10000000);	/* 0.1 to 10 GHz */
	t = rdtsc() + c.host_khz;			/* 1 ms ahead */
	m = host_tsc_to_mono_now(&c, t) - now_ns();
	assert_in_range(m, 900000, 1100000);
	m = now_ns() + 1000000;
	t = mono_to_host_tsc_now(&c, m) - rdtsc();
	assert_in_range(t, c.host_khz * 9 / 10, c.host_khz * 11 / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offset_only),
		cmocka_unit_test(test_ratio_never_early),
		cmocka_unit_test(test_mono),
		cmocka_unit_test(test_mono_now_relative),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
