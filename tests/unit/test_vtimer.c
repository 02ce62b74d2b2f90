// SPDX-License-Identifier: MIT
/*
 * Checks the host timer engine's failure paths (src/timer/vtimer.c,
 * engine_host.c) without KVM: an injection whose KVM_SIGNAL_MSI fails (the
 * fake VM's fd is -1) is counted in inject_errors, not in injections; a
 * failing timer_settime for a vCPU's POSIX timer stops the run with 70 and
 * names the call; the PV CPUID leaves are added when features are offered,
 * and a VM whose CPUID table is missing makes timer_cpuid_setup fail instead
 * of being ignored; a PV page another vCPU has enabled is refused with #GP;
 * engine modes are refused at setup where a vCPU's TSC offset cannot be read
 * (here every KVM ioctl fails), not run with an assumed offset of 0, while
 * --timer=kvm (deliver=kernel) needs no offset; the storm floor and share
 * hold deadlines back, never forward. Tolerance: none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_vm.h"
#include "timer/timer.h"
#include "util.h"

#define LVTT_DEADLINE	(2u << 17)


static void test_inject_error_counted(void **state)
{
	struct vm *vm = fake_vm_new(1, 1 << 20);
	struct timer_engine e;
	struct vcpu_timer vt;

	fake_engine_init(&e, &vt, vm, DELIVER_VCPU, 0, 2600000);
	vt.lvtt = LVTT_DEADLINE | 0xec;
	vt.lvtt_known = true;
	vt.deadline = 1;
	vt_expire(&vt);
	assert_int_equal(vt.st.inject_errors, 1);
	assert_int_equal(vt.st.injections, 0);
	vt.lvtt = LVTT_DEADLINE | (1u << 16) | 0xec;	/* masked: dropped, not an error */
	vt_expire(&vt);
	assert_int_equal(vt.st.inject_errors, 1);
	assert_int_equal(vt.st.dropped, 1);
	fake_vm_free(vm);
}

static void test_settime_failure_stops(void **state)
{
	struct vm *vm = fake_vm_new(1, 1 << 20);
	struct timer_engine e;
	struct vcpu_timer vt;

	fake_engine_init(&e, &vt, vm, DELIVER_VCPU, 0, 2600000);
	vt.ptimer_ok = true;
	vt.ptimer = (timer_t)(intptr_t)0x7654321;	/* no such timer: EINVAL */
	vt_arm(&vt, host_to_guest_tsc(&vt.tsc, rdtsc()) + 1000000);
	assert_true(vm->stop);
	assert_int_equal(vm->exit_status, VT_EXIT_KVM);
	assert_non_null(strstr(vm->error, "timer_settime"));
	fake_vm_free(vm);
}

static void test_cpuid_setup(void **state)
{
	struct vm *vm = fake_vm_new(1, 1 << 20);
	struct kvm_cpuid_entry2 *e;

	assert_int_equal(timer_cpuid_setup(vm, 0), 0);
	assert_int_equal(vm->cpuid->nent, 0);
	assert_int_equal(timer_cpuid_setup(vm, VTIMER_F_LAZY), 0);
	e = kvm_cpuid_find(vm->cpuid, VTIMER_CPUID_FEATURES, 0);
	assert_non_null(e);
	assert_int_equal(e->eax, VTIMER_F_LAZY);
	assert_int_equal(e->ebx, MSR_VTIMER_PV);
	assert_non_null(kvm_cpuid_find(vm->cpuid, VTIMER_CPUID_SIGNATURE, 0));
	free(vm->cpuid);
	vm->cpuid = NULL;
	assert_int_equal(timer_cpuid_setup(vm, VTIMER_F_LAZY), -1);
	fake_vm_free(vm);
}

/*
 * A vCPU may not enable its PV page on a page another vCPU has enabled (the
 * host would publish one vCPU's armed/horizon into the other's protocol):
 * #GP, and the owner's page is untouched. Once the owner disables it, the
 * page is free again.
 */
