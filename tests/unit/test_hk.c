// SPDX-License-Identifier: MIT
/*
 * Checks the housekeeping thread's timer heap (src/timer/hk.c) without
 * starting the thread: after every insert, move or remove through
 * hk_update(), the heap top is the vCPU timer with the earliest host deadline
 * and every vCPU's heap index is consistent, over 20,000 random operations on
 * 64 vCPUs (the maximum) and on 1. Tolerance: none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "machine/machine.h"
#include "timer/timer.h"

static void check_top(struct hk *hk, struct vcpu_timer *vt, int n)
{
	struct vcpu_timer *want = NULL;

	for (int i = 0; i < n; i++) {
		if (vt[i].host_deadline)
			assert_true(vt[i].heap_idx >= 0);
		else
			assert_int_equal(vt[i].heap_idx, -1);
		if (vt[i].host_deadline && (!want || vt[i].host_deadline < want->host_deadline))
			want = &vt[i];
	}
	if (!want)
		assert_null(hk_peek(hk));
	else
		assert_int_equal(hk_peek(hk)->host_deadline, want->host_deadline);
}

static void run(int n, int ops)
{
	struct vm vm = { .nr_vcpus = n };
	struct timer_engine e = { .vm = &vm };
	struct vcpu_timer *vt = calloc(n, sizeof(*vt));
	struct hk *hk;

	assert_non_null(vt);
	hk = hk_create(&e);
	assert_non_null(hk);
	for (int i = 0; i < n; i++)
		vt[i].heap_idx = -1;
	srand(12345);
	for (int k = 0; k < ops; k++) {
		struct vcpu_timer *t = &vt[rand() % n];

		/* a third removals, the rest new or moved deadlines, many equal */
		t->host_deadline = rand() % 3 ? 1 + (uint64_t)(rand() % 1000) : 0;
		hk_update(hk, t);
		check_top(hk, vt, n);
	}
	hk_free(hk);
	free(vt);
}

static void test_heap_64(void **state) { run(64, 20000); }
static void test_heap_1(void **state) { run(1, 200); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_64),
		cmocka_unit_test(test_heap_1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
