// SPDX-License-Identifier: MIT
/*
 * Timer-engine integration tests: every preset boots the real guest and must
 * deliver every timer (events == count, lost == 0), never early, with no
 * unexpected interrupt, late by at most late_bound_ns() (a bound this
 * machine's probe sets; harness.c), with 1, 2 and 4 vCPUs on cyclic and
 * latency; and must take the exits its protocol predicts, in every run:
 *   kvm          TSC-deadline writes never reach user space
 *   exitless     every guest TSC-deadline write reaches the VMM, none is lost;
 *                interrupts <= injections <= deadlines
 *   apicv-model  no TSC-deadline write at all
 *   lazy         deadlines that only move later: at most one write per expiry
 *   pvtimer, hybrid  the VMM sees every write the guest issues, and no write
 *                is for a deadline beyond the scan window (far_exits == 0).
 * How few writes pvtimer and hybrid need is a performance figure that
 * depends on how late the host runs the guest: `vtimer bench` reports it,
 * these tests do not time it.
 * plus LVTT mode switches, masking and PV disable/enable in the middle of a
 * run (workload switch) and the enable MSR's #GP rules (workload abi).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

/* timer.h's LOOK_DECIDE, as the tests expect it */
#define LOOK_DECIDE_TEST	32

#define presets vt_presets
#define NR_PRESETS VT_NR_PRESETS

/* Runs vtimer and returns the parsed run; fails the test on a non-zero status. */
static json_t *run(struct vt_result *r, const char *timer, const char *workload, int vcpus,
		   int count, const char *extra)
{
	char t[48], w[48], v[32], c[32];
	const char *args[] = { t, w, v, c, "--interval=1000", extra, NULL };

	snprintf(t, sizeof(t), "--timer=%s", timer);
	snprintf(w, sizeof(w), "--workload=%s", workload);
	snprintf(v, sizeof(v), "--vcpus=%d", vcpus);
	snprintf(c, sizeof(c), "--count=%d", count);
	if (vt_run(r, args) != 0)
		fail_msg("vtimer run %s %s %s %s %s: status %d", t, w, v, c, extra ? extra : "",
			 r->status);
	assert_non_null(r->run);
	assert_string_equal(json_string_value(json_object_get(r->run, "timer")), timer);
	return r->run;
}

/*
 * cyclic's wake-up split at its interrupt (results.c): the guest records,
 * beside each wake-up, the interrupt that woke the task, and the host pairs
 * them. A run has such pairs (at 1 ms an interrupt wakes nearly every
 * sleep): none would mean the guest stopped recording them or the host
 * reads the wrong half of the row. (Bounds such as "pairs never outnumber
 * wake-ups" or "an interrupt is never later than its wake" hold by the
 * host's construction, which drops any other pair: not asserted.)
 */
static void check_wake_split(json_t *run)
{
	assert_in_range(jint(run, "irq_latency_ns.samples"), 1, INT64_MAX);
}

static void matrix(const char *workload, int vcpus)
{
	for (size_t i = 0; i < NR_PRESETS; i++) {
		struct vt_result r;
		json_t *j = run(&r, presets[i], workload, vcpus, 150, NULL);

		print_message("  %-12s %-8s vcpus=%d p50=%lld p99=%lld msr=%lld/%lld\n",
			      presets[i], workload, vcpus, (long long)jint(j, "latency_ns.p50"),
			      (long long)jint(j, "latency_ns.p99"),
			      (long long)jint(j, "guest.msr_writes"),
			      (long long)jint(j, "guest.deadlines"));
		check_delivery(j, vcpus, 150, late_bound_ns(vcpus));
		if (!strcmp(workload, "cyclic"))
			check_wake_split(j);
		vt_free(&r);
	}
}

static void test_cyclic_1(void **s) { (void)s; require_kvm(); matrix("cyclic", 1); }
static void test_cyclic_2(void **s) { (void)s; require_kvm(); matrix("cyclic", 2); }
static void test_cyclic_4(void **s) { (void)s; require_kvm(); matrix("cyclic", 4); }
static void test_latency_1(void **s) { (void)s; require_kvm(); matrix("latency", 1); }
static void test_latency_2(void **s) { (void)s; require_kvm(); matrix("latency", 2); }
static void test_latency_4(void **s) { (void)s; require_kvm(); matrix("latency", 4); }

