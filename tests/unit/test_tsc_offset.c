// SPDX-License-Identifier: MIT
/*
 * Checks the timer engine against the guest's TSC offset (src/timer/tsc.c,
 * vtimer.c) without KVM.
 *
 * Large negative offsets: KVM's usual offset is minus the host TSC at
 * creation, and a guest that wrote IA32_TSC near 2^64 has one below minus
 * the host TSC (its clock wraps modulo 2^64, as KVM computes it). With such
 * offsets, down to INT64_MIN, and guest deadlines from 1 to 2^64 - 1, an
 * armed host deadline never maps back before the guest deadline, a deadline
 * not yet due is never armed at or before the host's present, one past the
 * 2^62-cycle horizon gets no host timer, and an expiry of a deadline not yet
 * due re-arms once into the future instead of looping (each simulated
 * housekeeping pass finds nothing due afterwards).
 *
 * The refresh: guest writes of IA32_TSC and IA32_TSC_ADJUST go through a
 * fake TSC source with KVM's guest semantics; the vCPU's conversion then
 * holds the new offset, an armed deadline keeps its guest value and moves in
 * host time by exactly the offset change (in the heap too), a deadline the
 * new TSC has passed becomes due at once (never early), a look stays a look,
 * ~0 is "never" unless the guest set its clock within the horizon of 2^64
 * (then it falls where hardware would fire it), "off" stays off; a source
 * that fails stops the run with 70, and
 * an engine without a source answers #GP. The mirrored LVTT is masked, so an
 * injection shows as `dropped` and no ioctl is made. Tolerance: the
 * host-time move is exact; "due at once" is checked against rdtsc().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fake_vm.h"
#include "timer/timer.h"
#include "util.h"

#define MSR_IA32_TSC		0x10
#define MSR_IA32_TSC_ADJUST	0x3b
#define LVTT_MASKED_DEADLINE	(0x40u | (1u << 16) | (2u << 17))
#define KHZ			2600000ULL
#define SECOND			(KHZ * 1000)

struct fx {
	struct vm *vm;
	struct timer_engine e;
	struct vcpu_timer vt;
	struct vtimer_pv_page *page;
};

/* A fake KVM: one vCPU's offset and IA32_TSC_ADJUST, with KVM's guest semantics. */
static struct {
	int64_t off;
	uint64_t adjust;
	int fail;
	int writes;
} fake;

static int fake_offset(struct vcpu *vcpu, int64_t *off)
{
	(void)vcpu;
	*off = fake.off;
	return 0;
}

static int fake_guest_write(struct vcpu *vcpu, uint32_t msr, uint64_t val)
{
	int64_t adj;

	(void)vcpu;
	if (fake.fail)
		return fake.fail;
	fake.writes++;
	if (msr == MSR_IA32_TSC)
		adj = (int64_t)(val - rdtsc() - (uint64_t)fake.off);
	else
		adj = (int64_t)(val - fake.adjust);
	fake.off = (int64_t)((uint64_t)fake.off + (uint64_t)adj);
	fake.adjust += (uint64_t)adj;
	return 0;
}

static const struct tsc_source fake_src = {
	.offset = fake_offset,
	.guest_write = fake_guest_write,
};

static void fx_init(struct fx *f, int64_t offset, bool pv)
{
	f->vm = fake_vm_new(1, 1 << 20);
	fake_engine_init(&f->e, &f->vt, f->vm, DELIVER_HOUSEKEEPING, offset, KHZ);
	f->e.tsc_src = &fake_src;
	f->e.hk = hk_create(&f->e);
	assert_non_null(f->e.hk);
	memset(&fake, 0, sizeof(fake));
	fake.off = offset;
	f->page = NULL;
	if (pv) {
		f->e.features = VTIMER_F_HORIZON;
		assert_int_equal(vt_wrmsr(f->vt.vcpu, MSR_VTIMER_PV, 0x10000 | VTIMER_PV_ENABLE), 0);
		f->page = f->vt.page;
		assert_non_null(f->page);
		f->page->lvtt = LVTT_MASKED_DEADLINE;
	}
}

static void fx_free(struct fx *f)
{
	hk_free(f->e.hk);
	fake_vm_free(f->vm);
}

static uint64_t guest_now(const struct fx *f)
{
	return host_to_guest_tsc(&f->vt.tsc, rdtsc());
}

/* What the housekeeping thread does: expire while the timer is due. */
static int hk_pass(struct fx *f)
{
	int n = 0;

	while (f->vt.host_deadline && f->vt.host_deadline <= rdtsc() && n < 1000) {
		vt_expire(&f->vt);
		n++;
	}
	return n;
}

