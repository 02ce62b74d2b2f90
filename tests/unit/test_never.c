// SPDX-License-Identifier: MIT
/*
 * Checks that a guest deadline of ~0 (or anything past the 2^62-cycle
 * horizon of src/timer/tsc.h) means "never" to the timer engine: vt_arm()
 * keeps it as the guest's deadline (RDMSR reads it back) but puts nothing in
 * the housekeeping heap, with TSC offsets of both signs; a heap entry of
 * 2^64 - 1 put there directly makes the housekeeping thread sleep, not spin
 * holding its lock; and hk_stop() returns promptly either way (an alarm
 * fails the test after 5 s, where the old code hung). Tolerance: the thread
 * may use 20 ms of CPU in 100 ms of wall time (it sleeps; spinning uses all).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_vm.h"
#include "timer/timer.h"
#include "util.h"

struct fx {
	struct vm *vm;
	struct timer_engine e;
	struct vcpu_timer vt;
};

static void fx_init(struct fx *f, int64_t offset)
{
	f->vm = fake_vm_new(1, 1 << 20);
	fake_engine_init(&f->e, &f->vt, f->vm, DELIVER_HOUSEKEEPING, offset, 2600000);
	f->e.hk = hk_create(&f->e);
	assert_non_null(f->e.hk);
}

static void fx_free(struct fx *f)
{
	hk_free(f->e.hk);
	fake_vm_free(f->vm);
}

static void test_arm_never(void **state)
{
	/*
	 * Negative offsets that keep the guest's clock far from 2^64 whatever
	 * the host's uptime: with a host TSC under 2^40 (a fresh boot),
	 * -2^40 wraps the guest's clock to just short of 2^64, where ~0 is
	 * rightly a near deadline.
	 */
	const int64_t offsets[] = { 0, -(int64_t)rdtsc(), -(int64_t)(rdtsc() / 2), 1LL << 40 };
	const uint64_t never[] = { UINT64_MAX, (1ULL << 63) + 1, 1ULL << 63 };

	for (size_t k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++) {
		struct fx f;
		uint64_t now;

		fx_init(&f, offsets[k]);
		for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
			vt_arm(&f.vt, never[i]);
			assert_true(f.vt.deadline == never[i]);
			assert_int_equal(f.vt.host_deadline, 0);
			assert_null(hk_peek(f.e.hk));
		}
		/* a deadline one second ahead is armed as usual */
		now = host_to_guest_tsc(&f.vt.tsc, rdtsc());
		vt_arm(&f.vt, now + f.vt.tsc.guest_khz * 1000);
		assert_ptr_equal(hk_peek(f.e.hk), &f.vt);
		assert_true(f.vt.host_deadline > rdtsc());
		vt_arm(&f.vt, UINT64_MAX);	/* moving it to never takes it out */
		assert_null(hk_peek(f.e.hk));
		fx_free(&f);
	}
}

static void on_alarm(int sig)
{
	(void)sig;
	fail_msg("the housekeeping thread did not stop: it is looping with its lock");
}

static void run_thread_with(struct fx *f)
{
	struct timespec ts = { 0, 100000000 };

	assert_int_equal(hk_start(f->e.hk), 0);
	nanosleep(&ts, NULL);
	signal(SIGALRM, on_alarm);
	alarm(5);
	vt_arm(&f->vt, UINT64_MAX);	/* takes the heap lock: must not block */
	hk_stop(f->e.hk);
	alarm(0);
	assert_true(hk_cpu_ns(f->e.hk) < 20000000);
}

/*
 * Heap entries straight from hk_update(), no horizon check. 2^64 - 10^6
 * with a TSC rate 4x the apparent (TSC count / monotonic ns) one is the case
 * where wrapping arithmetic put the wake-up time in the past on any host:
 * the thread then looped, holding its lock, until hk_stop() hung.
 */
static void test_thread_sleeps_on_never(void **state)
{
	const uint64_t heap_never[] = { UINT64_MAX, UINT64_MAX - 1000000 };
	struct fx f;

	for (size_t i = 0; i < 2; i++) {
		fx_init(&f, 0);
		f.vt.tsc.host_khz = f.vt.tsc.guest_khz =
			(uint64_t)((unsigned __int128)rdtsc() * 4000000 / now_ns()) + 1;
		f.vt.host_deadline = heap_never[i];
		hk_update(f.e.hk, &f.vt);
		run_thread_with(&f);
		fx_free(&f);
	}

	fx_init(&f, -(int64_t)(rdtsc() / 2));
	vt_arm(&f.vt, UINT64_MAX);
	run_thread_with(&f);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arm_never),
		cmocka_unit_test(test_thread_sleeps_on_never),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
