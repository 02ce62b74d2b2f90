// SPDX-License-Identifier: MIT
/*
 * Checks the per-vCPU PV timer paths of src/timer/vtimer.c without KVM: the
 * look-ahead after an injection (a scan finding `pending` equal to the look
 * time must arm it as a deadline, tests/models/lazy.pml -DLOOK_SCAN_KEEPS_LOOK)
 * and what reading IA32_TSC_DEADLINE returns (the guest's deadline, 0 once it
 * fired; never a look time). The mirrored LVTT is masked, so every injection
 * shows as `dropped` and no ioctl is made. Guest TSC = host TSC (offset 0).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fake_vm.h"

#define MSR_TSC_DEADLINE	0x6e0
#define FAR			(1ULL << 62)

static struct vm vm;
static struct vcpu vcpu;
static struct timer_engine eng;
static struct vcpu_timer vt;
static struct vtimer_pv_page page;

static int setup(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	memset(&eng, 0, sizeof(eng));
	memset(&vt, 0, sizeof(vt));
	vm.nr_vcpus = 1;
	vm.fd = -1;
	vm.vcpus = &vcpu;
	vm.timer = &eng;
	vcpu.vm = &vm;
	vcpu.fd = -1;
	eng.vm = &vm;
	eng.vt = &vt;
	eng.mode.deliver = DELIVER_HOUSEKEEPING;
	eng.features = VTIMER_F_LAZY | VTIMER_F_HORIZON;
	eng.look_ns = 20000;
	eng.hk = hk_create(&eng);
	assert_non_null(eng.hk);
	pthread_mutex_init(&vt.lock, NULL);
	vt.eng = &eng;
	vt.vcpu = &vcpu;
	vt.heap_idx = -1;
	vt.tsc = (struct tsc_conv){ .guest_khz = 1000000, .host_khz = 1000000 };
	fake_pv_page(&vt, &page);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hk_free(eng.hk);
	pthread_mutex_destroy(&vt.lock);
	return 0;
}

static uint64_t read_deadline(void)
{
	uint64_t v = ~0ULL;

	assert_int_equal(vt_rdmsr(&vcpu, MSR_TSC_DEADLINE, &v), 0);
	return v;
}

static void test_scan_finds_pending_at_look_time(void **state)
{
	uint64_t look;

	(void)state;
	page.pending = 1;	/* long passed: the expiry injects, then looks */
	vt_expire(&vt);
	assert_int_equal(vt.st.dropped, 1);
	assert_true(vt.look);
	look = vt.deadline;
	assert_int_equal(page.armed, look);
	assert_int_equal(read_deadline(), 0);	/* fired; the look is not a deadline */

	page.pending = look;	/* LAZY guest: D >= armed, no MSR write */
	assert_int_equal(read_deadline(), look);
	vt_scan(&vt, FAR, 0);
	assert_false(vt.look);	/* armed as the guest's deadline */
	assert_int_equal(vt.deadline, look);
	assert_int_equal(page.armed, look);
	assert_int_equal(read_deadline(), look);

	while (__builtin_ia32_rdtsc() < look)
		__builtin_ia32_pause();
	vt_expire(&vt);
	assert_int_equal(vt.st.dropped, 2);	/* injected, not lost */
	assert_int_equal(read_deadline(), 0);
}

static void test_rdmsr_reads_guest_deadline(void **state)
{
	uint64_t now = __builtin_ia32_rdtsc();

	(void)state;
	page.pending = now + FAR / 2;
	assert_int_equal(vt_wrmsr(&vcpu, MSR_TSC_DEADLINE, page.pending), 0);
	assert_int_equal(read_deadline(), now + FAR / 2);
	page.pending = now + FAR;	/* later: skipped the MSR (LAZY) */
	assert_int_equal(read_deadline(), now + FAR);
	page.pending = 0;
	assert_int_equal(read_deadline(), 0);
	page.pending = 5;	/* passed: the write injects at once */
	assert_int_equal(vt_wrmsr(&vcpu, MSR_TSC_DEADLINE, 5), 0);
	assert_int_equal(vt.st.dropped, 1);
	assert_int_equal(read_deadline(), 0);

	vt.page = NULL;	/* plain MSR: the value written, 0 once fired */
	vt.lvtt = FAKE_LVTT_MASKED_DEADLINE;
	assert_int_equal(vt_wrmsr(&vcpu, MSR_TSC_DEADLINE, now + FAR), 0);
	assert_int_equal(read_deadline(), now + FAR);
	vt_expire(&vt);
	assert_int_equal(read_deadline(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan_finds_pending_at_look_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rdmsr_reads_guest_deadline, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
