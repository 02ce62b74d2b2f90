// SPDX-License-Identifier: MIT
/*
 * Checks parse_u64 and parse_share (src/cli/args.c): decimal values inside [lo, hi] are
 * accepted and stored, bounds are inclusive, and junk, signs, whitespace,
 * empty strings and values past 2^64 - 1 are refused without touching *out.
 * Tolerance: none, all exact. Refusals print one line on stderr.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/cli.h"

#define UNTOUCHED 0xdeadbeefULL

static int parse(const char *s, unsigned long long lo, unsigned long long hi,
		 unsigned long long *out)
{
	*out = UNTOUCHED;
	return parse_u64("test", s, lo, hi, out);
}

static void refused(const char *s, unsigned long long lo, unsigned long long hi)
{
	unsigned long long v;

	if (parse(s, lo, hi, &v) != -1)
		fail_msg("\"%s\" in [%llu, %llu] accepted as %llu", s, lo, hi, v);
	assert_int_equal(v, UNTOUCHED);
}

static void test_plain(void **state)
{
	unsigned long long v;

	assert_int_equal(parse("42", 1, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse("007", 1, 100, &v), 0);
	assert_int_equal(v, 7);
}

static void test_bounds_inclusive(void **state)
{
	unsigned long long v;

	assert_int_equal(parse("1", 1, 64, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(parse("64", 1, 64, &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(parse("0", 0, 1000000, &v), 0);
	assert_int_equal(v, 0);
	refused("0", 1, 64);
	refused("65", 1, 64);
	refused("9", 10, 10000000);
	refused("10000001", 10, 10000000);
}

static void test_full_range(void **state)
{
	unsigned long long v;

	assert_int_equal(parse("18446744073709551615", 0, ULLONG_MAX, &v), 0);
	assert_true(v == ULLONG_MAX);
}

static void test_overflow(void **state)
{
	refused("18446744073709551616", 0, ULLONG_MAX);
	refused("99999999999999999999999", 0, ULLONG_MAX);
	refused("18446744073709551616", 1, 64);
}

static void test_junk(void **state)
{
	refused("abc", 0, 100);
	refused("12abc", 0, 100);
	refused("1.5", 0, 100);
	refused("0x10", 0, 100);
	refused("1e3", 0, 10000);
	refused("5 ", 0, 100);
}

static void test_empty(void **state)
{
	refused("", 0, 100);
}

static void test_negative(void **state)
{
	refused("-1", 0, 100);
	refused("-0", 0, 100);
	/* strtoull wraps "-1" to 2^64 - 1: must not pass a full-range check */
	refused("-1", 0, ULLONG_MAX);
}

static void test_sign_and_space(void **state)
{
	refused("+5", 0, 100);
	refused(" 5", 0, 100);
	refused(" -1", 0, ULLONG_MAX);
	refused("\t7", 0, 100);
}

/* --timer-share: a percentage with at most 3 decimals, as ppm; 0 = none. */
static void test_share(void **state)
{
	const char *bad[] = { "", "abc", ".5", "-1", "+5", "100.001", "101", "0.0001", "1.2345",
			      "1e1", "5 ", " 5", "0x10", "nan", "1..2" };
	const struct { const char *s; uint32_t ppm; } good[] = {
		{ "50", 500000 }, { "0", 0 }, { "0.001", 10 }, { "12.5", 125000 },
		{ "100", 1000000 }, { "3.", 30000 },
	};
	uint32_t ppm = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse_share("test", good[i].s, &ppm), 0);
		assert_int_equal(ppm, good[i].ppm);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ppm = 7;
		if (parse_share("test", bad[i], &ppm) != -1)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(ppm, 7);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_bounds_inclusive),
		cmocka_unit_test(test_full_range),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_junk),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_sign_and_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
