// SPDX-License-Identifier: MIT
/*
 * Guest integration tests: boot the real vtimer guest through build/vtimer
 * and check what it reports.
 *
 * Every run must deliver every timer (events == count, lost == 0), never
 * early (early == 0 and no negative sample), with no unexpected interrupt,
 * and late by at most late_bound_ns(vcpus): a bound this machine's own probe
 * sets (harness.c), since the hosts behind this machine kind differ 3x in
 * emulation speed. Periodic LAPIC mode rounds deadlines up to the next tick,
 * so its bound is one interval more. Runs are sized by event counts, not by
 * time; exit counts are exact where the protocol makes them exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#define COUNT		500
#define INTERVAL_US	1000

/*
 * Stock KVM: TSC-deadline writes are handled in the kernel, never in user
 * space; every programmed deadline is one write (plus writes of 0). KVM's
 * `exits` stat is not compared: on a PVM host emulated CPL0 code can write
 * an MSR without a hardware exit, so the stat can fall below the writes.
 */
static void check_kvm_exits(json_t *run)
{
	assert_in_range(jint(run, "guest.msr_writes"), jint(run, "guest.deadlines"), INT64_MAX);
	assert_int_equal(jint(run, "exits.wrmsr"), -1);
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
	check_delivery(r.run, vcpus, COUNT, late_bound_ns(vcpus));
	check_kvm_exits(r.run);
	vt_free(&r);
}

/*
 * Without a tick the only timer is the task's: each period's deadline is
 * either programmed (one TSC-deadline write) or found due and run by the
 * guest (due_at_program), so deadlines + due == count exactly, and the writes
 * are those deadlines plus one write of 0 when the CPU finishes, in every
 * run however late the host runs the guest. With the 4 ms nohz tick and a
 * 1 ms period each period programs two (the tick restarted on idle exit, the
 * task's deadline), plus at most one more per expiry, by interrupt or run
 * at program (a tick that expired while the vCPU was preempted re-arms
 * itself: 656 of 600 + 50 interrupts with a CPU hog beside it); writes of 0:
 * one or two at the end, plus one per sleep found due while the tick was
 * armed.
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
	check_delivery(r.run, 2, 300, late_bound_ns(2));
	per = json_object_get(r.run, "per_vcpu");
	for (int i = 0; i < 2; i++) {
		json_t *v = json_array_get(per, i);
		int64_t d = jint(v, "guest.deadlines");

		assert_int_equal(d + jint(v, "guest.due_at_program"), 300);
		assert_int_equal(jint(v, "guest.msr_writes"), d + 1);
	}
	vt_free(&r);
	assert_int_equal(vt_run(&r, a4), 0);
	check_delivery(r.run, 2, 300, late_bound_ns(2));
	per = json_object_get(r.run, "per_vcpu");
	for (int i = 0; i < 2; i++) {
		json_t *v = json_array_get(per, i);
		int64_t d = jint(v, "guest.deadlines"), due = jint(v, "guest.due_at_program");

		assert_in_range(d + due, 600, 600 + jint(v, "guest.interrupts") + due);
		assert_in_range(jint(v, "guest.msr_writes") - d, 1, 2 + due);
	}
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
	check_delivery(r.run, 2, COUNT, late_bound_ns(2));
	check_kvm_exits(r.run);
	assert_string_equal(json_string_value(json_object_get(r.run, "wait")), wait + 7);
	vt_free(&r);
}

/*
 * KVM's PV EOI (guest/pv/pv_eoi.c), on by default where KVM offers it. Under
 * every preset the guest enables it on every vCPU where the probe saw it
 * enabled, and every timer is still delivered (an EOI elided that KVM did
 * not complete would leave the vector in service and block the next timer:
 * lost). Where the probe saw it engage, stock KVM elides at least one EOI
 * in 100 (the probe saw at least half of 40). --cpu=-kvm-pv-eoi turns it
 * off: nothing elided, every EOI written.
 */