static void test_exits_kvm_exitless(void **s)
{
	struct vt_result r;
	json_t *j;

	(void)s;
	require_kvm();
	j = run(&r, "kvm", "cyclic", 2, 200, NULL);
	assert_int_equal(jint(j, "exits.wrmsr"), -1);
	vt_free(&r);
	j = run(&r, "exitless", "cyclic", 2, 200, NULL);
	assert_int_equal(jint(j, "host.msr_exits"), jint(j, "guest.msr_writes"));
	assert_int_equal(jint(j, "exits.wrmsr"), jint(j, "guest.msr_writes"));
	check_delivery(j, 2, 200, late_bound_ns(2));
	assert_in_range(jint(j, "host.injections"), jint(j, "guest.interrupts"),
			jint(j, "guest.deadlines"));
	vt_free(&r);
}

static void test_exits_apicv_model(void **s)
{
	struct vt_result r;
	json_t *j;

	(void)s;
	require_kvm();
	for (int w = 0; w < 2; w++) {
		j = run(&r, "apicv-model", w ? "latency" : "cyclic", 2, 200, NULL);
		assert_int_equal(jint(j, "guest.msr_writes"), 0);
		assert_int_equal(jint(j, "host.msr_exits"), 0);
		/* the only MSR exits: one enable write of the PV page per vCPU */
		assert_int_equal(jint(j, "exits.wrmsr"), 2);
		assert_int_equal(jint(j, "host.pv_msr_writes"), 2);
		assert_int_equal(jint(j, "guest.pv_writes"), jint(j, "guest.deadlines"));
		vt_free(&r);
	}
}

/* Without a tick each cyclic deadline is later than the last: one write per expiry. */
static void test_exits_lazy_later(void **s)
{
	struct vt_result r;
	json_t *j, *per;

	(void)s;
	require_kvm();
	j = run(&r, "lazy", "cyclic", 2, 200, "--tick=0");
	per = json_object_get(j, "per_vcpu");
	for (int i = 0; i < 2; i++) {
		json_t *v = json_array_get(per, i);
		int64_t expiries = jint(v, "host.injections") + jint(v, "host.rearms_without_exit") +
				   jint(v, "host.dropped");

		assert_in_range(jint(v, "guest.msr_writes"), 0, expiries + 1);
	}
	vt_free(&r);
}

/*
 * pvtimer and hybrid, with and without the nohz tick: in every run the VMM
 * handles exactly the TSC-deadline writes and idle looks (pv-abi.md 4.1)
 * the guest issued, none of them for a deadline beyond the scan window
 * (check_delivery: far_exits == 0).
 * The share of deadlines that needed a write is printed, not asserted: it
 * follows how late this host runs the guest (see vtimer bench).
 */
static void pv_window(const char *timer, const char *extra, int count)
{
	struct vt_result r;
	json_t *j = run(&r, timer, "cyclic", 2, count, extra);
	int64_t w = jint(j, "guest.msr_writes"), d = jint(j, "guest.deadlines");

	check_delivery(j, 2, count, late_bound_ns(2));
	assert_int_equal(jint(j, "host.msr_exits"), w);
	assert_int_equal(jint(j, "host.idle_looks"), jint(j, "guest.pv_idle_looks"));
	assert_int_equal(jint(j, "host.idle_halt_errors"), 0);
	assert_int_equal(jint(j, "exits.wrmsr") - jint(j, "host.pv_msr_writes") -
			 jint(j, "host.idle_looks"), w);
	print_message("  %s %s: %lld MSR writes for %lld deadlines (%lld due at program, %lld idle looks)\n",
		      timer, extra ? extra : "", (long long)w, (long long)d,
		      (long long)jint(j, "guest.due_at_program"),
		      (long long)jint(j, "guest.pv_idle_looks"));
	vt_free(&r);
}

static void test_exits_pv_window(void **s)
{
	(void)s;
	require_kvm();
	pv_window("pvtimer", "--tick=0", 200);
	pv_window("hybrid", "--tick=0", 200);
	pv_window("pvtimer", NULL, 300);
	pv_window("hybrid", NULL, 300);
}

/*
 * Pre-wake (hk.c): where KVM tells halted vCPUs, a halted vCPU is kicked
 * awake ahead of each injection, at most once per injection, and the kicked
 * thread comes back (its wake-up is measured) and injects the timer handed
 * over to it itself (at least once; never more often than it was kicked);
 * off, nothing is kicked. Both deliver every timer, never early.
 */