static void test_pv_page_overlap_refused(void **state)
{
	struct vm *vm = fake_vm_new(2, 1 << 20);
	struct timer_engine e;
	struct vcpu_timer vt[2];
	struct vtimer_pv_page *pg = (struct vtimer_pv_page *)((uint8_t *)vm->mem + 0x10000);

	fake_engine_init(&e, &vt[0], vm, DELIVER_VCPU, 0, 2600000);
	vt[1] = vt[0];
	vt[1].vcpu = &vm->vcpus[1];
	pthread_mutex_init(&vt[1].lock, NULL);
	e.vt = vt;
	e.features = VTIMER_F_HORIZON;
	assert_int_equal(vt_wrmsr(&vm->vcpus[0], MSR_VTIMER_PV, 0x10000 | VTIMER_PV_ENABLE), 0);
	pg->pending = 12345;
	assert_int_equal(vt_wrmsr(&vm->vcpus[1], MSR_VTIMER_PV, 0x10000 | VTIMER_PV_ENABLE), 1);
	assert_int_equal(vt[1].st.pv_gp, 1);
	assert_null(vt[1].page);
	assert_int_equal(pg->version, VTIMER_PV_VERSION);
	assert_int_equal(pg->pending, 12345);
	assert_int_equal(vt_wrmsr(&vm->vcpus[1], MSR_VTIMER_PV, 0x11000 | VTIMER_PV_ENABLE), 0);
	assert_int_equal(vt_wrmsr(&vm->vcpus[0], MSR_VTIMER_PV, 0), 0);
	assert_int_equal(vt_wrmsr(&vm->vcpus[1], MSR_VTIMER_PV, 0x10000 | VTIMER_PV_ENABLE), 0);
	fake_vm_free(vm);
}

static void test_no_tsc_offset_refused(void **state)
{
	const enum timer_deliver engine[] = { DELIVER_VCPU, DELIVER_HOUSEKEEPING };
	struct vm *vm = fake_vm_new(2, 1 << 20);
	struct timer_engine e;
	struct timer_mode m = { .preset = "custom" };
	const struct timer_tuning tuning = { .advance_ns = HK_ADVANCE_AUTO };

	for (size_t i = 0; i < sizeof(engine) / sizeof(engine[0]); i++) {
		m.deliver = engine[i];
		assert_int_equal(timer_engine_init(&e, vm, &m, -1, &tuning), -1);
		assert_null(e.vt);
		assert_null(vm->timer);
		assert_null(vm->timer_ops);
		timer_engine_free(&e);
	}
	m.deliver = DELIVER_KERNEL;
	assert_int_equal(timer_engine_init(&e, vm, &m, -1, &tuning), 0);
	assert_null(vm->timer);
	timer_engine_free(&e);
	fake_vm_free(vm);
}

/* A vCPU timer whose LVTT is masked: expiries inject nothing (storm tests). */
static void masked_timer(struct timer_engine *e, struct vcpu_timer *vt, struct vm *vm)
{
	fake_engine_init(e, vt, vm, DELIVER_VCPU, 0, 2600000);
	vt->lvtt = LVTT_DEADLINE | (1u << 16) | 0xec;
	vt->lvtt_known = true;
}

/*
 * Storm floor: after an expiry, a deadline sooner than last expiry + floor
 * is armed at last expiry + floor (later, never earlier) and counted; one
 * beyond it is armed as asked. No floor: armed as asked.
 */
static void test_storm_floor(void **state)
{
	struct vm *vm = fake_vm_new(1, 1 << 20);
	struct timer_engine e;
	struct vcpu_timer vt;
	uint64_t now, fire;

	masked_timer(&e, &vt, vm);
	e.floor_cycles = 1000000;
	now = host_to_guest_tsc(&vt.tsc, rdtsc());
	vt_arm(&vt, now + 10);
	assert_int_equal(vt.st.floored, 0);		/* nothing fired yet */
	vt_expire(&vt);
	fire = vt.last_fire;
	assert_int_equal(vt.st.fired, 1);
	vt_arm(&vt, now + 20);
	assert_int_equal(vt.st.floored, 1);
	assert_int_equal(vt.host_deadline, fire + 1000000);
	assert_int_equal(vt.deadline, now + 20);	/* the guest's deadline is kept */
	vt_arm(&vt, host_to_guest_tsc(&vt.tsc, fire + 5000000));
	assert_int_equal(vt.st.floored, 1);
	assert_true(vt.host_deadline >= fire + 4999999);
	e.floor_cycles = 0;
	vt_arm(&vt, now + 30);
	assert_int_equal(vt.st.floored, 1);
	assert_true(vt.host_deadline < fire + 1000000);
	fake_vm_free(vm);
}