static void test_pv_eoi(void **s)
{
	const char *off[] = { "--timer=kvm", "--workload=latency", "--count=100",
			      "--cpu=-kvm-pv-eoi", NULL };
	char t[64];
	const char *on[] = { t, "--workload=cyclic", "--vcpus=2", "--count=100", NULL };
	int probe = probe_pv_eoi();
	struct vt_result r;

	(void)s;
	require_kvm();
	for (int i = 0; i < VT_NR_PRESETS; i++) {
		snprintf(t, sizeof(t), "--timer=%s", vt_presets[i]);
		assert_int_equal(vt_run(&r, on), 0);
		check_delivery(r.run, 2, 100, late_bound_ns(2));
		print_message("  %-12s PV EOI: %lld of %lld EOIs without a write\n", vt_presets[i],
			      (long long)jint(r.run, "guest.pv_eoi"),
			      (long long)(jint(r.run, "guest.pv_eoi") +
					  jint(r.run, "guest.op_wrmsr_eoi")));
		if (probe >= 1)
			assert_int_equal(jint(r.run, "guest.pv_eoi_cpus"), 2);
		if (probe == 2 && i == 0)	/* vt_presets[0] is stock KVM */
			assert_in_range(jint(r.run, "guest.pv_eoi"), 1, INT64_MAX);
		vt_free(&r);
	}
	assert_int_equal(vt_run(&r, off), 0);
	check_delivery(r.run, 1, 100, late_bound_ns(1));
	assert_int_equal(jint(r.run, "guest.pv_eoi_cpus"), 0);
	assert_int_equal(jint(r.run, "guest.pv_eoi"), 0);
	assert_in_range(jint(r.run, "guest.op_wrmsr_eoi"), 1, INT64_MAX);
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
	check_delivery(r.run, 2, COUNT, late_bound_ns(2));
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
	check_delivery(r.run, 2, 100, late_bound_ns(2) + INTERVAL_US * 1000LL);
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

/*
 * The kvm tracepoint count (--ktrace, root only): it covers the same returns
 * from KVM_RUN as the VMM's own count, so the two agree exactly; the guest's
 * TSC-deadline writes, counted in its window, are at most the tracepoints'
 * whole-run writes of that MSR (in the kernel or exits to user space).
 */
static void test_ktrace_counts(void **s)
{
	const char *args[] = { "--vcpus=2", "--count=20", "--ktrace=auto", NULL };
	struct vt_result r;
	json_t *kt;

	(void)s;
	require_kvm();
	assert_int_equal(vt_run(&r, args), 0);
	kt = json_object_get(r.run, "ktrace");
	assert_non_null(kt);
	if (strcmp(json_string_value(json_object_get(kt, "state")), "ok")) {
		print_message("SKIP: kvm tracepoints: %s\n",
			      json_string_value(json_object_get(kt, "reason")));
		vt_free(&r);
		skip();
	}
	assert_int_equal(jint(kt, "lost"), 0);
	assert_true(jint(r.run, "exits.total") > 0);
	assert_int_equal(jint(kt, "userspace_exit.total"), jint(r.run, "exits.total"));
	assert_true(jint(r.run, "guest.op_wrmsr_deadline") <=
		    jint(kt, "msr_write.0x6e0") + jint(kt, "userspace_exit.wrmsr"));
	assert_true(jint(kt, "pio") >= jint(r.run, "exits.io"));
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
		   *a9[] = { "--discover=scan:0", NULL }, *a10[] = { "--tick=5", NULL },
		   *a11[] = { "--workload=hostile", "--attack=page,nope", NULL },
		   *a12[] = { "--workload=hostile", "--attack=", NULL },
		   *a13[] = { "--attack=page", NULL };

	(void)s;
	expect_error(a1); expect_error(a2); expect_error(a3); expect_error(a4);
	expect_error(a5); expect_error(a6); expect_error(a7); expect_error(a8);
	expect_error(a9); expect_error(a10); expect_error(a11); expect_error(a12);
	expect_error(a13);
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

/*
 * A run that cannot end within its --timeout (100,000 periods of 1 ms in
 * 5 s, on any host) stops with 73 and a post-mortem, on stderr and in the
 * JSON: each vCPU as KVM left it, the timer engine's view where the VMM owns
 * the timer (not under kvm), and the guest's own (abi.h, vtimer_live).
 */
static void test_postmortem(void **s)
{
	static const char *const timers[] = { "kvm", "hybrid" };

	(void)s;
	require_kvm();
	for (size_t i = 0; i < 2; i++) {
		char t[32], want[48];
		const char *args[] = { t, "--workload=cyclic", "--vcpus=2", "--count=100000",
				       "--interval=1000", "--timeout=5", NULL };
		struct vt_result r;
		const char *pm;

		snprintf(t, sizeof(t), "--timer=%s", timers[i]);
		vt_run(&r, args);
		assert_false(r.killed);
		assert_int_equal(r.status, 73);
		assert_non_null(strstr(r.err, "post-mortem"));
		pm = json_string_value(json_object_get(r.run, "postmortem"));
		assert_non_null(pm);
		for (int v = 0; v < 2; v++) {
			snprintf(want, sizeof(want), "  vCPU %d: ", v);
			assert_non_null(strstr(pm, want));
			snprintf(want, sizeof(want), "  vCPU %d guest: running, ", v);
			assert_non_null(strstr(pm, want));
			snprintf(want, sizeof(want), "  vCPU %d engine: ", v);
			assert_int_equal(strstr(pm, want) != NULL, i == 1);
		}
		assert_non_null(strstr(pm, "lapic: LVTT 0x"));
		vt_free(&r);
	}
}

/*
 * The harness itself: a VMM that ignores its --timeout is killed once it has
 * outlived it, and the test sees a killed run, not a hang. Needs no KVM: a
 * stand-in that sleeps plays the hung VMM.
 */
static void test_harness_kills_hung_vmm(void **s)
{
	char path[] = "/tmp/vtimer-hang-XXXXXX";
	const char *args[] = { "--timeout=1", NULL };
	static const char script[] = "#!/bin/sh\nexec sleep 600\n";
	int fd = mkstemp(path);
	struct timespec t0, t1;
	struct vt_result r;

	(void)s;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, script, sizeof(script) - 1), sizeof(script) - 1);
	fchmod(fd, 0700);
	close(fd);
	setenv("VTIMER_TEST_BIN", path, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vt_run(&r, args);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unsetenv("VTIMER_TEST_BIN");
	unlink(path);
	assert_true(r.killed);
	assert_int_equal(r.status, 128 + SIGKILL);
	assert_in_range(t1.tv_sec - t0.tv_sec, 1, 10);	/* timeout 1 s + grace 1 s */
	vt_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_harness_kills_hung_vmm),
		cmocka_unit_test(test_postmortem),
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_bad_images),
		cmocka_unit_test(test_json_contract),
		cmocka_unit_test(test_ktrace_counts),
		cmocka_unit_test(test_cyclic_msr_writes),
		cmocka_unit_test(test_cyclic_1vcpu),
		cmocka_unit_test(test_cyclic_2vcpu),
		cmocka_unit_test(test_cyclic_4vcpu),
		cmocka_unit_test(test_latency_hlt),
		cmocka_unit_test(test_latency_busy),
		cmocka_unit_test(test_lapic_oneshot),
		cmocka_unit_test(test_lapic_periodic),
		cmocka_unit_test(test_lvtt_masked),
		cmocka_unit_test(test_pv_eoi),
	};

	harness_filter();
	return cmocka_run_group_tests_name("guest integration", tests, NULL, NULL);
}