static void test_prewake(void **s)
{
	(void)s;
	require_kvm();
	for (int on = 0; on < 2; on++) {
		struct vt_result r;
		json_t *j = run(&r, "pvtimer", "latency", 1, 150, on ? NULL : "--timer-prewake=off");
		long long kicks = jint(j, "host.prewakes");
		long long handed = jint(j, "host.prewake_injections");

		check_delivery(j, 1, 150, late_bound_ns(1));
		print_message("  pre-wake %s: %lld kicks for %lld injections (%lld by the kicked "
			      "thread), vCPU wake-up %lld ns\n",
			      on ? "on" : "off", kicks, (long long)jint(j, "host.injections"), handed,
			      (long long)jint(j, "host.prewake_vcpu_wake_ns"));
		if (!on || !json_is_true(json_object_get(json_object_get(j, "host"), "prewake_in_force"))) {
			assert_int_equal(kicks, 0);
			assert_int_equal(handed, 0);
			if (on)
				print_message("  (no `blocking` stat on this host: pre-wake not in force)\n");
		} else {
			assert_in_range(kicks, 1, jint(j, "host.injections"));
			assert_in_range(handed, 1, kicks);
			assert_true(jint(j, "host.prewake_vcpu_wake_ns") > 0);
		}
		vt_free(&r);
	}
}

/*
 * Auto scan period (hk.c). Without near-horizon exits the period stays the
 * preset's: on `latency` every deadline is programmed a whole interval
 * ahead, beyond any horizon + margin, unless the host preempts the vCPU
 * between the handler's clock read and its program (then the period may
 * move, within its bounds). On `cyclic` it may shrink (how far depends on
 * how late this host runs the guest), but never below 20 us nor above the
 * preset, and the host's near exits are among its MSR exits. Fixed, it
 * does not move. Every run delivers every timer, never early.
 */
static void test_scan_auto(void **s)
{
	const char *wl[] = { "latency", "cyclic", "cyclic" };

	(void)s;
	require_kvm();
	for (int k = 0; k < 3; k++) {
		struct vt_result r;
		json_t *j = run(&r, "pvtimer", wl[k], 1, 200, k == 2 ? "--timer-scan=fixed" : NULL);
		long long base = jint(r.run, "scan_ns"), now = jint(j, "host.scan_period_ns");
		long long low = jint(j, "host.scan_period_low_ns");
		json_t *h = json_object_get(j, "host");

		check_delivery(j, 1, 200, late_bound_ns(1));
		print_message("  %s%s: scan period %lld us at the end, lowest %lld, floor %lld "
			      "(preset %lld); %lld near-horizon exits of %lld MSR exits\n",
			      wl[k], k == 2 ? " (fixed)" : "", now / 1000, low / 1000,
			      (long long)jint(j, "host.scan_period_floor_ns") / 1000, base / 1000,
			      (long long)jint(j, "host.near_exits"), (long long)jint(j, "host.msr_exits"));
		assert_in_range(jint(j, "host.near_exits"), 0, jint(j, "host.msr_exits"));
		if (k < 2) {
			assert_true(json_is_true(json_object_get(h, "scan_auto")));
			assert_in_range(low, 20000, now);	/* HK_SCAN_MIN_NS */
			assert_in_range(now, low, base);
		}
		if (k == 2 || !jint(j, "host.near_exits")) {
			assert_true(k < 2 || json_is_false(json_object_get(h, "scan_auto")));
			assert_int_equal(now, base);
			assert_int_equal(low, base);
		}
		vt_free(&r);
	}
}

/*
 * Predicted scans (hk.c, vtimer.c predict_scan). On: `cyclic`'s deadlines
 * come a period apart, so injections predict scans, each prediction comes
 * from one injection, and the scans made for predictions alone are at most
 * the predictions and the periods stepped on after each (HK_PREDICT_AHEAD).
 * Off: none. Every run delivers every timer, never early.
 */
#define PREDICT_AHEAD	8	/* HK_PREDICT_AHEAD, src/timer/timer.h */

static void test_predict(void **s)
{
	(void)s;
	require_kvm();
	for (int on = 1; on >= 0; on--) {
		struct vt_result r;
		json_t *j = run(&r, "pvtimer", "cyclic", 1, 200, on ? NULL : "--timer-predict=off");
		long long pred = jint(j, "host.predicted"), scans = jint(j, "host.predicted_scans");

		check_delivery(j, 1, 200, late_bound_ns(1));
		print_message("  predict %s: %lld predictions of %lld injections, %lld scans made for "
			      "them, %lld deadlines found new there\n", on ? "on" : "off", pred,
			      (long long)jint(j, "host.injections"), scans,
			      (long long)jint(j, "host.predicted_scan_found"));
		assert_true(json_is_true(json_object_get(r.run, "timer_predict")) == on);
		if (on) {
			assert_in_range(pred, 1, jint(j, "host.injections"));
			assert_in_range(scans, 0, pred * (1 + PREDICT_AHEAD));
			assert_in_range(jint(j, "host.predicted_scan_found"), 0,
					jint(j, "host.discovered"));
		} else {
			assert_int_equal(pred, 0);
			assert_int_equal(scans, 0);
		}
		vt_free(&r);
	}
}

