// SPDX-License-Identifier: MIT
/*
 * Guest integration tests: boot the real vtimer guest through build/vtimer
 * and check what it reports.
 *
 * Every run must deliver every timer (events == count, lost == 0), never
 * early (early == 0 and no negative sample), and late by at most LATE_NS.
 * LATE_NS is 100 ms: on the PVM development host guest CPL0 code is emulated
 * (~0.3 us per instruction) and 4 vCPUs share 2 cores, so p99 lateness is
 * ~0.5 ms; but the host is itself a guest of another hypervisor and stalls
 * for tens of ms at times (46 ms seen once, in kvm mode). 100 ms still catches
 * a lost timer or a deadline converted with a wrong TSC offset or rate.
 * Periodic LAPIC mode rounds deadlines up to the next tick, so its bound is
 * one interval more. Runs are sized by event counts, not by time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#define LATE_NS		100000000LL
#define COUNT		500
#define INTERVAL_US	1000

static void require_kvm(void)
{
	if (!have_kvm()) {
		print_message("SKIP: no usable /dev/kvm on this host\n");
		skip();
	}
}

/* Stock KVM: TSC-deadline writes are handled in the kernel, never in user space. */
static void check_kvm_exits(json_t *run)
{
	int64_t msr = jint(run, "guest.msr_writes"), kexits = jint(run, "kvm_stats.exits");

	assert_in_range(msr, jint(run, "guest.events"), INT64_MAX);
	assert_int_equal(jint(run, "exits.wrmsr"), -1);
	if (kexits >= 0)
		assert_in_range(kexits, msr, INT64_MAX);
}

static void cyclic(int vcpus)
{
	char v[32];
	const char *args[] = { "--timer=kvm", "--workload=cyclic", v, "--count=500",
			       "--interval=1000", NULL };
	struct vt_result r;

	require_kvm();
	snprintf(v, sizeof(v), "--vcpus=%d", vcpus);
	assert_int_equal(vt_run(&r, args), 0);
	assert_non_null(r.run);
	check_delivery(r.run, vcpus, COUNT, LATE_NS);
	check_kvm_exits(r.run);
	vt_free(&r);
}

/*
 * Without a tick the only timer is the task's: stock KVM then costs exactly one
 * TSC-deadline write per period, plus one write of 0 when the CPU finishes.
 * With the 4 ms nohz tick and a 1 ms period it costs two (the tick restarted
 * on idle exit, then the task's earlier deadline), plus two at the end.
 */
static void test_cyclic_msr_writes(void **s)
{
	const char *a0[] = { "--vcpus=2", "--count=300", "--tick=0", NULL };
	const char *a4[] = { "--vcpus=2", "--count=300", "--tick=4000", NULL };
	struct vt_result r;
	json_t *per;

	(void)s;
	require_kvm();
	assert_int_equal(vt_run(&r, a0), 0);
	check_delivery(r.run, 2, 300, LATE_NS);
	per = json_object_get(r.run, "per_vcpu");
	for (int i = 0; i < 2; i++) {
		assert_int_equal(jint(json_array_get(per, i), "guest.deadlines"), 300);
		assert_int_equal(jint(json_array_get(per, i), "guest.msr_writes"), 301);
	}
	vt_free(&r);
	assert_int_equal(vt_run(&r, a4), 0);
	check_delivery(r.run, 2, 300, LATE_NS);
	per = json_object_get(r.run, "per_vcpu");
	/* A vCPU preempted past a tick may add a few writes; never fewer than 2/period. */
	for (int i = 0; i < 2; i++)
		assert_in_range(jint(json_array_get(per, i), "guest.msr_writes"), 600, 660);
	vt_free(&r);
}

static void test_cyclic_1vcpu(void **s) { (void)s; cyclic(1); }
static void test_cyclic_2vcpu(void **s) { (void)s; cyclic(2); }
static void test_cyclic_4vcpu(void **s) { (void)s; cyclic(4); }

static void latency(const char *wait)
{
	const char *args[] = { "--workload=latency", "--vcpus=2", "--count=500",
			       "--interval=500", wait, NULL };
	struct vt_result r;

	require_kvm();
	assert_int_equal(vt_run(&r, args), 0);
	check_delivery(r.run, 2, COUNT, LATE_NS);
	check_kvm_exits(r.run);
	vt_free(&r);
}

static void test_latency_hlt(void **s) { (void)s; latency("--wait=hlt"); }
static void test_latency_busy(void **s) { (void)s; latency("--wait=busy"); }

static void test_lapic_oneshot(void **s)
{
	const char *args[] = { "--lapic=oneshot", "--vcpus=2", "--count=500", NULL };
	struct vt_result r;

	(void)s;
	require_kvm();
	assert_int_equal(vt_run(&r, args), 0);
	check_delivery(r.run, 2, COUNT, LATE_NS);
	assert_int_equal(jint(r.run, "guest.msr_writes"), 0);	/* TMICT, not the deadline MSR */
	assert_string_equal(json_string_value(json_object_get(r.run, "lapic")), "oneshot");
	vt_free(&r);
}

