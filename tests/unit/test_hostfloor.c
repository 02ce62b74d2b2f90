// SPDX-License-Identifier: MIT
/*
 * Checks src/bench/hostfloor.c, the host floor, without KVM:
 * - the parser on real `cyclictest -t1 -i 1000 -N -v` output captured from
 *   rt-tests 2.4 on Debian 12 (tests/unit/data/: as root, one run with
 *   --default-system -p 80 -m, one plain, whose stdout has cyclictest's
 *   "# /dev/cpu_dma_latency" note), fed whole and in pieces that split
 *   lines; the figures are the fixtures' own, worked out by hand (nearest
 *   rank), exact; gaps in the cycle numbers count as lost; malformed input
 *   is refused;
 * - the run's plumbing with stand-in "cyclictest" scripts on PATH: a
 *   failure's stderr in the error, a hang killed at the time limit, and no
 *   child left behind either way;
 * - the real cyclictest on this machine (skipped when rt-tests is not
 *   installed, or not root and it cannot get SCHED_FIFO): 50 loops at
 *   1000 us give 50 samples, none lost, min <= p50 <= p99 <= max. No timing
 *   bound is asserted: the host varies.
 * The fixtures are read relative to the working directory, the repository
 * root, from which make test runs every test.
 */
#include <errno.h>
#include <math.h>
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

#include "bench/hostfloor.h"

#define DATA "tests/unit/data/"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = malloc(1 << 16);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

/* Parses text fed in pieces of step bytes into st; returns the parser's result. */
static int parse(const char *text, size_t len, size_t step, size_t cap, struct lat_stats *st,
		 uint64_t *lost)
{
	int64_t *v = malloc((cap ? cap : 1) * sizeof(*v));
	struct host_floor_parser p;
	int ret = 0;

	assert_non_null(v);
	host_floor_parse_init(&p, v, cap);
	for (size_t at = 0; at < len && !ret; at += step)
		ret = host_floor_parse_feed(&p, text + at, len - at < step ? len - at : step);
	if (!ret)
		ret = host_floor_parse_end(&p);
	stats_compute(v, p.n, st);
	*lost = p.lost;
	free(v);
	return ret;
}

static void test_parse_fixture_fifo(void **state)
{
	static const size_t steps[] = { 1, 7, 29, 4096 };
	size_t len;
	char *text = slurp(DATA "cyclictest-fifo-50.txt", &len);

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct lat_stats st;
		uint64_t lost;

		assert_int_equal(parse(text, len, steps[i], 50, &st, &lost), 0);
		assert_int_equal(st.n, 50);
		assert_int_equal(lost, 0);
		assert_int_equal(st.min, 29453);
		assert_int_equal(st.max, 55779);
		assert_int_equal(st.p50, 36757);	/* the 25th of 50 */
		assert_int_equal(st.p99, 55779);	/* the 50th: ceil(49.5) */
		assert_true(fabs(st.avg * 50 - 1905967) < 1e-6);
	}
	free(text);
}

static void test_parse_fixture_note(void **state)
{
	size_t len;
	char *text = slurp(DATA "cyclictest-dmalat-20.txt", &len);
	struct lat_stats st;
	uint64_t lost;

	assert_non_null(strstr(text, "# /dev/cpu_dma_latency"));
	assert_int_equal(parse(text, len, 4096, 20, &st, &lost), 0);
	assert_int_equal(st.n, 20);
	assert_int_equal(st.min, 33745);
	assert_int_equal(st.max, 266572);
	assert_int_equal(st.p50, 88057);
	assert_int_equal(st.p99, 266572);
	assert_true(fabs(st.avg * 20 - 2193003) < 1e-6);
	free(text);
}

/* The fixture without the sample lines of cycles 10, 11 and 12. */
static void test_parse_gap(void **state)
{
	size_t len;
	char *text = slurp(DATA "cyclictest-fifo-50.txt", &len);
	char *from = strstr(text, "      10:"), *to = strstr(text, "      13:");
	struct lat_stats st;
	uint64_t lost;

	assert_non_null(from);
	assert_non_null(to);
	while (from > text && from[-1] != '\n')
		from--;
	while (to > text && to[-1] != '\n')
		to--;
	memmove(from, to, strlen(to) + 1);
	assert_int_equal(parse(text, strlen(text), 4096, 50, &st, &lost), 0);
	assert_int_equal(st.n, 47);
	assert_int_equal(lost, 3);
	free(text);
}

static void test_parse_refused(void **state)
{
	static const char back[] = "       0:       1:   100\n       0:       0:   200\n";
	static const char other[] = "       1:       0:   100\n";
	static const char three[] = "0: 0: 1\n0: 1: 2\n0: 2: 3\n";
	struct lat_stats st;
	uint64_t lost;

	assert_int_equal(parse(back, strlen(back), 4096, 4, &st, &lost), -1);
	assert_int_equal(parse(other, strlen(other), 4096, 4, &st, &lost), -1);
	assert_int_equal(parse(three, strlen(three), 4096, 2, &st, &lost), -1);
	/* a last line without '\n' still counts; text after the number does not parse */
	assert_int_equal(parse("0: 0: 5\n0: 1: 7", 15, 3, 4, &st, &lost), 0);
	assert_int_equal(st.n, 2);
	assert_int_equal(st.max, 7);
	assert_int_equal(parse("0: 0: 5 us\n", 11, 4096, 4, &st, &lost), 0);
	assert_int_equal(st.n, 0);
}

