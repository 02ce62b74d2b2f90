// SPDX-License-Identifier: MIT
/*
 * Checks src/timer/engine.c: every --timer preset maps to its point on the
 * program/discover/deliver axes, unknown presets and bad axis values are
 * refused, scan:<us> converts to nanoseconds, every preset passes
 * timer_mode_check, and the combinations that cannot work are refused.
 * Tolerance: none, all exact. Refusals print one line
 * on stderr; that noise is expected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "timer/engine.h"
#include "util.h"

static const struct {
	const char *name;
	enum timer_program program;
	enum timer_discover discover;
	enum timer_deliver deliver;
	uint64_t scan_ns;
} want_presets[] = {
	{ "kvm", PROGRAM_MSR, DISCOVER_EXIT, DELIVER_KERNEL, 0 },
	{ "exitless", PROGRAM_MSR, DISCOVER_EXIT, DELIVER_HOUSEKEEPING, 0 },
	{ "pvtimer", PROGRAM_PV, DISCOVER_SCAN, DELIVER_HOUSEKEEPING, 500000 },
	{ "lazy", PROGRAM_LAZY, DISCOVER_EXIT, DELIVER_VCPU, 0 },
	{ "apicv-model", PROGRAM_DIRECT, DISCOVER_SPIN, DELIVER_HOUSEKEEPING, 0 },
	{ "hybrid", PROGRAM_HYBRID, DISCOVER_SCAN, DELIVER_HOUSEKEEPING, 500000 },
};

#define NR_PRESETS (sizeof(want_presets) / sizeof(want_presets[0]))

static struct timer_mode preset(const char *name)
{
	struct timer_mode m;

	memset(&m, 0, sizeof(m));
	assert_int_equal(timer_mode_preset(name, &m), 0);
	return m;
}

static void test_presets_axes(void **state)
{
	for (size_t i = 0; i < NR_PRESETS; i++) {
		struct timer_mode m = preset(want_presets[i].name);

		assert_string_equal(m.preset, want_presets[i].name);
		assert_int_equal(m.program, want_presets[i].program);
		assert_int_equal(m.discover, want_presets[i].discover);
		assert_int_equal(m.deliver, want_presets[i].deliver);
		if (m.discover == DISCOVER_SCAN)
			assert_int_equal(m.scan_ns, want_presets[i].scan_ns);
	}
}

static void test_presets_names(void **state)
{
	struct timer_mode m = preset("pvtimer");

	assert_string_equal(timer_program_name(m.program), "pv");
	assert_string_equal(timer_discover_name(m.discover), "scan");
	assert_string_equal(timer_deliver_name(m.deliver), "housekeeping");
	m = preset("apicv-model");
	assert_string_equal(timer_program_name(m.program), "direct");
	assert_string_equal(timer_discover_name(m.discover), "spin");
	m = preset("lazy");
	assert_string_equal(timer_program_name(m.program), "lazy");
	assert_string_equal(timer_deliver_name(m.deliver), "vcpu");
	m = preset("kvm");
	assert_string_equal(timer_program_name(m.program), "msr");
	assert_string_equal(timer_discover_name(m.discover), "exit");
	assert_string_equal(timer_deliver_name(m.deliver), "kernel");
}

static void test_preset_unknown(void **state)
{
	struct timer_mode m = { .preset = "untouched" };

	assert_int_equal(timer_mode_preset("nope", &m), -1);
	assert_int_equal(timer_mode_preset("", &m), -1);
	assert_int_equal(timer_mode_preset("KVM", &m), -1);
	assert_int_equal(timer_mode_preset("kvm ", &m), -1);
	assert_string_equal(m.preset, "untouched");
}

static void test_axis_program(void **state)
{
	struct timer_mode m = preset("kvm");

	assert_int_equal(timer_axis_parse("program", "pv", &m), 0);
	assert_int_equal(m.program, PROGRAM_PV);
	assert_string_equal(m.preset, "custom");
	assert_int_equal(timer_axis_parse("program", "lazy", &m), 0);
	assert_int_equal(m.program, PROGRAM_LAZY);
	assert_int_equal(timer_axis_parse("program", "direct", &m), 0);
	assert_int_equal(m.program, PROGRAM_DIRECT);
	assert_int_equal(timer_axis_parse("program", "msr", &m), 0);
	assert_int_equal(m.program, PROGRAM_MSR);
	assert_int_equal(timer_axis_parse("program", "exit", &m), -1);
	assert_int_equal(timer_axis_parse("program", "", &m), -1);
	assert_int_equal(m.program, PROGRAM_MSR);
}

static void test_axis_deliver(void **state)
{
	struct timer_mode m = preset("kvm");

	assert_int_equal(timer_axis_parse("deliver", "vcpu", &m), 0);
	assert_int_equal(m.deliver, DELIVER_VCPU);
	assert_int_equal(timer_axis_parse("deliver", "housekeeping", &m), 0);
	assert_int_equal(m.deliver, DELIVER_HOUSEKEEPING);
	assert_int_equal(timer_axis_parse("deliver", "kernel", &m), 0);
	assert_int_equal(m.deliver, DELIVER_KERNEL);
	assert_int_equal(timer_axis_parse("deliver", "msr", &m), -1);
	assert_int_equal(m.deliver, DELIVER_KERNEL);
}

static void test_axis_discover(void **state)
{
	struct timer_mode m = preset("kvm");

	assert_int_equal(timer_axis_parse("discover", "spin", &m), 0);
	assert_int_equal(m.discover, DISCOVER_SPIN);
	assert_int_equal(timer_axis_parse("discover", "exit", &m), 0);
	assert_int_equal(m.discover, DISCOVER_EXIT);
	assert_int_equal(timer_axis_parse("discover", "kernel", &m), -1);
	assert_int_equal(m.discover, DISCOVER_EXIT);
}

static void test_axis_scan_period(void **state)
{
	struct timer_mode m = preset("kvm");

	assert_int_equal(timer_axis_parse("discover", "scan:250", &m), 0);
	assert_int_equal(m.discover, DISCOVER_SCAN);
	assert_int_equal(m.scan_ns, 250000);
	assert_int_equal(timer_axis_parse("discover", "scan:1", &m), 0);
	assert_int_equal(m.scan_ns, 1000);
	/* the largest period whose nanoseconds still fit in 64 bits */
	assert_int_equal(timer_axis_parse("discover", "scan:18446744073709551", &m), 0);
	assert_true(m.scan_ns == 18446744073709551000ULL);
}