static const int64_t big_negative[] = {
	-1, -(1LL << 40), INT64_MIN / 2, INT64_MIN + 1, INT64_MIN,
};

static void deadlines_for(const struct fx *f, uint64_t d[], size_t *n)
{
	uint64_t g = guest_now(f);
	const uint64_t v[] = {
		1, g - 1, g + 1000, g + SECOND, g + (1ULL << 62), g + (1ULL << 62) + 1,
		1ULL << 62, (1ULL << 63) - 1, 1ULL << 63, UINT64_MAX - (1ULL << 40),
		UINT64_MAX - SECOND, UINT64_MAX - 1, UINT64_MAX,
	};

	memcpy(d, v, sizeof(v));
	*n = sizeof(v) / sizeof(v[0]);
}

static void check_arm(struct fx *f, uint64_t d)
{
	uint64_t h0 = rdtsc(), g0 = guest_now(f), g1, h;

	vt_arm(&f->vt, d);
	g1 = guest_now(f);
	h = f->vt.host_deadline;
	assert_true(f->vt.deadline == d);
	if (!h) {
		/* never: only past the horizon */
		assert_true(tsc_is_never(d, g0));
		assert_null(hk_peek(f->e.hk));
		return;
	}
	assert_false(tsc_is_never(d, g1));
	assert_ptr_equal(hk_peek(f->e.hk), &f->vt);
	/* the host deadline maps back at or after the guest deadline */
	assert_true(host_to_guest_tsc(&f->vt.tsc, h) >= d || (h == 1 && d <= g1));
	/* a deadline not yet due is not armed in the host's past */
	if (d > g1)
		assert_true(h > h0);
}

/* Every offset, every deadline: never early, never without cause "never". */
static void test_negative_offsets_never_early(void **state)
{
	int64_t offs[sizeof(big_negative) / sizeof(big_negative[0]) + 2];
	size_t no = 0;

	(void)state;
	memcpy(offs, big_negative, sizeof(big_negative));
	no = sizeof(big_negative) / sizeof(big_negative[0]);
	offs[no++] = -(int64_t)rdtsc();			/* KVM's: guest TSC 0 at creation */
	offs[no++] = -(int64_t)rdtsc() - (1LL << 30);	/* the guest wrote IA32_TSC = -2^30 */
	for (size_t k = 0; k < no; k++) {
		struct fx f;
		uint64_t d[16];
		size_t n;

		fx_init(&f, offs[k], false);
		deadlines_for(&f, d, &n);
		for (size_t i = 0; i < n; i++)
			check_arm(&f, d[i]);
		fx_free(&f);
	}
}

/*
 * An expiry that finds `pending` not yet due re-arms it; with a wrapped
 * conversion that re-arm landed in the host's past, so the housekeeping
 * thread expired it again at once, forever, holding its lock. Here each
 * pending value gets one early expiry and then a housekeeping pass: the
 * pass may inject a due deadline once, and what stays armed was armed, not
 * yet due, after the expiry began.
 */
static void test_negative_offsets_no_rearm_loop(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(big_negative) / sizeof(big_negative[0]) + 1; k++) {
		int64_t off = k < sizeof(big_negative) / sizeof(big_negative[0]) ?
			      big_negative[k] : -(int64_t)rdtsc() - (1LL << 30);
		struct fx f;
		uint64_t d[16];
		size_t n;

		fx_init(&f, off, true);
		deadlines_for(&f, d, &n);
		for (size_t i = 0; i < n; i++) {
			uint64_t dropped = f.vt.st.dropped, g, te;

			f.page->pending = d[i];
			vt_arm(&f.vt, d[i]);
			te = rdtsc();
			vt_expire(&f.vt);	/* woken early, or on time */
			g = guest_now(&f);
			if (f.vt.st.dropped != dropped) {
				/* injected: it was due */
				assert_true(d[i] <= g);
				assert_int_equal(f.vt.host_deadline, 0);
			} else if (f.vt.host_deadline) {
				assert_true(f.vt.host_deadline > rdtsc() || d[i] <= guest_now(&f));
			}
			assert_in_range(hk_pass(&f), 0, 1);
			/*
			 * Whatever is armed now was re-armed, not yet due, at or
			 * after te (a wrapped re-arm lands far in the host's past).
			 * Not "after now": g + 1000 is ~0.4 us away, and a
			 * preemption after the pass let it fall due before the
			 * check (one CI run on the PVM host, 2026-12-07).
			 */
			assert_true(!f.vt.host_deadline || f.vt.host_deadline > te);
		}
		fx_free(&f);
	}
}

