// SPDX-License-Identifier: MIT
/*
 * Checks src/bench/stats.c: nearest-rank percentiles on known arrays,
 * including every whole p for n up to 1000 against integer ceil(p * n / 100),
 * stats_compute on unsorted and empty input, and tsc_to_ns conversion.
 * Tolerance: none. Integer results must match exactly; the average is
 * compared exactly too, as every expected value is representable in a double.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bench/stats.h"

static void test_percentile_empty(void **state)
{
	assert_int_equal(stats_percentile(NULL, 0, 50), 0);
	assert_int_equal(stats_percentile(NULL, 0, 99), 0);
}

static void test_percentile_one(void **state)
{
	const int64_t v[] = { 42 };

	assert_int_equal(stats_percentile(v, 1, 0.1), 42);
	assert_int_equal(stats_percentile(v, 1, 50), 42);
	assert_int_equal(stats_percentile(v, 1, 99), 42);
	assert_int_equal(stats_percentile(v, 1, 100), 42);
}

static void test_percentile_hundred(void **state)
{
	int64_t v[100];

	for (int i = 0; i < 100; i++)
		v[i] = (i + 1) * 10;	/* v[k-1] is the k-th value */
	assert_int_equal(stats_percentile(v, 100, 99), 990);
	assert_int_equal(stats_percentile(v, 100, 50), 500);
	assert_int_equal(stats_percentile(v, 100, 1), 10);
	assert_int_equal(stats_percentile(v, 100, 100), 1000);
	assert_int_equal(stats_percentile(v, 100, 99.5), 1000);
	assert_int_equal(stats_percentile(v, 100, 0), 10);	/* clamped to rank 1 */
}

static void test_percentile_even_n(void **state)
{
	const int64_t v[] = { 1, 2, 3, 4 };
	const int64_t w[] = { 5, 6, 7, 8, 9, 10 };

	/* nearest rank: ceil(0.5 * 4) = 2, the lower middle, not an average */
	assert_int_equal(stats_percentile(v, 4, 50), 2);
	assert_int_equal(stats_percentile(w, 6, 50), 7);
	assert_int_equal(stats_percentile(v, 4, 51), 3);
	assert_int_equal(stats_percentile(v, 4, 99), 4);
}

static void test_percentile_float_rank(void **state)
{
	int64_t v[100];

	for (int i = 0; i < 100; i++)
		v[i] = i + 1;
	/* 7/100.0 * 100 is 7.000000000000001 in doubles: must still be rank 7 */
	assert_int_equal(stats_percentile(v, 100, 7), 7);
	assert_int_equal(stats_percentile(v, 100, 14), 14);
	assert_int_equal(stats_percentile(v, 100, 29), 29);
	assert_int_equal(stats_percentile(v, 100, 57), 57);
}

static void test_percentile_whole_p_sweep(void **state)
{
	enum { N = 1000 };
	static int64_t v[N];

	for (int i = 0; i < N; i++)
		v[i] = i + 1;
	/* rank = ceil(p * n / 100) in integers, for every whole p and n */
	for (size_t n = 1; n <= N; n++)
		for (int p = 1; p <= 100; p++) {
			int64_t want = (int64_t)((p * n + 99) / 100);

			if (stats_percentile(v, n, p) != want)
				fail_msg("p=%d n=%zu: got %lld want %lld", p, n,
					 (long long)stats_percentile(v, n, p), (long long)want);
		}
}

static void test_percentile_odd_n(void **state)
{
	const int64_t v[] = { 1, 2, 3, 4, 5 };

	assert_int_equal(stats_percentile(v, 5, 50), 3);
	assert_int_equal(stats_percentile(v, 5, 99), 5);
}

static void test_percentile_negative(void **state)
{
	const int64_t v[] = { -300, -200, -100, 0, 100 };

	assert_true(stats_percentile(v, 5, 20) == -300);
	assert_true(stats_percentile(v, 5, 50) == -100);
	assert_true(stats_percentile(v, 5, 99) == 100);
}

static void test_compute_unsorted(void **state)
{
	int64_t v[] = { 50, -7, 1000, 3, 3, 20, 11, 0 };
	struct lat_stats st;

	stats_compute(v, 8, &st);
	assert_int_equal(st.n, 8);
	assert_true(st.min == -7);
	assert_int_equal(st.max, 1000);
	/* sum 1080 / 8 */
	assert_true(st.avg == 135.0);
	/* sorted: -7 0 3 3 11 20 50 1000; p50 rank 4, p99 rank 8 */
	assert_int_equal(st.p50, 3);
	assert_int_equal(st.p99, 1000);
	/* sorted in place */
	for (int i = 1; i < 8; i++)
		assert_true(v[i - 1] <= v[i]);
}

