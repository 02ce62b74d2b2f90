// SPDX-License-Identifier: MIT
/*
 * Checks src/bench/results.c against a hostile guest, without KVM: guest
 * memory is a host buffer. After the run the host must read results only
 * where its own copy of the boot record says, whatever the guest wrote over
 * the record in its memory (huge GPAs, a sample count whose products wrap,
 * a different CPU count); a result record's nr_samples is bounded by the
 * host's row length; records with the wrong version or CPU read as zeros;
 * layouts whose arithmetic would wrap are refused; a ucall naming another
 * slot, or one past the array, stops the run with 72. Tolerance: none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fake_vm.h"
#include "bench/runner.h"

#define MEM	(16ULL << 20)
#define COUNT	100

struct fx {
	struct vm *vm;
	struct vtimer_boot b;
	struct run_report r;
	struct timer_engine eng;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct run_config cfg = { .workload = VTIMER_WL_CYCLIC, .vcpus = 2, .count = COUNT };

	f->vm = fake_vm_new(2, MEM);
	f->vm->image_end = 0x200000;
	assert_int_equal(boot_layout(f->vm, &cfg, &f->b), 0);
	f->r.cfg = cfg;
	f->r.nr = 2;
	f->r.v = calloc(2, sizeof(*f->r.v));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	report_free(&f->r);
	fake_vm_free(f->vm);
	free(f);
	return 0;
}

/* What a well-behaved guest writes for cpu: n samples 1000, 2000, ..., events = COUNT. */
static void guest_result(struct fx *f, uint32_t cpu, uint64_t n)
{
	struct vtimer_result *res = (void *)(f->vm->mem + f->b.results_gpa) + cpu * sizeof(*res);
	int64_t *s = (void *)(f->vm->mem + f->b.samples_gpa) + cpu * COUNT * sizeof(int64_t);

	*res = (struct vtimer_result){ .version = VTIMER_ABI_VERSION, .cpu = cpu,
				       .state = VTIMER_RES_DONE, .nr_samples = n };
	res->c.events = COUNT;
	for (uint64_t k = 0; k < n && k < COUNT; k++)
		s[k] = 1000 * (k + 1);
}

static void test_layout_check(void **state)
{
	struct fx *f = *state;
	struct vtimer_boot b = f->b;

	assert_int_equal(boot_layout_check(&b, MEM), 0);
	b.nr_cpus = 0;
	assert_int_equal(boot_layout_check(&b, MEM), -1);
	b.nr_cpus = VTIMER_MAX_VCPUS + 1;
	assert_int_equal(boot_layout_check(&b, MEM), -1);
	b = f->b;
	b.samples_per_cpu = 1ULL << 61;			/* * 8 wraps to 0 */
	assert_int_equal(boot_layout_check(&b, MEM), -1);
	b.samples_per_cpu = (1ULL << 60) + 1;		/* * 8 fits, * nr_cpus wraps */
	assert_int_equal(boot_layout_check(&b, MEM), -1);
	b = f->b;
	b.samples_gpa = UINT64_MAX - 8;			/* base + size wraps */
	assert_int_equal(boot_layout_check(&b, MEM), -1);
	b = f->b;
	b.results_gpa = UINT64_MAX - 100;
	assert_int_equal(boot_layout_check(&b, MEM), -1);
	b = f->b;
	b.samples_gpa = b.results_gpa;			/* overlapping areas */
	assert_int_equal(boot_layout_check(&b, MEM), -1);
	assert_int_equal(boot_layout_check(&f->b, f->b.samples_gpa), -1);	/* past RAM */
}