/*
 * Storm share: one expiry is charged at most the burst; while the bucket
 * is below 0 a deadline is held until it refills (later, never earlier, the
 * guest's deadline kept), and a charge that empties it holds the armed
 * timer too; a deadline beyond the refill is armed as asked; no share, no
 * hold. Then a storm: a deadline always due, 200 expiries each charged 20,000
 * cycles at a 10% share: the charged total stays within share * elapsed +
 * 2 * burst (timer.h), and the storm took at least the time that implies.
 */
static void test_storm_share(void **state)
{
	struct vm *vm = fake_vm_new(1, 1 << 20);
	struct timer_engine e;
	struct vcpu_timer vt;
	uint64_t g, t0, t1, charged;

	masked_timer(&e, &vt, vm);
	e.share_ppm = 100000;
	e.share_burst = 1000000;
	g = host_to_guest_tsc(&vt.tsc, rdtsc());
	vt_arm(&vt, g + 10);
	assert_int_equal(vt.st.throttled, 0);		/* a full bucket */
	vt_charge(&vt, 3000000);			/* at most the burst: empty, not below */
	assert_int_equal(vt.st.expire_ns, 1000000ULL * 1000000 / 2600000);
	assert_int_equal(vt.st.throttled, 0);
	t0 = rdtsc();
	vt_charge(&vt, 500000);				/* below 0: the armed timer is held */
	assert_int_equal(vt.st.throttled, 1);
	assert_true(vt.host_deadline > t0 + 4000000);	/* 500,000 cycles at 10%, less the refill */
	assert_true(vt.deadline == g + 10);
	t0 = rdtsc();
	vt_arm(&vt, g + 20);				/* held again on arming */
	assert_int_equal(vt.st.throttled, 2);
	assert_true(vt.host_deadline > t0 + 3000000);
	vt_arm(&vt, host_to_guest_tsc(&vt.tsc, rdtsc() + 100000000));	/* beyond: as asked */
	assert_int_equal(vt.st.throttled, 2);
	e.share_ppm = 0;
	vt_arm(&vt, g + 30);
	assert_int_equal(vt.st.throttled, 2);
	assert_true(vt.host_deadline <= rdtsc());

	/* the storm, from a full bucket */
	e.share_ppm = 100000;
	vt.budget = (int64_t)e.share_burst;
	vt.budget_t = rdtsc();
	charged = 0;
	t0 = rdtsc();
	for (int n = 0; n < 200; n++) {
		vt_arm(&vt, host_to_guest_tsc(&vt.tsc, rdtsc()));	/* due at once */
		while (vt.host_deadline > rdtsc())
			;
		vt_expire(&vt);
		vt_charge(&vt, 20000);
		charged += 20000;
	}
	t1 = rdtsc();
	assert_true(charged <= (t1 - t0) / 10 + 2 * e.share_burst);
	assert_true(t1 - t0 >= (charged - 2 * e.share_burst) * 10);
	/*
	 * Held at least once, at most once per arm. How many: the scheduler's
	 * say (a process descheduled 10 ms finds a full burst again; 99 of 200
	 * on a PVM host where ~150 is usual); the time and charge bounds above
	 * are the claim.
	 */
	assert_in_range(vt.st.throttled, 1, 200);
	fake_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inject_error_counted),
		cmocka_unit_test(test_settime_failure_stops),
		cmocka_unit_test(test_cpuid_setup),
		cmocka_unit_test(test_pv_page_overlap_refused),
		cmocka_unit_test(test_storm_floor),
		cmocka_unit_test(test_storm_share),
		cmocka_unit_test(test_no_tsc_offset_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