/*
 * Auto look (vtimer.c, look_wanted): hybrid, 1 vCPU (its look:20 runs only
 * where the housekeeping thread has a CPU of its own), 300 latency events:
 * up to 9 windows of LOOK_DECIDE injections. Every timer is delivered, none early,
 * with the look auto and on. Auto, a look that saved nothing is on only in
 * windows after one with an exit it might have taken (a near-horizon exit,
 * an idle look); on, it never decides.
 */
static void test_look_auto(void **s)
{
	(void)s;
	require_kvm();
	for (int fixed = 0; fixed < 2; fixed++) {
		struct vt_result r;
		const char *args[] = { "--timer=hybrid", "--workload=latency", "--vcpus=1",
				       "--count=300", "--interval=1000",
				       fixed ? "--timer-look=on" : "--timer-look=auto", NULL };
		long long win, on, saves, near, idle;
		json_t *j;

		if (vt_run(&r, args) != 0)
			fail_msg("vtimer run (look %s): status %d", fixed ? "on" : "auto", r.status);
		j = r.run;
		assert_non_null(j);
		check_delivery(j, 1, 300, late_bound_ns(1));
		if (!jint(j, "look_ns")) {
			print_message("  no look here (no CPU to spare for housekeeping): nothing to decide\n");
			assert_int_equal(jint(j, "host.looks"), 0);
			vt_free(&r);
			continue;
		}
		win = jint(j, "host.look_windows");
		on = jint(j, "host.look_windows_on");
		saves = jint(j, "host.look_saves");
		near = jint(j, "host.near_exits");
		idle = jint(j, "host.idle_looks");
		print_message("  look %s: %lld looks, %lld saves, on in %lld of %lld windows, %lld near exits, %lld idle looks\n",
			      fixed ? "on" : "auto", (long long)jint(j, "host.looks"), saves, on, win, near, idle);
		assert_string_equal(json_string_value(json_object_get(j, "timer_look")),
				    fixed ? "on" : "auto");
		if (fixed) {
			assert_int_equal(win, 0);
		} else {
			assert_in_range(win, 0, jint(j, "host.injections") / LOOK_DECIDE_TEST);
			/* on only after a window with an exit a look might take,
			 * and without saves off again after one window */
			if (!saves)
				assert_in_range(on, 0, near + idle);
		}
		vt_free(&r);
	}
}

/*
 * The idle look (pv-abi.md 4.1). A latency run re-arms 1 ms ahead from the
 * interrupt handler, inside the idle loop, against a fixed 4 ms scan with no
 * predicted scans: most deadlines land before the horizon + margin, on the
 * way to idle. On, such writes are made as looks: the host handles exactly
 * the guest's looks, each halts the vCPU, and none is a TSC-deadline write.
 * Off, there are none. Every timer is delivered either way, none early.
 */
static void test_idle_look(void **s)
{
	(void)s;
	require_kvm();
	for (int on = 1; on >= 0; on--) {
		struct vt_result r;
		const char *args[] = { "--timer=pvtimer", "--workload=latency", "--vcpus=1",
				       "--count=100", "--interval=1000", "--discover=scan:4000",
				       "--timer-scan=fixed", "--timer-predict=off",
				       on ? "--timer-idle-look=on" : "--timer-idle-look=off", NULL };
		json_t *j;
		long long looks, near;

		if (vt_run(&r, args) != 0)
			fail_msg("vtimer run (idle look %s): status %d", on ? "on" : "off", r.status);
		j = r.run;
		assert_non_null(j);
		check_delivery(j, 1, 100, late_bound_ns(1));
		looks = jint(j, "guest.pv_idle_looks");
		near = jint(j, "guest.pv_exit_near");
		print_message("  idle look %s: %lld looks, %lld TSC-deadline writes, %lld decided near the horizon, of %lld deadlines\n",
			      on ? "on" : "off", looks, (long long)jint(j, "guest.msr_writes"), near,
			      (long long)jint(j, "guest.deadlines"));
		assert_true(json_is_true(json_object_get(j, "timer_idle_look")) == on);
		assert_int_equal(jint(j, "host.idle_looks"), looks);
		assert_int_equal(jint(j, "host.idle_halt_errors"), 0);
		assert_int_equal(jint(j, "host.msr_exits"), jint(j, "guest.msr_writes"));
		if (on) {
			assert_in_range(looks, 1, jint(j, "guest.deadlines"));
			/* a look is a wrmsr the VMM handles, never a TSC-deadline write */
			assert_in_range(jint(j, "guest.op_wrmsr_other"), looks, INT64_MAX);
			assert_in_range(jint(j, "guest.msr_writes"), 0,
					jint(j, "guest.pv_exit_passed") + near - 1);
		} else {
			assert_int_equal(looks, 0);
			assert_in_range(near, 1, jint(j, "guest.msr_writes"));
		}
		vt_free(&r);
	}
}

