// SPDX-License-Identifier: MIT
/*
 * Checks the housekeeping thread's timer heap (src/timer/hk.c) without
 * starting the thread: after every insert, move or remove through
 * hk_update(), the heap top is the vCPU timer with the earliest host deadline
 * and every vCPU's heap index is consistent, over 20,000 random operations on
 * 64 vCPUs (the maximum) and on 1. Tolerance: none.
 *
 * The timer advance: hk_advance_tune() converges on a steady wake-up
 * lateness (to within one step's rounding), ignores a wake-up later than
 * twice its maximum, never exceeds the maximum and comes back down; and with
 * a 200 us advance, hk_expire_due() pops a timer up to 200 us before its host
 * deadline but injects it at or after that deadline (read from the TSC at the
 * injection), every time, and leaves alone one further away than the advance.
 *
 * The auto scan period: hk_scan_next() shrinks by a quarter when more than
 * 1% of a window's deadlines exited near the horizon, holds when some but
 * not more than 1% did, grows back by an eighth when none did; it stays
 * within [floor, preset] and never moves below the preset when the floor is
 * above it (a thread that shares the vCPUs' CPUs on a host with costly
 * wake-ups).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fake_vm.h"
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

static void test_advance_tune(void **state)
{
	uint64_t adv = 0;

	for (int i = 0; i < 200; i++)
		adv = hk_advance_tune(adv, 400, 1000);
	assert_in_range(adv, 400, 400 + HK_ADVANCE_STEP);
	assert_int_equal(hk_advance_tune(adv, 2001, 1000), adv);	/* a preemption */
	for (int i = 0; i < 200; i++)
		adv = hk_advance_tune(adv, 1500, 1000);
	assert_int_equal(adv, 1000);
	for (int i = 0; i < 200; i++)
		adv = hk_advance_tune(adv, 0, 1000);
	assert_in_range(adv, 0, HK_ADVANCE_STEP);
}

static void test_scan_next(void **state)
{
	uint64_t cur = 250000;

	assert_int_equal(hk_scan_next(cur, 250000, 60000, 95, 5), 187500);	/* 5% near */
	assert_int_equal(hk_scan_next(cur, 250000, 60000, 990, 10), 250000);	/* 1%: holds */
	assert_int_equal(hk_scan_next(120000, 250000, 60000, 990, 10), 120000);
	for (int i = 0; i < 50; i++)
		cur = hk_scan_next(cur, 250000, 60000, 20, 12);
	assert_int_equal(cur, 60000);						/* the floor */
	assert_int_equal(hk_scan_next(cur, 250000, 60000, 32, 0), 60000 + 7500 + 1);
	for (int i = 0; i < 50; i++)
		cur = hk_scan_next(cur, 250000, 60000, 32, 0);
	assert_int_equal(cur, 250000);						/* back to the preset */
	/* a floor above the preset: never below the preset, never above it */
	assert_int_equal(hk_scan_next(250000, 250000, 400000, 0, 32), 250000);
	assert_int_equal(hk_scan_next(250000, 250000, 400000, 32, 0), 250000);
	/* a floor risen above the period now lifts it */
	assert_int_equal(hk_scan_next(80000, 250000, 100000, 990, 10), 100000);
}

static uint64_t injected_at;

static int record_msi(struct vcpu_timer *vt, struct kvm_msi *msi)
{
	injected_at = rdtsc();
	return 0;
}

static void test_advance_never_early(void **state)
{
	struct vm *vm = fake_vm_new(1, 1 << 20);
	uint64_t khz = tsc_calibrate_khz(20);
	struct timer_engine e;
	struct vcpu_timer vt;

	assert_non_null(vm);
	fake_engine_init(&e, &vt, vm, DELIVER_HOUSEKEEPING, 0, khz);
	e.advance_ns = 200000;
	e.signal_msi = record_msi;
	e.hk = hk_create(&e);
	assert_non_null(e.hk);
	assert_int_equal(hk_advance_ns(e.hk), 200000 * khz / 1000000 * 1000000 / khz);
	vt.lvtt = 0x40 | (2u << 17);	/* vector 0x40, TSC-deadline mode */
	vt.lvtt_known = true;
	for (int i = 0; i < 40; i++) {
		uint64_t g = host_to_guest_tsc(&vt.tsc, rdtsc()) + khz * (20 + 40 * (i % 4)) / 1000;
		uint64_t inj = vt.st.injections, d;

		vt_arm(&vt, g);
		d = vt.host_deadline;
		assert_int_equal(hk_peek(e.hk)->hk_key, d - 200000 * khz / 1000000);
		assert_int_equal(hk_expire_due(e.hk), 1);
		assert_int_equal(vt.st.injections, inj + 1);
		assert_true(injected_at >= d);
	}
	assert_true(hk_spin_ns(e.hk) > 0);
	/* 2 ms away: not within the advance, so not popped */
	vt_arm(&vt, host_to_guest_tsc(&vt.tsc, rdtsc()) + khz * 2);
	assert_int_equal(hk_expire_due(e.hk), 0);
	assert_ptr_equal(hk_peek(e.hk), &vt);
	hk_free(e.hk);
	fake_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_advance_tune),
		cmocka_unit_test(test_scan_next),
		cmocka_unit_test(test_advance_never_early),
		cmocka_unit_test(test_heap_64),
		cmocka_unit_test(test_heap_1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
