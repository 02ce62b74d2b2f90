// SPDX-License-Identifier: MIT
/*
 * kvm-unit-tests-style console lines (src/bench/kout.c): "latency: N" lines
 * become samples in ns, negative ones counted early; "SUMMARY:" lines in
 * each of report_summary()'s shapes are parsed, anything not exactly in
 * those shapes is ignored; the sample count is bounded. And the serial
 * device hands whole lines to the hook, dropping overlong ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bench/kout.h"
#include "fake_vm.h"

static void feed(struct kout *k, const char *s)
{
	kout_line(k, s, strlen(s));
}

static void test_latency_lines(void **state)
{
	struct kout k = { 0 };
	struct kout_result r;

	feed(&k, "latency: 2000");
	feed(&k, "latency: 4000\r");
	feed(&k, "hit max: 100 < latency: 6000");
	feed(&k, "latency: -1000");
	/* Not latency lines, or not whole numbers: ignored. */
	feed(&k, "apic version: 1050014");
	feed(&k, "xlatency: 5");
	feed(&k, "latency: ");
	feed(&k, "latency: 12ab");
	feed(&k, "latency: 99999999999999999999");
	feed(&k, "latency: 1 2");
	feed(&k, "PASS: latency: 7");
	kout_finish(&k, 2000000, &r);	/* 2 GHz: 2 cycles per ns */
	assert_int_equal(r.lat.n, 4);
	assert_int_equal(r.lat.min, -500);
	assert_int_equal(r.lat.max, 3000);
	assert_int_equal(r.early, 1);
	assert_int_equal(r.dropped, 0);
	assert_false(r.summary.seen);
	assert_null(k.lat);
}

static void test_summary_lines(void **state)
{
	static const struct {
		const char *line;
		bool seen;
		uint32_t tests, failures, xfailures, skipped;
	} cases[] = {
		{ "SUMMARY: 12 tests", true, 12, 0, 0, 0 },
		{ "SUMMARY: 12 tests, 7 unexpected failures", true, 12, 7, 0, 0 },
		{ "SUMMARY: 3 tests, 1 expected failures", true, 3, 0, 1, 0 },
		{ "SUMMARY: 9 tests, 2 skipped\r", true, 9, 0, 0, 2 },
		{ "SUMMARY: 9 tests, 1 unexpected failures, 2 expected failures, 3 skipped", true,
		  9, 1, 2, 3 },
		{ "SUMMARY: 9 tests, 3 skipped, 1 unexpected failures", false, 0, 0, 0, 0 },
		{ "SUMMARY: tests", false, 0, 0, 0, 0 },
		{ "SUMMARY: 9 tests,", false, 0, 0, 0, 0 },
		{ "SUMMARY: 99999999999 tests", false, 0, 0, 0, 0 },
		{ "SUMMARY: 9 tests and more", false, 0, 0, 0, 0 },
		{ " SUMMARY: 9 tests", false, 0, 0, 0, 0 },
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kout k = { 0 };
		struct kout_result r;

		feed(&k, cases[i].line);
		kout_finish(&k, 1000000, &r);
		assert_int_equal(r.summary.seen, cases[i].seen);
		if (!cases[i].seen)
			continue;
		assert_int_equal(r.summary.tests, cases[i].tests);
		assert_int_equal(r.summary.failures, cases[i].failures);
		assert_int_equal(r.summary.xfailures, cases[i].xfailures);
		assert_int_equal(r.summary.skipped, cases[i].skipped);
	}
}

static void test_bounded(void **state)
{
	struct kout k = { 0 };
	struct kout_result r;

	for (uint32_t i = 0; i < KOUT_MAX_SAMPLES + 10; i++)
		feed(&k, "latency: 1");
	feed(&k, "latency: 9223372036854775807");
	kout_finish(&k, 1000000, &r);
	assert_int_equal(r.lat.n, KOUT_MAX_SAMPLES);
	assert_int_equal(r.dropped, 11);
	assert_int_equal(r.lat.max, 1);
}

struct lines {
	int n;
	char last[300];
	size_t len;
};

static void hook(void *arg, const char *line, size_t len)
{
	struct lines *l = arg;

	l->n++;
	memcpy(l->last, line, len);
	l->len = len;
}

static void out(struct vm *vm, char c)
{
	uint8_t b = (uint8_t)c;

	assert_int_equal(vm->pio[0].fn(&vm->vcpus[0], VTIMER_SERIAL_BASE, true, 1, &b,
				       vm->pio[0].opaque), 0);
}

static void test_serial_lines(void **state)
{
	struct vm *vm = fake_vm_new(1, 1 << 20);
	struct lines l = { 0 };
	FILE *f = tmpfile();

	assert_non_null(f);
	vm->console = f;
	vm->console_line = hook;
	vm->console_arg = &l;
	assert_int_equal(serial_init(vm), 0);
	for (const char *s = "latency: 5\n\n"; *s; s++)
		out(vm, *s);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.len, 0);
	for (int i = 0; i < 300; i++)
		out(vm, 'x');
	out(vm, '\n');
	assert_int_equal(l.n, 2);	/* longer than the buffer: not passed on */
	out(vm, 'a');
	out(vm, '\n');
	assert_int_equal(l.n, 3);
	assert_int_equal(l.len, 1);
	assert_memory_equal(l.last, "a", 1);
	fclose(f);
	fake_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latency_lines),
		cmocka_unit_test(test_summary_lines),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_serial_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