/*
 * --sched=fifo: the run's threads run SCHED_FIFO 1 (needs root or
 * CAP_SYS_NICE: skipped without). Every vCPU thread started SCHED_FIFO (the
 * JSON's "sched" is what they found), and every timer is delivered, none
 * early; without the option they started in the fair class.
 */
static void test_sched_fifo(void **s)
{
	struct vt_result r;
	json_t *j;

	(void)s;
	require_kvm();
	if (geteuid() != 0) {
		print_message("  skipped: --sched=fifo needs root\n");
		skip();
	}
	j = run(&r, "hybrid", "cyclic", 2, 100, "--sched=fifo");
	assert_string_equal(json_string_value(json_object_get(j, "sched")), "fifo");
	check_delivery(j, 2, 100, late_bound_ns(2));
	vt_free(&r);
	j = run(&r, "hybrid", "cyclic", 1, 20, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "sched")), "fair");
	vt_free(&r);
}

static void test_switch(void **s)
{
	(void)s;
	require_kvm();
	for (size_t i = 0; i < NR_PRESETS; i++) {
		struct vt_result r;
		json_t *j = run(&r, presets[i], "switch", 2, 150, NULL);

		check_delivery(j, 2, 150, late_bound_ns(2));
		vt_free(&r);
	}
}

static void test_masked(void **s)
{
	(void)s;
	require_kvm();
	for (size_t i = 0; i < NR_PRESETS; i++) {
		struct vt_result r;

		run(&r, presets[i], "masked", 2, 10, NULL);	/* non-zero status if one arrived */
		vt_free(&r);
	}
}

static void test_pv_msr_rules(void **s)
{
	(void)s;
	require_kvm();
	for (size_t i = 0; i < NR_PRESETS; i++) {
		struct vt_result r;
		json_t *j = run(&r, presets[i], "abi", 1, 50, NULL);	/* status = failed checks */

		check_delivery(j, 1, 50, late_bound_ns(1));
		vt_free(&r);
	}
}

/*
 * A hostile guest (guest/kernel/hostile.c): 4 vCPUs at once attack every
 * input they control, the boot record and ~0 deadlines (MSR and `pending`)
 * included. Under every preset the host must not crash or hang, must give
 * exactly the #GPs its rules promise (8 per vCPU where the PV interface is
 * offered, 108 where the enable MSR does not exist, 3 more for the idle MSR
 * in both; the guest's attempts are fixed too), and every timer of the
 * cyclic stretch that follows must be delivered, none early or unexpected.
 */
static void test_hostile(void **s)
{
	(void)s;
	require_kvm();
	for (size_t i = 0; i < NR_PRESETS; i++) {
		struct vt_result r;
		json_t *j = run(&r, presets[i], "hostile", 4, 30, NULL), *per;
		bool pv = strcmp(presets[i], "kvm") && strcmp(presets[i], "exitless");

		check_delivery(j, 4, 30, late_bound_ns(4));
		per = json_object_get(j, "per_vcpu");
		for (int v = 0; v < 4; v++) {
			json_t *c = json_array_get(per, v);

			/* the attack is fixed: 153 writes, 98 more at the PV page */
			assert_int_equal(jint(c, "guest.hostile_writes"), pv ? 251 : 153);
			assert_int_equal(jint(c, "guest.hostile_gp"), pv ? 11 : 111);
		}
		print_message("  %-12s hostile: %lld writes, %lld #GP, host pv_gp=%lld bad_lvtt=%lld dropped=%lld\n",
			      presets[i], (long long)jint(j, "guest.hostile_writes"),
			      (long long)jint(j, "guest.hostile_gp"), (long long)jint(j, "host.pv_gp"),
			      (long long)jint(j, "host.bad_lvtt"), (long long)jint(j, "host.dropped"));
		vt_free(&r);
	}
}