static void test_which_and_missing(void **state)
{
	struct host_floor hf;
	char path[512];
	json_t *j;

	assert_int_equal(host_floor_which("sh", path, sizeof(path)), 0);
	assert_int_equal(access(path, X_OK), 0);
	assert_int_equal(host_floor_which("vtimer-no-such-tool", path, sizeof(path)), -1);
	host_floor_init(&hf, HOST_FLOOR_OFF, 1000000, 10);
	assert_false(host_floor_enabled(&hf));
	assert_string_equal(host_floor_missing(&hf), "off (--host-floor=off)");
	host_floor_init(&hf, HOST_FLOOR_AUTO, 1000000, 10);
	hf.path[0] = 0;		/* as where rt-tests is not installed */
	assert_false(host_floor_enabled(&hf));
	assert_string_equal(host_floor_missing(&hf),
			    "cyclictest not installed (apt-get install rt-tests)");
	assert_int_equal(host_floor_run(&hf), -1);
	j = host_floor_json(&hf);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "absent");
	assert_null(json_object_get(j, "latency_ns"));
	json_decref(j);
}

/* A stand-in cyclictest in a temp dir; hf runs it. */
static void fake_tool(struct host_floor *hf, const char *body, char *dir)
{
	char path[128];
	FILE *f;

	strcpy(dir, "/tmp/vtimer-hf-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cyclictest", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	host_floor_init(hf, HOST_FLOOR_AUTO, 1000000, 5);
	snprintf(hf->path, sizeof(hf->path), "%s", path);
}

static void unfake(struct host_floor *hf, const char *dir)
{
	unlink(hf->path);
	rmdir(dir);
	/* every child was reaped: none is left */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_run_failure(void **state)
{
	struct host_floor hf;
	char dir[64];

	fake_tool(&hf, "echo 'WARN: not setting cpu_dma_latency from cyclictest' >&2\n"
		       "echo 'Unable to change scheduling policy!' >&2; exit 1", dir);
	assert_int_equal(host_floor_run(&hf), -1);
	assert_string_equal(hf.runs[0].error,
			    "cyclictest failed (exit status 1): Unable to change scheduling policy!");
	assert_string_equal(host_floor_missing(&hf), hf.runs[0].error);
	unfake(&hf, dir);
}

static void test_run_killed_at_limit(void **state)
{
	struct host_floor hf;
	char dir[64];

	fake_tool(&hf, "echo '       0:       0:   1000'; exec sleep 30", dir);
	hf.limit_ns = 300000000;
	assert_int_equal(host_floor_run(&hf), -1);
	assert_string_equal(hf.runs[0].error, "cyclictest ran past its time limit: killed");
	assert_true(hf.runs[0].wall_s < 10);	/* not the 30 s it wanted */
	unfake(&hf, dir);
}

static void test_real_cyclictest(void **state)
{
	struct host_floor hf;
	struct lat_stats med;
	json_t *j;

	host_floor_init(&hf, HOST_FLOOR_AUTO, 1000000, 50);
	if (!host_floor_enabled(&hf)) {
		print_message("SKIP: cyclictest not installed (apt-get install rt-tests)\n");
		skip();
	}
	for (int i = 0; i < 2; i++) {
		const struct host_floor_run *r = &hf.runs[i];

		if (host_floor_run(&hf) < 0 && !hf.rt) {
			print_message("SKIP: not root and cyclictest failed: %s\n", r->error);
			skip();
		}
		print_message("cyclictest %s, %s: %llu samples, min %lld p50 %lld p99 %lld max %lld ns\n",
			      hf.path, host_floor_policy(&hf), (unsigned long long)r->lat.n,
			      (long long)r->lat.min, (long long)r->lat.p50, (long long)r->lat.p99,
			      (long long)r->lat.max);
		assert_string_equal(r->error, "");
		assert_int_equal(r->lat.n, 50);
		assert_int_equal(r->lost, 0);
		assert_true(r->lat.min >= 0);
		assert_true(r->lat.min <= r->lat.p50 && r->lat.p50 <= r->lat.p99);
		assert_true(r->lat.p99 <= r->lat.max);
		assert_true(r->lat.min <= r->lat.avg && r->lat.avg <= r->lat.max);
		/* the plot's curve: rising, from the min to the max, through the p50 */
		assert_int_equal(r->quantile_ns[0], r->lat.min);
		assert_int_equal(r->quantile_ns[100], r->lat.max);
		for (int q = 1; q <= 100; q++)
			assert_true(r->quantile_ns[q - 1] <= r->quantile_ns[q]);
		assert_true(r->quantile_ns[49] <= r->lat.p50 && r->lat.p50 <= r->quantile_ns[51]);
	}
	assert_null(host_floor_missing(&hf));
	assert_true(host_floor_median(&hf, &med));
	assert_true(med.min <= med.p50 && med.p50 <= med.p99 && med.p99 <= med.max);
	j = host_floor_json(&hf);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "ok");
	assert_int_equal(json_array_size(json_object_get(j, "runs")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "latency_ns"),
							    "samples")), 50);
	json_decref(j);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fixture_fifo),
		cmocka_unit_test(test_parse_fixture_note),
		cmocka_unit_test(test_parse_gap),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_which_and_missing),
		cmocka_unit_test(test_run_failure),
		cmocka_unit_test(test_run_killed_at_limit),
		cmocka_unit_test(test_real_cyclictest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
