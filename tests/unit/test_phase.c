// SPDX-License-Identifier: MIT
/*
 * Checks vtimer_phase_first (include/vtimer/abi.h), the cyclic workload's
 * first deadline: without a phase it is now + interval; with one it is the
 * earliest point at or after now + interval that lies `phase` past a
 * multiple of the grid, so less than a grid later, and a phase of a grid or
 * more wraps. Tolerance: none, all exact (TSC cycles).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vtimer/abi.h"

static void test_no_phase(void **state)
{
	(void)state;
	assert_int_equal(vtimer_phase_first(1234, 1000, 4000, 500, 0), 2234);
	/* no grid: nothing to align to */
	assert_int_equal(vtimer_phase_first(1234, 1000, 0, 500, 1), 2234);
}

static void test_aligned(void **state)
{
	(void)state;
	/* now + interval = 2234; the grid's points 0, 4000, ...; 500 past one */
	assert_int_equal(vtimer_phase_first(1234, 1000, 4000, 500, 1), 4500);
	/* already past 4500 + 0: the next one */
	assert_int_equal(vtimer_phase_first(3600, 1000, 4000, 500, 1), 8500);
	/* exactly on it: taken */
	assert_int_equal(vtimer_phase_first(3500, 1000, 4000, 500, 1), 4500);
	/* phase 0: on a grid point */
	assert_int_equal(vtimer_phase_first(1234, 1000, 4000, 0, 1), 4000);
	/* a phase of a grid or more wraps */
	assert_int_equal(vtimer_phase_first(1234, 1000, 4000, 4500, 1), 4500);
}

static void test_properties(void **state)
{
	(void)state;
	for (uint64_t now = 0; now < 20000; now += 37)
		for (uint64_t phase = 0; phase < 4000; phase += 251) {
			uint64_t t = vtimer_phase_first(now, 1000, 4000, phase, 1);

			if (t < now + 1000 || t >= now + 1000 + 4000 || t % 4000 != phase)
				fail_msg("now %llu phase %llu: first deadline %llu",
					 (unsigned long long)now, (unsigned long long)phase,
					 (unsigned long long)t);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_phase),
		cmocka_unit_test(test_aligned),
		cmocka_unit_test(test_properties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
