// SPDX-License-Identifier: MIT
/*
 * The kvm tracepoint count (src/kvm/ktrace*.c, src/bench/ktrace_report.c):
 * trace-buffer lines and hist tables, in the kernel's own wording, become
 * the same counts (MSR writes by index, user-space exits by reason with the
 * interrupted ones apart, hlt exits of either ISA, events lost from the
 * buffer header or the hist "Dropped:" total); lines that are not ours are
 * skipped. The report prints one line for an unavailable count, nothing when
 * off, and the JSON has null for events the kernel lacks. As root with
 * tracefs, the instance is created for this pid, a stale one of a dead pid
 * is removed, and nothing is left after the run; else those tests skip.
 * Without root, auto reports "not root" and on refuses.
 * Tolerance: none, counts are exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "bench/ktrace_report.h"

/* Lines as a 6.1 kernel prints them (kvm_amd), plus lines that are not ours. */
static const char trace_text[] =
"# tracer: nop\n"
"#\n"
"# entries-in-buffer/entries-written: 11/14   #P:2\n"
"#\n"
"#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
"          vtimer-812     [001] d..1.    93.100001: kvm_msr: msr_write 6e0 = 0x2c4f\n"
"          vtimer-812     [001] d..1.    93.100002: kvm_msr: msr_write 80b = 0x0\n"
"          vtimer-812     [001] d..1.    93.100003: kvm_msr: msr_write 830 = 0x1000000ec\n"
"          vtimer-812     [001] d..1.    93.100004: kvm_msr: msr_write 4b564df0 = 0x1001\n"
"          vtimer-812     [001] d..1.    93.100005: kvm_msr: msr_read 1b = 0xfee00d00\n"
"          vtimer-812     [001] .....    93.100006: kvm_userspace_exit: reason KVM_EXIT_IO (2)\n"
"          vtimer-812     [001] .....    93.100007: kvm_userspace_exit: reason restart (4)\n"
"          vtimer-812     [001] .....    93.100008: kvm_userspace_exit: reason KVM_EXIT_X86_WRMSR (30)\n"
"          vtimer-812     [001] .....    93.100009: kvm_pio: pio_write at 0x3f8 size 1 count 1 val 0x41 \n"
"          vtimer-812     [001] d..1.    93.100010: kvm_inj_virq: IRQ 0xec\n"
"          vtimer-812     [001] d..1.    93.100010: kvm_inj_virq: Soft/INTn 0x4\n"
"          vtimer-812     [001] d..1.    93.100011: kvm_exit: vcpu 0 reason hlt rip 0x10234 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000\n"
"          vtimer-813     [000] d..1.    93.100012: kvm_exit: vcpu 1 reason HLT rip 0x10234 info1 0x0000000000000000\n"
"          vtimer-813     [000] d..1.    93.100013: kvm_exit: vcpu 1 reason msr rip 0x10234 info1 0x0000000000000001\n"
"          vtimer-813     [000] d..1.    93.100014: kvm_pv_eoi: apicid 1 vector 236\n"
"          vtimer-813     [000] d..1.    93.100015: kvm_entry: vcpu 1, rip 0x10234\n"
"          vtimer-813     [000] d..1.    93.100016: kvm_msrx: msr_write 6e0 = 0x1\n"
"CPU:1 [LOST 3 EVENTS]\n";

static void test_parse_trace(void **state)
{
	struct ktrace_counts c = { 0 };

	assert_int_equal(ktrace_parse_trace(trace_text, &c), 15);
	assert_int_equal(c.msr_write[KT_MSR_DEADLINE], 1);
	assert_int_equal(c.msr_write[KT_MSR_EOI], 1);
	assert_int_equal(c.msr_write[KT_MSR_ICR], 1);
	assert_int_equal(c.msr_write[KT_MSR_OTHER], 1);
	assert_int_equal(c.msr_read, 1);
	assert_int_equal(c.uexit[KT_UX_IO], 1);
	assert_int_equal(c.uexit[KT_UX_WRMSR], 1);
	assert_int_equal(c.uexit[KT_UX_INTR], 1);
	assert_int_equal(ktrace_uexits(&c), 2);
	assert_int_equal(c.pio, 1);
	assert_int_equal(c.inj_virq, 1);
	assert_int_equal(c.inj_soft, 1);
	assert_int_equal(c.exit, 3);
	assert_int_equal(c.exit_hlt, 2);
	assert_int_equal(c.pv_eoi, 1);
	assert_int_equal(c.lost, 3);	/* the header: 14 written, 11 in the buffer */
}

