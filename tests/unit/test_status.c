// SPDX-License-Identifier: MIT
/*
 * Checks the one exit-status list (src/status.c) and that the machine uses
 * it: every host failure maps to 64, 70, 71, 72, 73 or 130, never to a small
 * status a guest can report; the exits that end a run (triple fault, system
 * event, KVM internal error, failed entry, an exit without a handler) stop it
 * with 71; a vCPU whose setup ioctl fails stops the run with 70 instead of
 * letting it report 0; vm_stop() kicks a vCPU thread only while it is
 * running, never one that has ended (and may have been joined); the
 * watchdog stops the run with 130 after SIGINT or SIGTERM and with 73 past
 * the deadline, and a second such signal is not caught. No KVM: the VM is
 * a fake whose ioctls fail with EBADF. Tolerance: none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "fake_vm.h"
#include "status.h"

static void test_mapping(void **state)
{
	static const int want[VT_FAIL_NR] = {
		[VT_FAIL_USAGE] = 64, [VT_FAIL_SETUP] = 64, [VT_FAIL_IOCTL] = 70,
		[VT_FAIL_HOST_TIMER] = 70, [VT_FAIL_TRIPLE_FAULT] = 71,
		[VT_FAIL_SYSTEM_EVENT] = 71, [VT_FAIL_INTERNAL] = 71, [VT_FAIL_ENTRY] = 71,
		[VT_FAIL_UNHANDLED_EXIT] = 71, [VT_FAIL_GUEST_ABORT] = 72,
		[VT_FAIL_TIMEOUT] = 73, [VT_FAIL_SIGNAL] = 130,
	};

	for (int f = 0; f < VT_FAIL_NR; f++) {
		assert_int_equal(vt_failure_status(f), want[f]);
		assert_true(vt_failure_status(f) >= 64);	/* above any vtimer guest status */
	}
	assert_int_equal(vt_failure_status(VT_FAIL_NR), VT_EXIT_CRASH);
	assert_int_equal(vt_failure_status(-1), VT_EXIT_CRASH);
}

static void exit_stops_with(unsigned int reason, int status, const char *msg)
{
	struct vm *vm = fake_vm_new(1, 1 << 20);
	struct vcpu *v = &vm->vcpus[0];

	v->run->exit_reason = reason;
	assert_int_equal(vcpu_handle_exit(v), -1);
	assert_true(vm->stop);
	assert_int_equal(vm->exit_status, status);
	assert_non_null(strstr(vm->error, msg));
	assert_int_equal(v->exits_total, 1);
	fake_vm_free(vm);
}

static void test_crash_exits(void **state)
{
	exit_stops_with(KVM_EXIT_SHUTDOWN, 71, "triple fault");
	exit_stops_with(KVM_EXIT_SYSTEM_EVENT, 71, "system event");
	exit_stops_with(KVM_EXIT_INTERNAL_ERROR, 71, "internal error");
	exit_stops_with(KVM_EXIT_FAIL_ENTRY, 71, "entry failed");
	exit_stops_with(KVM_EXIT_HYPERCALL, 71, "unhandled exit reason");
	exit_stops_with(1000, 71, "unhandled exit reason 1000 (other)");
}

static void test_handled_exit_continues(void **state)
{
	struct vm *vm = fake_vm_new(1, 1 << 20);
	struct vcpu *v = &vm->vcpus[0];

	v->run->exit_reason = KVM_EXIT_INTR;
	assert_int_equal(vcpu_handle_exit(v), 0);
	assert_false(vm->stop);
	fake_vm_free(vm);
}

/* vcpu_setup's KVM_SET_CPUID2 fails (fd -1): status 70, never 0. */
static void test_vcpu_setup_failure(void **state)
{
	struct vm *vm = fake_vm_new(2, 1 << 20);

	vm->entry.mode = BOOT_LONG64;
	assert_int_equal(vm_run(vm), -1);
	assert_true(vm->stop);
	assert_int_equal(vm->exit_status, VT_EXIT_KVM);
	assert_non_null(strstr(vm->error, "vCPU 0"));
	fake_vm_free(vm);
}

static volatile int kicked;

static void *wait_kick(void *arg)
{
	struct timespec ts = { 0, 300000000 };
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, VM_SIG_KICK);
	kicked = sigtimedwait(&set, NULL, &ts) == VM_SIG_KICK;
	return NULL;
}

static void stop_with_thread(bool running, bool want_kick)
{
	struct vm *vm = fake_vm_new(1, 1 << 20);
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, VM_SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &set, &old);	/* the thread inherits it */
	kicked = 0;
	assert_int_equal(pthread_create(&vm->vcpus[0].thread, NULL, wait_kick, NULL), 0);
	vm->vcpus[0].running = running;
	vm_stop(vm, 0, NULL);
	pthread_join(vm->vcpus[0].thread, NULL);
	assert_int_equal(kicked, want_kick);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	fake_vm_free(vm);
}

static void test_stop_kicks_running_only(void **state)
{
	stop_with_thread(true, true);
	stop_with_thread(false, false);
}

static void test_watchdog(void **state)
{
	const int sigs[] = { SIGINT, SIGTERM };
	struct vm *vm;

	for (int i = 0; i < 2; i++) {
		vm = fake_vm_new(1, 1 << 20);
		vm_catch_stop_signals();
		assert_false(vm_watchdog(vm, 1));
		raise(sigs[i]);
		assert_int_equal(vm_stop_signal(), sigs[i]);
		assert_true(vm_watchdog(vm, 1));
		assert_int_equal(vm->exit_status, VT_EXIT_SIGNAL);
		assert_non_null(strstr(vm->error, i ? "TERM" : "INT"));
		assert_false(vm->timed_out);
		fake_vm_free(vm);
	}
	/* SA_RESETHAND: after SIGTERM was caught, the next one is not */
	assert_true(signal(SIGTERM, SIG_DFL) == SIG_DFL);

	vm = fake_vm_new(1, 1 << 20);
	vm_catch_stop_signals();
	vm->deadline_ns = 1000;
	assert_false(vm_watchdog(vm, 1000));
	assert_true(vm_watchdog(vm, 1001));
	assert_true(vm->timed_out);
	assert_int_equal(vm->exit_status, VT_EXIT_TIMEOUT);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	fake_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_crash_exits),
		cmocka_unit_test(test_handled_exit_continues),
		cmocka_unit_test(test_vcpu_setup_failure),
		cmocka_unit_test(test_stop_kicks_running_only),
		cmocka_unit_test(test_watchdog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
