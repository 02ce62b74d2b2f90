// SPDX-License-Identifier: MIT
/*
 * KVM binary stats lookups (kvm/kvm.c): finding a stat by name and reading
 * one stat's word alone, as the housekeeping thread reads a vCPU's
 * `blocking` stat before a pre-wake. The stats fd is a temporary file laid
 * out as KVM lays out the data block: u64 words at data_off.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kvm/kvm.h"

#define DATA_OFF 96

static char *names[] = { "halt_exits", "halt_wait_hist", "blocking" };
static uint64_t offsets[] = { 0, 1, 5 };	/* the histogram takes words 1..4 */
static uint32_t sizes[] = { 1, 4, 1 };

static struct kvm_stats fake(FILE *f)
{
	return (struct kvm_stats){ .fd = fileno(f), .n = 3, .names = names, .offsets = offsets,
				   .sizes = sizes, .data_off = DATA_OFF, .data_words = 6 };
}

static FILE *data_file(const uint64_t *words, int n)
{
	FILE *f = tmpfile();
	char pad[DATA_OFF] = { 0 };

	assert_non_null(f);
	assert_int_equal(fwrite(pad, 1, sizeof(pad), f), sizeof(pad));
	assert_int_equal(fwrite(words, sizeof(*words), n, f), n);
	fflush(f);
	return f;
}

static void test_find(void **state)
{
	FILE *f = data_file((uint64_t[]){ 0, 0, 0, 0, 0, 0 }, 6);
	struct kvm_stats st = fake(f);

	(void)state;
	assert_int_equal(kvm_stats_find(&st, "blocking"), 2);
	assert_int_equal(kvm_stats_find(&st, "halt_exits"), 0);
	assert_int_equal(kvm_stats_find(&st, "block"), -1);	/* whole names only */
	assert_int_equal(kvm_stats_find(&st, ""), -1);
	fclose(f);
}

static void test_read_one(void **state)
{
	FILE *f = data_file((uint64_t[]){ 7, 1, 2, 3, 4, 1 }, 6);
	struct kvm_stats st = fake(f);
	uint64_t v = 99;

	(void)state;
	assert_int_equal(kvm_stats_read_one(&st, 2, &v), 0);
	assert_int_equal(v, 1);		/* blocking, past the histogram's 4 words */
	assert_int_equal(kvm_stats_read_one(&st, 0, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(kvm_stats_read_one(&st, 1, &v), 0);
	assert_int_equal(v, 1);		/* a histogram's first bucket only */
	fclose(f);
}

static void test_read_one_refuses(void **state)
{
	FILE *f = data_file((uint64_t[]){ 7, 1, 2, 3, 4, 1 }, 6);
	struct kvm_stats st = fake(f);
	uint64_t v = 99;

	(void)state;
	assert_true(kvm_stats_read_one(&st, -1, &v) < 0);	/* not found */
	assert_true(kvm_stats_read_one(&st, 3, &v) < 0);	/* past the last stat */
	st.data_off = 1 << 20;					/* past the file's end */
	assert_true(kvm_stats_read_one(&st, 2, &v) < 0);
	st.fd = -1;						/* no stats fd (old kernel) */
	assert_true(kvm_stats_read_one(&st, 2, &v) < 0);
	assert_int_equal(v, 99);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_read_one),
		cmocka_unit_test(test_read_one_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