static void test_lapic_periodic(void **s)
{
	const char *args[] = { "--lapic=periodic", "--vcpus=2", "--count=100", NULL };
	struct vt_result r;

	(void)s;
	require_kvm();
	assert_int_equal(vt_run(&r, args), 0);
	check_delivery(r.run, 2, 100, LATE_NS + INTERVAL_US * 1000LL);
	assert_int_equal(jint(r.run, "guest.msr_writes"), 0);
	vt_free(&r);
}

/* LVTT masked: a deadline that passes while masked delivers nothing. */
static void test_lvtt_masked(void **s)
{
	const char *args[] = { "--workload=masked", "--vcpus=2", "--count=10", NULL };
	struct vt_result r;

	(void)s;
	require_kvm();
	/* The guest exits non-zero if any LAPIC timer interrupt arrived while masked. */
	assert_int_equal(vt_run(&r, args), 0);
	assert_int_equal(jint(r.run, "guest.events"), 20);
	vt_free(&r);
}

static void test_json_contract(void **s)
{
	static const char *const keys[] = {
		"timer", "workload", "vcpus", "count", "guest.deadlines", "guest.msr_writes",
		"guest.pv_writes", "guest.interrupts", "guest.early", "guest.lost",
		"exits.total", "kvm_stats", "latency_ns.min", "latency_ns.avg", "latency_ns.p50",
		"latency_ns.p99", "latency_ns.max", "per_vcpu", "program", "discover", "deliver",
	};
	const char *args[] = { "--vcpus=2", "--count=50", NULL };
	struct vt_result r;
	json_t *per;

	(void)s;
	require_kvm();
	assert_int_equal(vt_run(&r, args), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *o = r.run;
		char buf[64], *save, *tok;

		snprintf(buf, sizeof(buf), "%s", keys[i]);
		for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save))
			o = json_object_get(o, tok);
		if (!o)
			fail_msg("JSON lacks %s", keys[i]);
	}
	assert_string_equal(json_string_value(json_object_get(r.run, "timer")), "kvm");
	per = json_object_get(r.run, "per_vcpu");
	assert_true(jint(json_array_get(per, 0), "exits.total") >= 0);
	assert_int_equal(jint(r.run, "exits.total"), jint(json_array_get(per, 0), "exits.total") +
			 jint(json_array_get(per, 1), "exits.total"));
	vt_free(&r);
}

/* Bad input: one "vtimer: " line on stderr and a non-zero status, no crash. */
static void expect_error(const char *const *args)
{
	struct vt_result r;

	vt_run(&r, args);
	assert_true(r.status != 0 && r.status < 128);
	assert_int_equal(r.err_lines, 1);
	assert_memory_equal(r.err, "vtimer: ", 8);
	vt_free(&r);
}

static void test_bad_flags(void **s)
{
	const char *a1[] = { "--bogus", NULL }, *a2[] = { "--vcpus=0", NULL },
		   *a3[] = { "--vcpus=65", NULL }, *a4[] = { "--timer=nope", NULL },
		   *a5[] = { "--count=-3", NULL }, *a6[] = { "--workload=redis", NULL },
		   *a7[] = { "--timer=kvm", "--program=pv", NULL }, *a8[] = { "stray", NULL },
		   *a9[] = { "--discover=scan:0", NULL };

	(void)s;
	expect_error(a1); expect_error(a2); expect_error(a3); expect_error(a4);
	expect_error(a5); expect_error(a6); expect_error(a7); expect_error(a8);
	expect_error(a9);
}

static void test_bad_images(void **s)
{
	static const char garbage[] = "this is not a kernel image\n";
	char path[] = "/tmp/vtimer-garbage-XXXXXX", empty[] = "/tmp/vtimer-empty-XXXXXX";
	char g[64], e[64], k[64];
	const char *a1[] = { "--guest=/nonexistent/guest.elf", NULL };
	const char *a2[] = { g, NULL }, *a3[] = { e, NULL }, *a4[] = { k, NULL };
	const char *a5[] = { "--kernel=/nonexistent/kernel.elf", NULL };
	int fd = mkstemp(path), fd2 = mkstemp(empty);

	(void)s;
	require_kvm();
	assert_true(write(fd, garbage, sizeof(garbage)) > 0);
	close(fd);
	close(fd2);
	snprintf(g, sizeof(g), "--guest=%s", path);
	snprintf(e, sizeof(e), "--guest=%s", empty);
	snprintf(k, sizeof(k), "--kernel=%s", path);
	expect_error(a1);
	expect_error(a2);
	expect_error(a3);
	expect_error(a4);
	expect_error(a5);
	unlink(path);
	unlink(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_bad_images),
		cmocka_unit_test(test_json_contract),
		cmocka_unit_test(test_cyclic_msr_writes),
		cmocka_unit_test(test_cyclic_1vcpu),
		cmocka_unit_test(test_cyclic_2vcpu),
		cmocka_unit_test(test_cyclic_4vcpu),
		cmocka_unit_test(test_latency_hlt),
		cmocka_unit_test(test_latency_busy),
		cmocka_unit_test(test_lapic_oneshot),
		cmocka_unit_test(test_lapic_periodic),
		cmocka_unit_test(test_lvtt_masked),
	};

	return cmocka_run_group_tests_name("guest integration", tests, NULL, NULL);
}