static void test_refresh_moves_armed_timer(void **state)
{
	struct fx f;
	uint64_t d, h1, g;
	int64_t o1;

	(void)state;
	fx_init(&f, (int64_t)(1ULL << 40) - (int64_t)rdtsc(), false);	/* guest TSC 2^40 */
	d = guest_now(&f) + SECOND;
	vt_arm(&f.vt, d);
	h1 = f.vt.host_deadline;
	o1 = f.vt.tsc.offset;

	/* IA32_TSC one second back: the deadline is a second further in host time */
	assert_int_equal(vt_wrmsr(f.vt.vcpu, MSR_IA32_TSC, guest_now(&f) - SECOND), 0);
	assert_int_equal(f.vt.st.tsc_writes, 1);
	assert_true(f.vt.tsc.offset == fake.off);
	assert_true(f.vt.deadline == d);
	assert_true(f.vt.host_deadline == h1 + (uint64_t)(o1 - fake.off));
	assert_true(o1 - fake.off >= (int64_t)SECOND);
	assert_true((int64_t)fake.adjust == fake.off - o1);	/* KVM: the change lands in ADJUST */
	assert_ptr_equal(hk_peek(f.e.hk), &f.vt);
	assert_true(f.vt.hk_key == f.vt.host_deadline);
	assert_int_equal(hk_pass(&f), 0);

	/* IA32_TSC_ADJUST three seconds on: the deadline is now passed, due at once */
	assert_int_equal(vt_wrmsr(f.vt.vcpu, MSR_IA32_TSC_ADJUST, fake.adjust + 3 * SECOND), 0);
	assert_int_equal(f.vt.st.tsc_writes, 2);
	assert_true(f.vt.tsc.offset == fake.off);
	g = guest_now(&f);
	assert_true(g > d);
	assert_true(f.vt.deadline == d);
	assert_true(f.vt.host_deadline <= rdtsc());
	assert_true(host_to_guest_tsc(&f.vt.tsc, f.vt.host_deadline) >= d);	/* not early */
	assert_true(f.vt.hk_key == f.vt.host_deadline);
	fx_free(&f);
}

/*
 * KVM moves the offset by itself where the host TSC is unstable (vcpu_load's
 * catch-up): vt_exited(), after every KVM_RUN return, re-reads it. A move
 * re-arms the armed deadline at its new host time and is counted apart from
 * guest TSC writes; an unchanged offset changes nothing.
 */
static void test_kvm_moves_offset(void **state)
{
	struct fx f;
	uint64_t d, h1;

	(void)state;
	fx_init(&f, (int64_t)(1ULL << 40) - (int64_t)rdtsc(), false);	/* guest TSC 2^40 */
	d = guest_now(&f) + SECOND;
	vt_arm(&f.vt, d);
	h1 = f.vt.host_deadline;
	vt_exited(f.vt.vcpu);
	assert_int_equal(f.vt.st.tsc_moves, 0);
	assert_true(f.vt.host_deadline == h1);

	fake.off -= (int64_t)SECOND;	/* the guest TSC restarted a second behind */
	vt_exited(f.vt.vcpu);
	assert_int_equal(f.vt.st.tsc_moves, 1);
	assert_int_equal(f.vt.st.tsc_writes, 0);
	assert_true(f.vt.tsc.offset == fake.off);
	assert_true(f.vt.deadline == d);
	assert_true(f.vt.host_deadline == h1 + SECOND);
	assert_true(f.vt.hk_key == f.vt.host_deadline);
	assert_ptr_equal(hk_peek(f.e.hk), &f.vt);
	vt_exited(f.vt.vcpu);
	assert_int_equal(f.vt.st.tsc_moves, 1);
	fx_free(&f);
}

static bool fake_fixed_answer;
static int fake_offset_reads;

static int fake_offset_counted(struct vcpu *vcpu, int64_t *off)
{
	fake_offset_reads++;
	return fake_offset(vcpu, off);
}

static bool fake_offset_fixed(void)
{
	return fake_fixed_answer;
}

/*
 * A source that says its offsets cannot move by themselves (KVM with the
 * host TSC as clocksource) is not read after an exit; once it says they
 * can, the next exit reads and follows a move.
 */