/*
 * Overcommit: 64 vCPUs on this machine's few CPUs, every preset. Lateness is
 * large (late_bound_ns scales with vCPUs per CPU); nothing may be lost,
 * early or unexpected.
 */
static void test_overcommit(void **s)
{
	(void)s;
	require_kvm();
	for (size_t i = 0; i < NR_PRESETS; i++) {
		struct vt_result r;
		json_t *j = run(&r, presets[i], "cyclic", 64, 20, "--timeout=300");

		check_delivery(j, 64, 20, late_bound_ns(64));
		print_message("  %-12s 64 vCPUs: p99 %lld ns, max %lld ns, wall %.2f s\n", presets[i],
			      (long long)jint(j, "latency_ns.p99"), (long long)jint(j, "latency_ns.max"),
			      json_number_value(json_object_get(j, "wall_s")));
		vt_free(&r);
	}
}

/*
 * Timer storm floor. The latency workload re-arms one deadline per expiry;
 * a first run without a floor measures how often that happens here (period
 * P = wall / count, setup included, so P is if anything too long). A second
 * run with a floor of 2P must then be held back by it: deadlines floored
 * (floored >= 1) and at most one host timer expiry per floor (fired <= 1 +
 * wall / floor). With the floor broken the run would take about as long as
 * the first, and fired (= count) would exceed wall / floor (about count / 2).
 * Sized by this machine's own speed, so it holds on any host. A host that
 * slows down after the calibration can space the expiries past 2P by itself
 * (TSan beside a CPU hog: 0 floored once), or make the guest's writes reach
 * the VMM already due, injected at once with no host timer to floor (ASan:
 * 0 floored at 4 and 16 times the floor): a run not held back is measured
 * again from the interval on, twice at most; the bound on fired holds in
 * every run.
 */
/*
 * The storm's re-arm interval: the shortest of 100, 200, 400 ... 6400 us at
 * which the host timer fires for nearly every deadline (95 of 100). The
 * guest runs a deadline nearer than its due margin (one exit's cost)
 * itself, and one that passes while its MSR exit is handled is injected at
 * once, so a shorter interval never reaches the host timer: on a PVM host,
 * 100 us gave 0 expiries of 200 and 250 us about half. Found on this
 * machine, once.
 */
static char storm_iv[48];	/* storm_interval()'s finding; "" = not yet */

static const char *storm_interval(void)
{

	for (int64_t us = 100; !storm_iv[0]; us *= 2) {
		char a[48];
		const char *args[] = { "--timer=exitless", "--workload=latency", "--vcpus=1",
				       "--count=100", a, "--timer-floor=0", "--timer-share=0",
				       NULL };
		struct vt_result r;
		int64_t fired;

		snprintf(a, sizeof(a), "--interval=%lld", (long long)us);
		assert_int_equal(vt_run(&r, args), 0);
		fired = jint(json_array_get(json_object_get(r.run, "per_vcpu"), 0), "host.fired");
		vt_free(&r);
		if (fired >= 95 || us >= 6400)
			snprintf(storm_iv, sizeof(storm_iv), "%s", a);
	}
	return storm_iv;
}

static json_t *storm_run(struct vt_result *r, int64_t floor_us)
{
	char fl[48];
	const char *args[] = { "--timer=exitless", "--workload=latency", "--vcpus=1",
			       "--count=200", storm_interval(), fl, "--timer-share=0", NULL };

	snprintf(fl, sizeof(fl), "--timer-floor=%lld", (long long)floor_us);
	assert_int_equal(vt_run(r, args), 0);
	check_delivery(r->run, 1, 200, late_bound_ns(1) + 2 * floor_us * 1000);
	return json_array_get(json_object_get(r->run, "per_vcpu"), 0);
}

static void test_storm_floor(void **s)
{
	struct vt_result r;
	json_t *v;
	int64_t floor_us, wall_ns;

	(void)s;
	require_kvm();
	for (int tries = 0;; tries++) {
		storm_run(&r, 0);
		floor_us = (int64_t)(json_number_value(json_object_get(r.run, "wall_s")) * 1e6) /
			   200 * 2;
		vt_free(&r);
		if (floor_us < 1)
			floor_us = 1;
		v = storm_run(&r, floor_us);
		wall_ns = (int64_t)(json_number_value(json_object_get(r.run, "wall_s")) * 1e9);
		assert_in_range(jint(v, "host.fired"), 1, 1 + wall_ns / (floor_us * 1000));
		assert_int_equal(jint(r.run, "timer_floor_ns"), floor_us * 1000);
		if (jint(v, "host.floored") > 0 || tries == 2)
			break;
		print_message("  storm: floor %lld us held nothing back (%lld host timer expiries: "
			      "the host slowed): measuring the interval and the floor again\n",
			      (long long)floor_us, (long long)jint(v, "host.fired"));
		vt_free(&r);
		storm_iv[0] = '\0';
	}
	assert_in_range(jint(v, "host.floored"), 1, INT64_MAX);
	print_message("  storm: floor %lld us: %lld expiries (%lld floored) in %.2f s, housekeeping %.1f%% of wall\n",
		      (long long)floor_us, (long long)jint(v, "host.fired"),
		      (long long)jint(v, "host.floored"), wall_ns / 1e9,
		      json_number_value(json_object_get(r.run, "housekeeping_cpu_pct")));
	vt_free(&r);
}