static void test_axis_scan_look(void **state)
{
	struct timer_mode m = preset("hybrid");

	assert_int_equal(m.scan_ns, 500000);
	assert_int_equal(m.look_ns, 20000);
	assert_int_equal(timer_axis_parse("discover", "scan:100,look:10", &m), 0);
	assert_int_equal(m.scan_ns, 100000);
	assert_int_equal(m.look_ns, 10000);
	assert_int_equal(timer_axis_parse("discover", "scan:300", &m), 0);
	assert_int_equal(m.look_ns, 0);	/* a plain scan drops the look-ahead */
}

static void test_axis_scan_bad(void **state)
{
	static const char *const bad[] = {
		"scan", "scan:", "scan:x", "scan:0", "scan:10x", "scan:-5", "scan:+5",
		"scan: 5", "scan:99999999999999999999", "scan:18446744073709552",
		"scan:250,look:", "scan:250,look:0", "scan:250,look:250", "scan:250,look:x",
		"scan:250,peek:20", "scan:250,look:20x",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct timer_mode m = preset("kvm");

		if (timer_axis_parse("discover", bad[i], &m) != -1)
			fail_msg("--discover=%s accepted", bad[i]);
		assert_int_equal(m.discover, DISCOVER_EXIT);
		assert_int_equal(m.scan_ns, 0);
	}
}

static void test_check_presets(void **state)
{
	for (size_t i = 0; i < NR_PRESETS; i++) {
		struct timer_mode m = preset(want_presets[i].name);

		if (timer_mode_check(&m) != 0)
			fail_msg("--timer=%s refused", want_presets[i].name);
	}
}

static void test_check_custom(void **state)
{
	struct timer_mode m = preset("kvm");

	/* a custom mode spelling out kvm's axes runs */
	assert_int_equal(timer_axis_parse("program", "msr", &m), 0);
	assert_int_equal(timer_mode_check(&m), 0);
	/* in-kernel delivery sees only MSR writes: PV programs and scanning are refused */
	assert_int_equal(timer_axis_parse("program", "pv", &m), 0);
	assert_int_equal(timer_mode_check(&m), -1);
	m = preset("kvm");
	assert_int_equal(timer_axis_parse("discover", "scan:100", &m), 0);
	assert_int_equal(timer_mode_check(&m), -1);
	/* msr/exit with the host timer on the vCPU thread runs */
	m = preset("kvm");
	assert_int_equal(timer_axis_parse("deliver", "vcpu", &m), 0);
	assert_int_equal(timer_mode_check(&m), 0);
	/* deadlines handed over without exits need a scanner or spinner */
	const char *const silent[] = { "pv", "hybrid", "direct" };

	for (size_t i = 0; i < 3; i++) {
		m = preset("exitless");
		assert_int_equal(timer_axis_parse("program", silent[i], &m), 0);
		if (timer_mode_check(&m) != -1)
			fail_msg("--program=%s with --discover=exit accepted", silent[i]);
		assert_int_equal(timer_axis_parse("discover", "spin", &m), 0);
		assert_int_equal(timer_mode_check(&m), 0);
	}
	/* lazy works with any discovery */
	m = preset("lazy");
	assert_int_equal(timer_axis_parse("discover", "scan:500", &m), 0);
	assert_int_equal(timer_mode_check(&m), 0);
}

/* --kernel: every mode that needs nothing from the guest, and only those. */
static void test_check_kernel(void **state)
{
	static const char *const ok[] = { "kvm", "exitless" };
	static const char *const refused[] = { "pvtimer", "lazy", "apicv-model", "hybrid" };
	struct timer_mode m;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		m = preset(ok[i]);
		assert_int_equal(timer_mode_check_kernel(&m), 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		m = preset(refused[i]);
		if (timer_mode_check_kernel(&m) != -1)
			fail_msg("--kernel with --timer=%s accepted", refused[i]);
	}
	/* any msr combination: deliver=vcpu, scanning (finds no page, harmless) */
	m = preset("exitless");
	assert_int_equal(timer_axis_parse("deliver", "vcpu", &m), 0);
	assert_int_equal(timer_mode_check_kernel(&m), 0);
	assert_int_equal(timer_axis_parse("discover", "scan:100", &m), 0);
	assert_int_equal(timer_mode_check_kernel(&m), 0);
	assert_int_equal(timer_axis_parse("program", "lazy", &m), 0);
	assert_int_equal(timer_mode_check_kernel(&m), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presets_axes),
		cmocka_unit_test(test_presets_names),
		cmocka_unit_test(test_preset_unknown),
		cmocka_unit_test(test_axis_program),
		cmocka_unit_test(test_axis_deliver),
		cmocka_unit_test(test_axis_discover),
		cmocka_unit_test(test_axis_scan_period),
		cmocka_unit_test(test_axis_scan_look),
		cmocka_unit_test(test_axis_scan_bad),
		cmocka_unit_test(test_check_presets),
		cmocka_unit_test(test_check_custom),
		cmocka_unit_test(test_check_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