static void test_compute_all_negative(void **state)
{
	int64_t v[] = { -5, -1, -3 };
	struct lat_stats st;

	stats_compute(v, 3, &st);
	assert_true(st.min == -5);
	assert_true(st.max == -1);
	assert_true(st.avg == -3.0);
	assert_true(st.p50 == -3);
}

static void test_compute_fractional_avg(void **state)
{
	int64_t v[] = { 2, 1 };
	struct lat_stats st;

	stats_compute(v, 2, &st);
	assert_true(st.avg == 1.5);
	assert_int_equal(st.p50, 1);
	assert_int_equal(st.p99, 2);
}

static void test_compute_empty(void **state)
{
	struct lat_stats st = { .n = 9, .min = 1, .max = 2, .p50 = 3, .p99 = 4, .avg = 5 };

	stats_compute(NULL, 0, &st);
	assert_int_equal(st.n, 0);
	assert_int_equal(st.min, 0);
	assert_int_equal(st.max, 0);
	assert_int_equal(st.p50, 0);
	assert_int_equal(st.p99, 0);
	assert_true(st.avg == 0.0);
}

static void test_compute_large_values(void **state)
{
	int64_t v[] = { INT64_MAX, INT64_MAX, INT64_MAX };
	struct lat_stats st;

	/* the sum overflows int64_t; the long double accumulator must not */
	stats_compute(v, 3, &st);
	assert_true(st.max == INT64_MAX);
	assert_true(st.avg > 9.2e18);
}

static void test_tsc_exact_2600mhz(void **state)
{
	assert_int_equal(tsc_to_ns(2600, 2600000), 1000);
	assert_int_equal(tsc_to_ns(2600000, 2600000), 1000000);
	assert_int_equal(tsc_to_ns(0, 2600000), 0);
	assert_int_equal(tsc_to_ns(2599, 2600000), 999);	/* truncates */
}

static void test_tsc_exact_odd_khz(void **state)
{
	/* 2,596,122 kHz: one second of cycles is exactly 1e9 ns */
	assert_int_equal(tsc_to_ns(2596122000LL, 2596122), 1000000000);
	assert_int_equal(tsc_to_ns(2596122, 2596122), 1000000);
	/* 10000 * 1e6 / 2596122 = 3851.8... */
	assert_int_equal(tsc_to_ns(10000, 2596122), 3851);
}

static void test_tsc_negative(void **state)
{
	assert_true(tsc_to_ns(-2600, 2600000) == -1000);
	assert_true(tsc_to_ns(-2596122, 2596122) == -1000000);
}

static void test_tsc_large_no_overflow(void **state)
{
	/* 1e15 * 1e6 = 1e21 overflows 64 bits; 128-bit must get it exact */
	assert_int_equal(tsc_to_ns(1000000000000000LL, 2600000), 384615384615384LL);
	assert_int_equal(tsc_to_ns(2600000000000000LL, 2600000), 1000000000000000LL);
	assert_true(tsc_to_ns(-2600000000000000LL, 2600000) == -1000000000000000LL);
	/* INT64_MAX cycles at 1 GHz: 9223372036854775807 ns */
	assert_true(tsc_to_ns(INT64_MAX, 1000000) == INT64_MAX);
}

static void test_tsc_zero_khz(void **state)
{
	assert_int_equal(tsc_to_ns(12345, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile_empty),
		cmocka_unit_test(test_percentile_one),
		cmocka_unit_test(test_percentile_hundred),
		cmocka_unit_test(test_percentile_even_n),
		cmocka_unit_test(test_percentile_float_rank),
		cmocka_unit_test(test_percentile_whole_p_sweep),
		cmocka_unit_test(test_percentile_odd_n),
		cmocka_unit_test(test_percentile_negative),
		cmocka_unit_test(test_compute_unsorted),
		cmocka_unit_test(test_compute_all_negative),
		cmocka_unit_test(test_compute_fractional_avg),
		cmocka_unit_test(test_compute_empty),
		cmocka_unit_test(test_compute_large_values),
		cmocka_unit_test(test_tsc_exact_2600mhz),
		cmocka_unit_test(test_tsc_exact_odd_khz),
		cmocka_unit_test(test_tsc_negative),
		cmocka_unit_test(test_tsc_large_no_overflow),
		cmocka_unit_test(test_tsc_zero_khz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