/*
 * Timer storm share (timer.h). A first run without floor or share measures
 * what share of a CPU the storm's expiries take here (expire_ns / wall); a
 * second run allows a quarter of that (at least 0.001%). Every run must keep
 * its charged expiry time within the bound timer.h derives: share * (wall +
 * 100 us of advance) + 2 bursts of 1 ms. It must also be held back
 * (throttled >= 1) once its expiries cost more than the bucket holds; on a
 * PVM host an expiry costs 5-20 us from one process to the next, so 200 of
 * them can fit in the 1 ms burst, and one slow expiry in the first run can
 * set the share above what the next run demands. A run that was not held
 * back is repeated with twice the count and half the share (up to 3 times). Every timer is still delivered, none early; a
 * hold adds at most 2 bursts' refill time to the lateness bound.
 */
static void test_storm_share(void **s)
{
	struct vt_result r;
	json_t *v;
	char sh[48], cnt[32] = "--count=200", fl[] = "--timer-floor=0";
	const char *args[] = { "--timer=exitless", "--workload=latency", "--vcpus=1",
			       cnt, NULL, fl, sh, NULL };
	double wall, base;
	uint32_t ppm;
	int64_t exp_ns, throttled = 0;

	(void)s;
	require_kvm();
	args[4] = storm_interval();	/* boots guests: only once KVM is known */
	snprintf(sh, sizeof(sh), "--timer-share=0");
	assert_int_equal(vt_run(&r, args), 0);
	v = json_array_get(json_object_get(r.run, "per_vcpu"), 0);
	base = (double)jint(v, "host.expire_ns") /
	       (json_number_value(json_object_get(r.run, "wall_s")) * 1e9);
	vt_free(&r);
	ppm = (uint32_t)(base * 1e6 / 4);
	if (ppm < 10)
		ppm = 10;
	for (int count = 200, tries = 0; !throttled && tries < 4; count *= 2, ppm /= 2, tries++) {
		int64_t bound;

		if (ppm < 10)
			ppm = 10;
		snprintf(sh, sizeof(sh), "--timer-share=%u.%03u", ppm / 10000, ppm % 10000 / 10);
		ppm = ppm / 10 * 10;
		snprintf(cnt, sizeof(cnt), "--count=%d", count);
		assert_int_equal(vt_run(&r, args), 0);
		check_delivery(r.run, 1, count, late_bound_ns(1) + (int64_t)(2e6 * 1e6 / ppm));
		v = json_array_get(json_object_get(r.run, "per_vcpu"), 0);
		wall = json_number_value(json_object_get(r.run, "wall_s"));
		exp_ns = jint(v, "host.expire_ns");
		throttled = jint(v, "host.throttled");
		bound = (int64_t)(ppm / 1e6 * (wall * 1e9 + 100000)) + 2000000;
		assert_int_equal(jint(r.run, "timer_share_ppm"), ppm);
		assert_in_range(exp_ns, 0, bound);
		print_message("  storm share: unlimited %.2f%% of a CPU; held to %s: %.2f%% (%lld ns in %.2f s, bound %lld), %d expiries, %lld throttled, housekeeping %.1f%% of wall\n",
			      base * 100, sh + 14, exp_ns / (wall * 1e7), (long long)exp_ns, wall,
			      (long long)bound, count, (long long)throttled,
			      json_number_value(json_object_get(r.run, "housekeeping_cpu_pct")));
		vt_free(&r);
	}
	assert_in_range(throttled, 1, INT64_MAX);
}