/* The guest rewrote its boot record: the host's copy is what counts. */
static void test_rewritten_boot_record(void **state)
{
	struct fx *f = *state;
	struct vtimer_boot *gb = (void *)(f->vm->mem + VTIMER_GPA_BOOT);

	guest_result(f, 0, 3);
	guest_result(f, 1, 2);
	assert_memory_equal(gb, &f->b, sizeof(f->b));	/* boot_layout told the guest */
	gb->results_gpa = UINT64_MAX - 16;
	gb->samples_gpa = 1ULL << 63;
	gb->samples_per_cpu = (1ULL << 63) + 1;	/* nr * per + 1 wraps to a tiny buffer */
	gb->nr_cpus = 64;
	collect(&f->r, f->vm, &f->eng, &f->b);
	assert_int_equal(f->r.v[0].lat.n, 3);
	assert_int_equal(f->r.v[1].lat.n, 2);
	assert_int_equal(f->r.total.lat.n, 5);
	assert_int_equal(f->r.total.lat.max, 3000 * 1000000LL / f->vm->tsc_khz);
	assert_int_equal(f->r.total.c.events, 2 * COUNT);
}

static void test_hostile_results(void **state)
{
	struct fx *f = *state;
	struct vtimer_result res;
	const int64_t *s;

	guest_result(f, 0, UINT64_MAX);		/* more samples than the row holds */
	guest_result(f, 1, 5);
	assert_true(guest_result_read(f->vm, &f->b, 0, &res, &s));
	assert_int_equal(res.nr_samples, COUNT);
	assert_false(guest_result_read(f->vm, &f->b, 2, &res, &s));	/* no such vCPU */
	assert_false(guest_result_read(f->vm, &f->b, UINT32_MAX, &res, &s));
	((struct vtimer_result *)(f->vm->mem + f->b.results_gpa))[1].cpu = 0;
	assert_false(guest_result_read(f->vm, &f->b, 1, &res, &s));	/* another vCPU's */
	assert_int_equal(res.nr_samples, 0);
	assert_int_equal(res.c.events, 0);
	guest_result(f, 1, 5);
	((struct vtimer_result *)(f->vm->mem + f->b.results_gpa))[1].version = 99;
	collect(&f->r, f->vm, &f->eng, &f->b);
	assert_int_equal(f->r.v[0].lat.n, COUNT);
	assert_int_equal(f->r.v[1].lat.n, 0);
	assert_int_equal(f->r.v[1].c.lost, COUNT);	/* zeros: every event lost */
}

/* A host copy that is not a layout the host made is not followed either. */
static void test_bad_host_copy(void **state)
{
	struct fx *f = *state;
	struct vtimer_boot b = f->b;

	guest_result(f, 0, 3);
	b.samples_per_cpu = (1ULL << 63) + 1;
	collect(&f->r, f->vm, &f->eng, &b);
	assert_int_equal(f->r.total.lat.n, 0);
}

static int ucall(struct vm *vm, int vcpu, uint32_t slot, struct ucall_state *us)
{
	uint8_t data[4];

	memcpy(data, &slot, 4);
	return ucall_io(&vm->vcpus[vcpu], VTIMER_PORT_UCALL, true, 4, data, us);
}

static void test_ucall_slots(void **state)
{
	struct fx *f = *state;
	struct vtimer_ucall *u = (void *)(f->vm->mem + VTIMER_GPA_UCALL);
	struct ucall_state us = { 0 };

	u[1] = (struct vtimer_ucall){ .version = VTIMER_ABI_VERSION, .cmd = VTIMER_UCALL_SYNC };
	assert_int_equal(ucall(f->vm, 1, 1, &us), 0);
	assert_false(f->vm->stop);
	assert_int_equal(ucall(f->vm, 0, UINT32_MAX, &us), -1);	/* far past the array */
	assert_true(f->vm->stop);
	assert_int_equal(f->vm->exit_status, VT_EXIT_ABORT);
	f->vm->stop = false;
	assert_int_equal(ucall(f->vm, 0, 1, &us), -1);		/* another vCPU's slot */
	assert_int_equal(f->vm->exit_status, VT_EXIT_ABORT);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_layout_check),
		T(test_rewritten_boot_record),
		T(test_hostile_results),
		T(test_bad_host_copy),
		T(test_ucall_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
