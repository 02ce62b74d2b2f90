// SPDX-License-Identifier: MIT
/*
 * Predicted scans (src/timer/hk.c, vtimer.c predict_scan): after each
 * injection the host learns the guest's period and asks for a scan
 * HK_PREDICT_LEAD_NS ahead of the next expected deadline. Checked without
 * KVM: when a prediction is made and where it lands, which gaps keep the
 * learned period, and how vt_predict_next steps on. The mirrored LVTT is
 * masked, so injections show as `dropped` and make no ioctl. Guest TSC =
 * host TSC; the conversions are set to 1 cycle per ns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fake_vm.h"

#define PER			10000000ULL	/* 10 ms at 1 cycle per ns */

static struct vm *vm;
static struct timer_engine eng;
static struct vcpu_timer vt;
static struct vtimer_pv_page page;

/* A fixed housekeeping advance (ns) for the next setup; 0 = none. */
static int64_t advance_ns;

static int setup(void **state)
{
	(void)state;
	vm = fake_vm_new(1, 4096);
	assert_non_null(vm);
	fake_engine_init(&eng, &vt, vm, DELIVER_HOUSEKEEPING, 0, 1000000);
	eng.mode.discover = DISCOVER_SCAN;
	eng.features = VTIMER_F_HORIZON;
	eng.predict = true;
	eng.advance_ns = advance_ns;
	eng.hk = hk_create(&eng);
	assert_non_null(eng.hk);
	fake_pv_page(&vt, &page);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hk_free(eng.hk);
	pthread_mutex_destroy(&vt.lock);
	fake_vm_free(vm);
	return 0;
}

/*
 * The conversions count 1 cycle per ns, the host TSC does not: a prediction
 * made dt after the test read (now, mono) lands off by the cycles and ns
 * that passed meanwhile, |cycles - ns|. The test measures that, plus a tenth
 * of the period, rather than assume it ran without being preempted (a
 * nested CI host stalled it for more than half a millisecond once).
 */
static void assert_near(uint64_t got, uint64_t want, uint64_t tsc0, uint64_t mono0)
{
	uint64_t dc = __builtin_ia32_rdtsc() - tsc0, dn = now_ns() - mono0;
	uint64_t tol = PER / 10 + (dc > dn ? dc - dn : dn - dc);

	if (got + tol < want || got > want + tol)
		fail_msg("prediction at %llu, want %llu +- %llu", (unsigned long long)got,
			 (unsigned long long)want, (unsigned long long)tol);
}

/* The host injects guest deadline d (already passed). */
static void inject(uint64_t d)
{
	page.pending = d;
	vt_expire(&vt);
}

static void test_second_injection_predicts_the_next(void **state)
{
	uint64_t now = __builtin_ia32_rdtsc(), d2 = now - 1000, mono = now_ns();
	uint64_t want = mono + PER - HK_PREDICT_LEAD_NS - hk_wake_lead_ns(eng.hk) - 1000, got;

	(void)state;
	inject(d2 - PER);
	assert_int_equal(vt.st.dropped, 1);
	assert_int_equal(vt.st.predicted, 0);	/* one deadline: no period yet */
	assert_int_equal(vt.pred_scan, 0);
	inject(d2);
	assert_int_equal(vt.st.dropped, 2);
	assert_int_equal(vt.st.predicted, 1);
	assert_int_equal(vt.pred_per, PER);
	got = vt.pred_scan;
	assert_near(got, want, now, mono);	/* d2 + PER - lead */
}

static void test_gaps_keep_or_confirm_the_period(void **state)
{
	uint64_t t = __builtin_ia32_rdtsc() - 40 * PER;

	(void)state;
	inject(t);
	inject(t + PER);
	assert_int_equal(vt.pred_per, PER);
	inject(t + 3 * PER);			/* two periods: one run by the guest itself */
	assert_int_equal(vt.pred_per, PER);
	inject(t + 4 * PER + PER / 32);		/* near one period: the period it measures */
	assert_int_equal(vt.pred_per, PER + PER / 32);
	inject(t + 5 * PER);
	assert_int_equal(vt.pred_per, PER - PER / 32);
	inject(t + 5 * PER + PER / 2);		/* half a period (another timer): seen once */
	assert_int_equal(vt.pred_per, PER - PER / 32);
	inject(t + 7 * PER);			/* 1.5 periods: seen once */
	assert_int_equal(vt.pred_per, PER - PER / 32);
	inject(t + 8 * PER + PER / 2);		/* 1.5 periods again: the new period */
	assert_int_equal(vt.pred_per, PER + PER / 2);
	/* every prediction, stepped on HK_PREDICT_AHEAD periods, is still past */
	assert_int_equal(vt.st.predicted, 0);
	assert_int_equal(vt.pred_scan, 0);
}