/*
 * The hostile cases one by one, under every preset, each within an
 * explicit --timeout (the harness kills a VMM that outlives it: r.killed):
 *   records   the guest rewrites its boot record with garbage (results_gpa,
 *             samples_gpa, samples_per_cpu, nr_cpus ...) and leaves it so:
 *             the host reads the results through its own copy, status 0;
 *   deadline  TSC-deadline MSR writes of 0, past, now, ~0 and 2^63 +- 1;
 *   page      every PV page field torn and flipped, `pending` = ~0 (presets
 *             with a page);
 *   tsc       IA32_TSC to 1 ms short of 2^64 with a timer live, deadlines
 *             across the wrap, IA32_TSC_ADJUST +-2^62, then put back: where
 *             the VMM owns the deadline (every preset but kvm) it applies
 *             all 7 TSC writes itself (host.tsc_writes).
 * Each then runs its cyclic stretch: every timer delivered, none early or
 * unexpected. The attempts are fixed per vCPU and none takes a #GP.
 */
static void attack(const char *which, int writes_pv, int writes_nopv, int tsc_writes)
{
	char a[48];

	snprintf(a, sizeof(a), "--attack=%s", which);
	for (size_t i = 0; i < NR_PRESETS; i++) {
		const char *args[] = { "--workload=hostile", "--vcpus=2", "--count=30",
				       "--interval=1000", "--timeout=60", a, NULL, NULL };
		char t[48];
		struct vt_result r;
		bool pv = strcmp(presets[i], "kvm") && strcmp(presets[i], "exitless");
		json_t *per;

		snprintf(t, sizeof(t), "--timer=%s", presets[i]);
		args[6] = t;
		vt_run(&r, args);
		assert_false(r.killed);
		if (r.status != 0)
			fail_msg("%s %s: status %d", t, a, r.status);
		check_delivery(r.run, 2, 30, late_bound_ns(2));
		per = json_object_get(r.run, "per_vcpu");
		for (int v = 0; v < 2; v++) {
			json_t *c = json_array_get(per, v);

			assert_int_equal(jint(c, "guest.hostile_writes"), pv ? writes_pv : writes_nopv);
			assert_int_equal(jint(c, "guest.hostile_gp"), 0);
			assert_int_equal(jint(c, "host.tsc_writes"),
					 strcmp(presets[i], "kvm") ? tsc_writes : 0);
		}
		vt_free(&r);
	}
}

static void test_attack_boot_record(void **s) { (void)s; require_kvm(); attack("records", 3, 3, 0); }
static void test_attack_deadline_never(void **s) { (void)s; require_kvm(); attack("deadline", 10, 10, 0); }
static void test_attack_pending_never(void **s) { (void)s; require_kvm(); attack("page", 98, 0, 0); }
static void test_attack_tsc(void **s) { (void)s; require_kvm(); attack("tsc", 10, 10, 7); }

/* A triple fault ends the run with 71 and one line, well within --timeout. */
static void test_crash(void **s)
{
	(void)s;
	require_kvm();
	for (size_t i = 0; i < NR_PRESETS; i++) {
		char t[48];
		const char *args[] = { t, "--workload=crash", "--vcpus=2", "--timeout=60", NULL };
		struct vt_result r;

		snprintf(t, sizeof(t), "--timer=%s", presets[i]);
		vt_run(&r, args);
		assert_false(r.killed);
		assert_int_equal(r.status, 71);
		assert_int_equal(r.err_lines, 1);
		vt_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exits_kvm_exitless),
		cmocka_unit_test(test_exits_apicv_model),
		cmocka_unit_test(test_exits_lazy_later),
		cmocka_unit_test(test_exits_pv_window),
		cmocka_unit_test(test_prewake),
		cmocka_unit_test(test_scan_auto),
		cmocka_unit_test(test_predict),
		cmocka_unit_test(test_idle_look),
		cmocka_unit_test(test_look_auto),
		cmocka_unit_test(test_sched_fifo),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_attack_boot_record),
		cmocka_unit_test(test_attack_deadline_never),
		cmocka_unit_test(test_attack_pending_never),
		cmocka_unit_test(test_attack_tsc),
		cmocka_unit_test(test_crash),
		cmocka_unit_test(test_overcommit),
		cmocka_unit_test(test_storm_floor),
		cmocka_unit_test(test_storm_share),
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_masked),
		cmocka_unit_test(test_pv_msr_rules),
		cmocka_unit_test(test_cyclic_1),
		cmocka_unit_test(test_cyclic_2),
		cmocka_unit_test(test_cyclic_4),
		cmocka_unit_test(test_latency_1),
		cmocka_unit_test(test_latency_2),
		cmocka_unit_test(test_latency_4),
	};

	harness_filter();
	return cmocka_run_group_tests_name("timer modes", tests, NULL, NULL);
}