static void test_fixed_offset_not_reread(void **state)
{
	static const struct tsc_source src = {
		.offset = fake_offset_counted,
		.guest_write = fake_guest_write,
		.offset_fixed = fake_offset_fixed,
	};
	struct fx f;

	(void)state;
	fx_init(&f, 0, false);
	f.e.tsc_src = &src;
	fake_offset_reads = 0;
	fake_fixed_answer = true;
	fake.off += 1000;
	vt_exited(f.vt.vcpu);
	assert_int_equal(fake_offset_reads, 0);
	assert_int_equal(f.vt.st.tsc_moves, 0);
	fake_fixed_answer = false;
	vt_exited(f.vt.vcpu);
	assert_int_equal(fake_offset_reads, 1);
	assert_int_equal(f.vt.st.tsc_moves, 1);
	assert_true(f.vt.tsc.offset == fake.off);
	fx_free(&f);
}

static void test_clocksource_is_tsc(void **state)
{
	(void)state;
	assert_true(clocksource_is_tsc("tsc\n"));
	assert_true(clocksource_is_tsc("tsc"));
	assert_false(clocksource_is_tsc("hpet\n"));
	assert_false(clocksource_is_tsc("kvm-clock\n"));
	assert_false(clocksource_is_tsc("tsc-early\n"));
	assert_false(clocksource_is_tsc(""));
}

static void test_refresh_keeps_look_never_off(void **state)
{
	struct fx f;

	(void)state;
	/* negative, yet the guest's clock stays far from 2^64 on a fresh host */
	fx_init(&f, -(int64_t)(rdtsc() / 2), true);
	/* a look stays a look */
	vt_arm(&f.vt, guest_now(&f) + SECOND);
	f.vt.look = true;
	assert_int_equal(vt_wrmsr(f.vt.vcpu, MSR_IA32_TSC, 12345), 0);
	assert_true(f.vt.look);
	assert_true(f.vt.host_deadline == f.vt.deadline - (uint64_t)fake.off);
	/*
	 * ~0 is never while the guest's clock is far from it; once the guest
	 * sets its clock a second short of 2^64, it falls a second ahead, as on
	 * hardware (TSC >= deadline); set back, it is never again.
	 */
	vt_arm(&f.vt, UINT64_MAX);
	assert_int_equal(f.vt.host_deadline, 0);
	assert_int_equal(vt_wrmsr(f.vt.vcpu, MSR_IA32_TSC, UINT64_MAX - SECOND), 0);
	assert_true(f.vt.deadline == UINT64_MAX);
	assert_true(f.vt.host_deadline > rdtsc());
	assert_true(host_to_guest_tsc(&f.vt.tsc, f.vt.host_deadline) == UINT64_MAX);
	assert_int_equal(vt_wrmsr(f.vt.vcpu, MSR_IA32_TSC, 12345), 0);
	assert_true(f.vt.deadline == UINT64_MAX);
	assert_int_equal(f.vt.host_deadline, 0);
	assert_null(hk_peek(f.e.hk));
	assert_int_equal(hk_pass(&f), 0);
	/* off stays off */
	vt_disarm(&f.vt);
	assert_int_equal(vt_wrmsr(f.vt.vcpu, MSR_IA32_TSC_ADJUST, 0), 0);
	assert_int_equal(f.vt.deadline, 0);
	assert_null(hk_peek(f.e.hk));
	assert_int_equal(f.vt.st.tsc_writes, 4);
	assert_int_equal(fake.writes, 4);
	fx_free(&f);
}

static void test_refresh_failure_stops(void **state)
{
	struct fx f;
	int64_t off = -(1LL << 40);

	(void)state;
	fx_init(&f, off, false);
	fake.fail = -ENXIO;
	assert_int_equal(vt_wrmsr(f.vt.vcpu, MSR_IA32_TSC, 0), 0);
	assert_true(f.vm->stop);
	assert_int_equal(f.vm->exit_status, VT_EXIT_KVM);
	assert_non_null(strstr(f.vm->error, "0x10"));
	assert_true(f.vt.tsc.offset == off);
	fx_free(&f);

	fx_init(&f, off, false);
	f.e.tsc_src = NULL;	/* no source: the MSR is not the engine's, #GP */
	assert_int_equal(vt_wrmsr(f.vt.vcpu, MSR_IA32_TSC_ADJUST, 1), 1);
	assert_int_equal(f.vt.st.tsc_writes, 0);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negative_offsets_never_early),
		cmocka_unit_test(test_negative_offsets_no_rearm_loop),
		cmocka_unit_test(test_refresh_moves_armed_timer),
		cmocka_unit_test(test_kvm_moves_offset),
		cmocka_unit_test(test_fixed_offset_not_reread),
		cmocka_unit_test(test_clocksource_is_tsc),
		cmocka_unit_test(test_refresh_keeps_look_never_off),
		cmocka_unit_test(test_refresh_failure_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