/* A hist table as the kernel prints it; errno -4 shows as its u64 bits. */
static const char hist_uexit[] =
"# event histogram\n"
"#\n"
"# trigger info: hist:keys=reason,errno:vals=hitcount:sort=hitcount:size=2048 [active]\n"
"#\n"
"\n"
"{ reason:          2, errno:          0 } hitcount:        120\n"
"{ reason:         30, errno:          0 } hitcount:          7\n"
"{ reason:          2, errno: 18446744073709551612 } hitcount:          3\n"
"{ reason:         17, errno:          0 } hitcount:          1\n"
"\n"
"Totals:\n"
"    Hits: 131\n"
"    Entries: 4\n"
"    Dropped: 2\n";

static const char hist_msr[] =
"{ ecx:       1760, write:          1 } hitcount:        512\n"
"{ ecx:       2059, write:          1 } hitcount:        500\n"
"{ ecx:       2096, write:          1 } hitcount:         10\n"
"{ ecx:       2098, write:          1 } hitcount:          4\n"
"{ ecx:       1760, write:          0 } hitcount:          2\n"
"Totals:\n    Hits: 1028\n    Entries: 5\n    Dropped: 0\n";

static const char hist_exit[] =
"{ exit_reason:        120, isa:          2 } hitcount:         60\n"
"{ exit_reason:        124, isa:          2 } hitcount:         40\n"
"{ exit_reason:         12, isa:          1 } hitcount:          5\n"
"{ exit_reason:        120, isa:          1 } hitcount:          1\n";

static void test_parse_hist(void **state)
{
	struct ktrace_counts c = { 0 };

	assert_int_equal(ktrace_parse_hist(KT_EV_UEXIT, hist_uexit, &c), 131);
	assert_int_equal(c.uexit[KT_UX_IO], 120);
	assert_int_equal(c.uexit[KT_UX_WRMSR], 7);
	assert_int_equal(c.uexit[KT_UX_INTR], 3);
	assert_int_equal(c.uexit[KT_UX_OTHER], 1);
	assert_int_equal(c.lost, 2);
	assert_int_equal(ktrace_parse_hist(KT_EV_MSR, hist_msr, &c), 1028);
	assert_int_equal(c.msr_write[KT_MSR_DEADLINE], 512);
	assert_int_equal(c.msr_write[KT_MSR_EOI], 500);
	assert_int_equal(c.msr_write[KT_MSR_ICR], 10);
	assert_int_equal(c.msr_write[KT_MSR_OTHER], 4);
	assert_int_equal(c.msr_read, 2);
	assert_int_equal(ktrace_parse_hist(KT_EV_EXIT, hist_exit, &c), 106);
	assert_int_equal(c.exit, 106);
	assert_int_equal(c.exit_hlt, 65);	/* SVM 0x78 and VMX 12, not VMX 120 */
	assert_int_equal(ktrace_parse_hist(KT_EV_PIO, "{ rw:          1 } hitcount:          9\n",
					   &c), 9);
	assert_int_equal(c.pio, 9);
	assert_int_equal(ktrace_parse_hist(KT_EV_INJ_VIRQ,
					   "{ vector:        236, soft:          0 } hitcount:         70\n"
					   "{ vector:          4, soft:          1 } hitcount:         12\n",
					   &c), 82);
	assert_int_equal(c.inj_virq, 70);
	assert_int_equal(c.inj_soft, 12);
	assert_int_equal(c.lost, 2);
}

static void test_parse_junk(void **state)
{
	struct ktrace_counts c = { 0 }, zero = { 0 };
	char *longline = malloc(4096);

	memset(longline, 'x', 4095);
	longline[4095] = 0;
	assert_int_equal(ktrace_parse_trace("", &c), 0);
	assert_int_equal(ktrace_parse_trace(longline, &c), 0);
	assert_int_equal(ktrace_parse_trace("# entries-in-buffer/entries-written: 9/3\n"
					    "kvm_msr: msr_write 6e0 = 1\n"
					    "x: kvm_userspace_exit: reason\n", &c), 0);
	assert_int_equal(ktrace_parse_hist(KT_EV_MSR, "{ ecx: 1760 hitcount: 5\n} hitcount\n", &c),
			 0);
	assert_int_equal(ktrace_parse_hist(KT_EVENTS, hist_msr, &c), 0);
	assert_memory_equal(&c, &zero, sizeof(c));
	free(longline);
}

static void test_mode_parse(void **state)
{
	enum ktrace_mode m = KTRACE_OFF;

	assert_int_equal(ktrace_mode_parse("auto", &m), 0);
	assert_int_equal(m, KTRACE_AUTO);
	assert_int_equal(ktrace_mode_parse("buffer", &m), 0);
	assert_int_equal(m, KTRACE_BUFFER);
	assert_int_equal(ktrace_mode_parse("yes", &m), -1);
	assert_int_equal(m, KTRACE_BUFFER);
}

/* report_ktrace's text into buf. */
static void report_text(const struct run_report *r, char *buf, size_t len)
{
	FILE *f;

	memset(buf, 0, len);	/* nothing written leaves it as it was */
	f = fmemopen(buf, len, "w");
	assert_non_null(f);
	report_ktrace(r, f);
	fclose(f);
}

