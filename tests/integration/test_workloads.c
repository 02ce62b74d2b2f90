// SPDX-License-Identifier: MIT
/*
 * The bench workloads behind the series' headline figures, under every
 * preset, checked for what their protocol makes exact (no timing):
 *   rr          every transaction completes; the wake-up IPIs are the sends
 *               (ICR writes = 2 x count + retransmits, exactly), received
 *               once each or merged two into one with one still pending;
 *               round trips positive; never early
 *   tick        every idle+busy period done with one or two ticks in its busy
 *               half; ticks never early, late by at most the machine's
 *               bound; nohz: no unexpected interrupt
 *   throughput  the timer load delivers every timer (check_delivery) while
 *               CPL3 work completes on every vCPU, its rate reported
 * and, in all of them, the guest's exit-causing operations agree with its
 * counters (check_ops). Odd vCPU counts for rr are refused (64).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

#define presets vt_presets
#define NR_PRESETS VT_NR_PRESETS

static json_t *run(struct vt_result *r, const char *timer, const char *workload, int vcpus,
		   int count)
{
	char t[48], w[48], v[32], c[32];
	const char *args[] = { t, w, v, c, "--interval=1000", NULL };

	snprintf(t, sizeof(t), "--timer=%s", timer);
	snprintf(w, sizeof(w), "--workload=%s", workload);
	snprintf(v, sizeof(v), "--vcpus=%d", vcpus);
	snprintf(c, sizeof(c), "--count=%d", count);
	if (vt_run(r, args) != 0)
		fail_msg("vtimer run %s %s %s %s: status %d\n%s", t, w, v, c, r->status, r->err);
	assert_non_null(r->run);
	return r->run;
}

/*
 * Nothing lost, early or unexpected on any vCPU; count events each (stock
 * KVM's own early interrupts: reported, harness.c check_early).
 */
static void check_clean(json_t *j, int vcpus, int count)
{
	json_t *per = json_object_get(j, "per_vcpu");

	assert_int_equal(json_array_size(per), vcpus);
	for (int i = 0; i < vcpus; i++) {
		json_t *v = json_array_get(per, i);

		assert_int_equal(jint(v, "guest.events"), count);
		assert_int_equal(jint(v, "guest.lost"), 0);
		check_early(j, v, i);
		assert_int_equal(jint(v, "guest.unexpected"), 0);
		assert_int_equal(jint(v, "guest.far_exits"), 0);
	}
	check_ops(j);
}

static void test_rr(void **s)
{
	const int count = 100, vcpus = 2;

	(void)s;
	require_kvm();
	for (size_t i = 0; i < NR_PRESETS; i++) {
		struct vt_result r;
		json_t *j = run(&r, presets[i], "rr", vcpus, count), *client;
		int64_t re = jint(j, "guest.retransmits"), ipis = jint(j, "guest.ipis");

		check_clean(j, vcpus, count);
		client = json_array_get(json_object_get(j, "per_vcpu"), 0);
		assert_int_equal(jint(j, "guest.transactions"), count);
		assert_int_equal(jint(client, "guest.transactions"), count);
		assert_int_equal(jint(j, "guest.op_wrmsr_icr"), 2 * count + re);
		/* an IPI can meet the previous one still pending (sent while its
		 * target was still in the kernel): at most two become one */
		assert_in_range(2 * ipis, 2 * count + re, 2 * (2 * count + re));
		assert_int_equal(jint(client, "latency_ns.samples"), count);
		assert_in_range(jint(client, "latency_ns.min"), 1, INT64_MAX);
		assert_true(json_real_value(json_object_get(j, "transactions_per_s")) > 0);
		print_message("  %-12s rr: %lld tx, %.0f/s, tsc-deadline writes %lld, exit ops: icr %lld eoi %lld hlt %lld, retransmits %lld\n",
			      presets[i], (long long)jint(j, "guest.transactions"),
			      json_real_value(json_object_get(j, "transactions_per_s")),
			      (long long)jint(j, "guest.op_wrmsr_deadline"),
			      (long long)jint(j, "guest.op_wrmsr_icr"),
			      (long long)jint(j, "guest.op_wrmsr_eoi"),
			      (long long)jint(j, "guest.op_hlt"), (long long)re);
		vt_free(&r);
	}
}

/* Refused before any VM exists (no KVM needed): status 64, one line. */
static void refused(const char *const *args)
{
	struct vt_result r;

	vt_run(&r, args);
	assert_int_equal(r.status, 64);
	assert_int_equal(r.err_lines, 1);
	vt_free(&r);
}

static void test_rr_odd_refused(void **s)
{
	(void)s;
	refused((const char *const[]){ "--workload=rr", "--vcpus=3", NULL });
}

static void test_tick(void **s)
{
	const int count = 30;

	(void)s;
	require_kvm();
	for (size_t i = 0; i < NR_PRESETS; i++) {
		for (int vcpus = 1; vcpus <= 2; vcpus++) {
			char v[32], c[32], t[48];
			const char *args[] = { t, "--workload=tick", v, c, "--tick=2000", NULL };
			struct vt_result r;
			json_t *j;

			snprintf(t, sizeof(t), "--timer=%s", presets[i]);
			snprintf(v, sizeof(v), "--vcpus=%d", vcpus);
			snprintf(c, sizeof(c), "--count=%d", count);
			if (vt_run(&r, args) != 0)
				fail_msg("tick %s vcpus=%d: status %d\n%s", presets[i], vcpus,
					 r.status, r.err);
			j = r.run;
			check_clean(j, vcpus, count);
			/* each busy half runs until a tick has: one or two per event */
			assert_in_range(jint(j, "latency_ns.samples"), count * vcpus,
					2 * count * vcpus);
			assert_in_range(jint(j, "latency_ns.min"), 0, late_bound_ns(vcpus));
			assert_in_range(jint(j, "latency_ns.max"), 0, late_bound_ns(vcpus));
			vt_free(&r);
		}
	}
}

static void test_tick_needs_tick(void **s)
{
	(void)s;
	refused((const char *const[]){ "--workload=tick", "--tick=0", NULL });
}

static void test_throughput(void **s)
{
	const int count = 100, vcpus = 2;

	(void)s;
	require_kvm();
	for (size_t i = 0; i < NR_PRESETS; i++) {
		struct vt_result r;
		json_t *j = run(&r, presets[i], "throughput", vcpus, count);

		check_delivery(j, vcpus, count, late_bound_ns(vcpus));
		for (int v = 0; v < vcpus; v++)
			assert_in_range(jint(json_array_get(json_object_get(j, "per_vcpu"), v),
					     "guest.work_units"), 1, INT64_MAX);
		assert_true(json_real_value(json_object_get(j, "work_units_per_s")) > 0);
		print_message("  %-12s throughput: %.0f work units/s\n", presets[i],
			      json_real_value(json_object_get(j, "work_units_per_s")));
		vt_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rr),
		cmocka_unit_test(test_rr_odd_refused),
		cmocka_unit_test(test_tick),
		cmocka_unit_test(test_tick_needs_tick),
		cmocka_unit_test(test_throughput),
	};

	harness_filter();
	return cmocka_run_group_tests_name("bench workloads", tests, NULL, NULL);
}