/* A guest that fell behind: the next period is past, a later one is not. */
static void test_past_prediction_steps_on(void **state)
{
	uint64_t now = __builtin_ia32_rdtsc(), d = now - 2 * PER - PER / 2, mono = now_ns();
	uint64_t want = mono + PER / 2 - HK_PREDICT_LEAD_NS - hk_wake_lead_ns(eng.hk), got;

	(void)state;
	inject(d - PER);
	inject(d);	/* d + PER - lead and d + 2 PER - lead are past */
	assert_int_equal(vt.st.predicted, 1);
	assert_int_equal(vt.pred_left, HK_PREDICT_AHEAD - 2);
	got = vt.pred_scan;
	assert_near(got, want, now, mono);	/* d + 3 PER - lead */
}

/*
 * With a housekeeping advance (and pre-wake, the vCPU thread's wake-up),
 * the predicted scan comes that much earlier too, so that a deadline it
 * finds is still in time for the heap key. An advance of 3 ms, beyond the
 * tolerance: a prediction without it misses.
 */
static int setup_lead(void **state)
{
	advance_ns = 3000000;
	setup(state);
	advance_ns = 0;
	return 0;
}

static void test_prediction_leads_by_the_housekeeping_lead(void **state)
{
	uint64_t now = __builtin_ia32_rdtsc(), d2 = now - 1000, mono = now_ns();

	(void)state;
	assert_int_equal(hk_wake_lead_ns(eng.hk), 3000000);
	eng.prewake = true;
	hk_vwake_sample(eng.hk, 8000);		/* an eighth of it, as one step */
	assert_int_equal(hk_wake_lead_ns(eng.hk), 3001000);
	inject(d2 - PER);
	inject(d2);
	assert_int_equal(vt.st.predicted, 1);
	assert_near(vt.pred_scan, mono + PER - HK_PREDICT_LEAD_NS - 3001000 - 1000, now, mono);
	eng.prewake = false;
}

static void test_short_or_long_periods_predict_nothing(void **state)
{
	uint64_t t = __builtin_ia32_rdtsc() - 1000;

	(void)state;
	inject(t - HK_PREDICT_LEAD_NS);	/* no longer than the lead */
	inject(t);
	assert_int_equal(vt.st.predicted, 0);
	assert_int_equal(vt.pred_scan, 0);
	inject(t + HK_PREDICT_MAX_NS + 1);	/* longer than the longest predicted */
	assert_int_equal(vt.st.predicted, 0);
	assert_int_equal(vt.pred_scan, 0);
}

static void test_predict_next_steps_periods(void **state)
{
	uint64_t x = 1000000000ULL;

	(void)state;
	vt.pred_per = PER;
	vt.pred_left = 2;
	vt.pred_scan = x;
	assert_int_equal(vt_predict_next(&vt, x - 1), x);	/* not passed: kept */
	assert_int_equal(vt_predict_next(&vt, x), x + PER);
	assert_int_equal(vt.pred_left, 1);
	assert_int_equal(vt_predict_next(&vt, x + 5 * PER / 2), 0);	/* one left, two passed */
	assert_int_equal(vt.pred_scan, 0);
	assert_int_equal(vt_predict_next(&vt, x + 10 * PER), 0);

	/* a predicted deadline the host already has armed needs no scan */
	vt.pred_left = 2;
	vt.pred_scan = x;
	vt.pred_dl = 5 * PER;
	vt.deadline = 5 * PER + 1;	/* the guest's value, one cycle later */
	assert_int_equal(vt_predict_next(&vt, x - 1), x + PER);
	assert_int_equal(vt.pred_dl, 6 * PER);
	assert_int_equal(vt_predict_next(&vt, x - 1), x + PER);	/* 6 PER is not armed */
	vt.deadline = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_second_injection_predicts_the_next, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gaps_keep_or_confirm_the_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_past_prediction_steps_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prediction_leads_by_the_housekeeping_lead,
						setup_lead, teardown),
		cmocka_unit_test_setup_teardown(test_short_or_long_periods_predict_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_predict_next_steps_periods, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