static void test_report(void **state)
{
	struct run_report r = { 0 };
	char buf[2048];
	json_t *j;

	r.ktrace.state = KTRACE_STATE_OFF;
	report_text(&r, buf, sizeof(buf));
	assert_string_equal(buf, "");
	r.ktrace.state = KTRACE_STATE_UNAVAILABLE;
	snprintf(r.ktrace.why, sizeof(r.ktrace.why), "not root");
	report_text(&r, buf, sizeof(buf));
	assert_string_equal(buf, "kvm tracepoints: unavailable (not root)\n");
	j = ktrace_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "reason")), "not root");
	json_decref(j);

	r.ktrace.state = KTRACE_STATE_OK;
	r.ktrace.events = (1u << KT_EV_MSR) | (1u << KT_EV_UEXIT);
	ktrace_parse_trace(trace_text, &r.ktrace.c);
	r.total.exits_total = 2;
	r.total.c.op_wrmsr_deadline = 1;
	report_text(&r, buf, sizeof(buf));
	assert_non_null(strstr(buf, "kvm tracepoints (trace buffer, whole run): msr_write 0x6e0=1 0x80b=1 0x830=1 other=1, msr_read=1, userspace_exit=2 (io=1 wrmsr=1 rdmsr=0 other=0; interrupted=1)"));
	assert_null(strstr(buf, ", exit="));	/* no kvm_exit in events */
	assert_non_null(strstr(buf, "wrmsr 0x6e0 1/1 "));
	assert_non_null(strstr(buf, "hlt 0/- "));
	assert_non_null(strstr(buf, "userspace exits VMM/tracepoints 2/2 (agree)"));
	j = ktrace_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "trace");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "msr_write"),
							    "0x80b")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "userspace_exit"),
							    "interrupted")), 1);
	assert_true(json_is_null(json_object_get(j, "exit")));
	assert_int_equal(json_integer_value(json_object_get(j, "lost")), 3);
	json_decref(j);
}

static bool tracefs_ok(void)
{
	return !geteuid() && !access("/sys/kernel/tracing/events/kvm/kvm_msr", F_OK);
}

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* A pid that no longer exists: a child reaped. */
static pid_t dead_pid(void)
{
	pid_t p = fork();

	if (!p)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

static void test_instance(void **state)
{
	struct ktrace kt;
	struct ktrace_result res;
	char dir[128], stale[256], pid[64] = "";
	FILE *f;

	if (!tracefs_ok()) {
		skip();		/* needs root, tracefs and the kvm events */
		return;
	}
	snprintf(stale, sizeof(stale), "/sys/kernel/tracing/instances/vtimer-%d", (int)dead_pid());
	assert_int_equal(mkdir(stale, 0700), 0);
	assert_int_equal(ktrace_start(&kt, KTRACE_BUFFER), 0);
	assert_int_equal(kt.res.state, KTRACE_STATE_OK);
	assert_false(kt.res.hist);
	assert_false(exists(stale));
	snprintf(dir, sizeof(dir), "/sys/kernel/tracing/instances/vtimer-%d", (int)getpid());
	assert_string_equal(kt.dir, dir);
	snprintf(stale, sizeof(stale), "%s/set_event_pid", dir);
	f = fopen(stale, "r");
	assert_non_null(f);
	assert_non_null(fgets(pid, sizeof(pid), f));
	fclose(f);
	assert_int_equal(atoi(pid), getpid());
	ktrace_finish(&kt, &res);
	assert_int_equal(res.state, KTRACE_STATE_OK);
	assert_false(exists(dir));
	ktrace_remove(&kt);	/* idempotent */
	assert_int_equal(ktrace_start(&kt, KTRACE_AUTO), 0);
	assert_true(exists(dir));
	ktrace_remove(&kt);
	assert_false(exists(dir));
	assert_int_equal(ktrace_start(&kt, KTRACE_OFF), 0);
	assert_int_equal(kt.res.state, KTRACE_STATE_OFF);
	assert_false(exists(dir));
}

/* Not root: auto goes on without the count and says why, on refuses. */
static void test_not_root(void **state)
{
	struct ktrace kt;
	int status;
	pid_t p;

	if (geteuid()) {
		skip();		/* forks a child that drops root */
		return;
	}
	p = fork();
	if (!p) {
		bool ok = !setgid(65534) && !setuid(65534) &&
			  !ktrace_start(&kt, KTRACE_AUTO) &&
			  kt.res.state == KTRACE_STATE_UNAVAILABLE && !kt.dir[0] &&
			  !strncmp(kt.res.why, "not root", 8) &&
			  ktrace_start(&kt, KTRACE_ON) == -1;

		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(p, &status, 0), p);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_trace),
		cmocka_unit_test(test_parse_hist),
		cmocka_unit_test(test_parse_junk),
		cmocka_unit_test(test_mode_parse),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_instance),
		cmocka_unit_test(test_not_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
