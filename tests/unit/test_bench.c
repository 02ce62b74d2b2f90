// SPDX-License-Identifier: MIT
/*
 * vtimer bench's aggregation and tables (src/bench/tables.c, plots.c) on
 * made-up reports, no KVM: the median and spread over repeats, the lazy
 * series' per-transaction figures and their percent of kvm's, the rates'
 * ratio to kvm, the three sources of exit counts (VMM, KVM's stats, kvm
 * tracepoints; '-' where a run lacks the tracepoints, a note with the
 * reason where none has them), and the plot data files. Exact figures, no
 * tolerance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bench/bench.h"

static struct run_report rr_run(uint64_t dl_writes, uint64_t tx, double tps)
{
	struct run_report r;

	memset(&r, 0, sizeof(r));
	r.cfg.workload = VTIMER_WL_RR;
	r.total.c.transactions = tx;
	r.total.c.events = 2 * tx;
	r.total.c.op_wrmsr_deadline = dl_writes;
	r.total.c.op_wrmsr_icr = 2 * tx;
	r.total.c.op_hlt = 2 * tx;
	r.transactions_per_s = tps;
	return r;
}

static double p50_us(const struct run_report *r)
{
	return r->total.lat.p50 / 1e3;
}

static void test_median(void **state)
{
	struct run_report runs[3];
	struct bench_cell c = { "kvm", "cyclic", runs, 3 };
	double lo, hi;

	memset(runs, 0, sizeof(runs));
	runs[0].total.lat.p50 = 5000;
	runs[1].total.lat.p50 = 1000;
	runs[2].total.lat.p50 = 3000;
	assert_true(bench_median(&c, p50_us, &lo, &hi) == 3.0);
	assert_true(lo == 1.0 && hi == 5.0);
	c.n = 2;	/* even: the mean of the middle two */
	assert_true(bench_median(&c, p50_us, NULL, NULL) == 3.0);
	c.n = 0;
	assert_true(bench_median(&c, p50_us, &lo, &hi) == 0.0);
}

static char *tables_md(const struct bench *b)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	bench_tables(b, f, true);
	fclose(f);
	return buf;
}

static void test_lazy_table(void **state)
{
	struct run_report kvm[1] = { rr_run(200, 100, 1000) }, lazy[1] = { rr_run(10, 100, 1100) };
	struct bench_cell cells[] = { { "kvm", "rr", kvm, 1 }, { "lazy", "rr", lazy, 1 } };
	struct bench b = { cells, 2, 1, "title", NULL };
	char *md;

	/* lazy: KVM PV EOI took 3 EOIs of 4 (1 written) per transaction */
	lazy[0].total.c.op_wrmsr_eoi = 100;
	lazy[0].total.c.pv_eoi = 300;
	md = tables_md(&b);
	/* kvm: 2 TSC-deadline writes per transaction; lazy 0.1, 5% of kvm's */
	assert_non_null(strstr(md, "| kvm | 2.000 | 0.000 | 0.000 | 2.000 | 0.000 | 2.000 | 0.000 | 0.000 | 6.000 | 100.0% | 100.0% |"));
	assert_non_null(strstr(md, "| lazy | 0.100 | 1.000 | 3.000 | 2.000 | 0.000 | 2.000 | 0.000 | 0.000 | 5.100 | 5.0% | 85.0% |"));
	/* per timer event (2 per transaction), by reason; EOI writes per EOI 0.25 */
	assert_non_null(strstr(md, "| kvm | rr | 1.000 | 0.000 | 1.000 | 0.000 | 1.000 | 0.000 | 0.000 | 3.000 | 100.0% | 0.000 | 0.000 |"));
	assert_non_null(strstr(md, "| lazy | rr | 0.050 | 0.500 | 1.000 | 0.000 | 1.000 | 0.000 | 0.000 | 2.550 | 85.0% | 1.500 | 0.250 |"));
	/* exitless table: rr rate as a ratio to kvm's */
	assert_non_null(strstr(md, "| lazy | 1100 | 1.100 |"));
	free(md);
}

static void test_three_sources(void **state)
{
	struct run_report kvm[2] = { rr_run(200, 100, 1000), rr_run(200, 100, 1000) };
	struct run_report lazy[1] = { rr_run(10, 100, 1100) };
	struct bench_cell cells[] = { { "kvm", "rr", kvm, 2 }, { "lazy", "rr", lazy, 1 } };
	struct bench b = { cells, 2, 1, "title", NULL };
	char *md;

	for (int i = 0; i < 2; i++) {
		kvm[i].total.exits_total = 40 + i;
		kvm[i].ktrace.state = KTRACE_STATE_OK;
		kvm[i].ktrace.events = 1u << KT_EV_EXIT;
		kvm[i].ktrace.c.uexit[KT_UX_IO] = 40 + i;
		kvm[i].ktrace.c.uexit[KT_UX_INTR] = 5;
		kvm[i].ktrace.c.exit = 300;
		kvm[i].ktrace.c.exit_hlt = 210;
		kvm[i].ktrace.c.msr_write[KT_MSR_DEADLINE] = 202;
	}
	lazy[0].total.exits_total = 7;
	lazy[0].ktrace.state = KTRACE_STATE_UNAVAILABLE;
	md = tables_md(&b);
	/* medians of 40 and 41 (40.5, printed to even); the interrupted 5 are not exits */
	assert_non_null(strstr(md, "| kvm | rr | 40 | 40 | 0 | 300 | 0 | 210 | 200 | 202 | 200 | 0 | 0 |"));
	assert_non_null(strstr(md, "| lazy | rr | 7 | - | 0 | - | 0 | - | 200 | - | 10 | - | - |"));
	free(md);
	kvm[0].ktrace.state = kvm[1].ktrace.state = KTRACE_STATE_UNAVAILABLE;
	snprintf(kvm[0].ktrace.why, sizeof(kvm[0].ktrace.why), "not root");
	md = tables_md(&b);
	assert_non_null(strstr(md, "kvm tracepoints: unavailable (not root)."));
	free(md);
}

static void test_plot_data(void **state)
{
	struct run_report kvm[1] = { rr_run(200, 100, 1000) };
	struct bench_cell cells[] = { { "kvm", "rr", kvm, 1 } };
	struct bench b = { cells, 1, 1, "title", NULL };
	char dir[] = "/tmp/vtimer-bench-XXXXXX", path[128], line[256];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	assert_in_range(bench_plots(&b, dir), 0, 1);
	snprintf(path, sizeof(path), "%s/exits-rr.dat", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "timer tsc-deadline eoi icr other-wrmsr hlt pio kicks\n");
	assert_non_null(fgets(line, sizeof(line), f));
	/* per event (2 per transaction): 1 write, 1 ICR, 1 hlt */
	assert_string_equal(line, "kvm 1.0000 0.0000 1.0000 0.0000 1.0000 0.0000 0.0000\n");
	fclose(f);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

static struct run_report cyclic_run(int64_t min, int64_t avg, int64_t p50, int64_t p99,
				     int64_t max)
{
	struct run_report r;

	memset(&r, 0, sizeof(r));
	r.cfg.workload = VTIMER_WL_CYCLIC;
	r.total.lat = (struct lat_stats){ .n = 100, .min = min, .avg = avg, .p50 = p50,
					  .p99 = p99, .max = max };
	return r;
}

/*
 * The host floor's row sits under the cyclic rows, medians over its runs
 * with samples (a failed one left out), its change against kvm's cyclic
 * cell; its note says the command, policy and placement. Without
 * cyclictest, the note says how to get it and there is no row.
 */
static void test_floor_row(void **state)
{
	struct run_report kvm[1] = { cyclic_run(40000, 80000, 70000, 150000, 300000) };
	struct bench_cell cells[] = { { "kvm", "cyclic", kvm, 1 } };
	struct host_floor hf;
	struct bench b = { cells, 1, 3, "title", &hf };
	char *md;

	host_floor_init(&hf, HOST_FLOOR_AUTO, 1000000, 100);
	snprintf(hf.path, sizeof(hf.path), "/usr/bin/cyclictest");
	hf.rt = true;
	hf.placement = "once per repeat";
	hf.n = 3;
	hf.runs[0].lat = (struct lat_stats){ .n = 100, .min = 10000, .avg = 20000, .p50 = 18000,
					     .p99 = 35000, .max = 60000 };
	hf.runs[1].lat = (struct lat_stats){ .n = 100, .min = 12000, .avg = 24000, .p50 = 22000,
					     .p99 = 45000, .max = 80000 };
	snprintf(hf.runs[2].error, sizeof(hf.runs[2].error), "cyclictest failed");
	md = tables_md(&b);
	assert_non_null(strstr(md, "| kvm | cyclic | 40.0 | 80.0 | 70.0 | 150.0 | 300.0 | +0% | +0% | 0 |\n"
				   "| host (cyclictest) | cyclictest | 11.0 | 22.0 | 20.0 | 40.0 | 70.0 | -72% | -71% | - |"));
	assert_non_null(strstr(md, "host (cyclictest): `cyclictest -t1 -i 1000 -l 100 -N -v --default-system -p 80 -m` (/usr/bin/cyclictest) on the host, SCHED_FIFO 80, mlockall, once per repeat; median of 3 run(s)."));
	free(md);
	hf.path[0] = 0;
	hf.n = 0;
	md = tables_md(&b);
	assert_null(strstr(md, "host (cyclictest) |"));
	assert_non_null(strstr(md, "host floor: cyclictest not installed (apt-get install rt-tests)"));
	free(md);
	hf.mode = HOST_FLOOR_OFF;
	md = tables_md(&b);
	assert_null(strstr(md, "host floor"));
	free(md);
}

/* dir/name whole, NULL when there is no such file. */
static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static char *read_out(const char *dir, const char *name)
{
	char path[256], *buf = NULL;
	size_t len = 0;
	FILE *f, *m;
	int c;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "r")))
		return NULL;
	m = open_memstream(&buf, &len);
	assert_non_null(m);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	return buf;
}

/*
 * The host floor in the cyclic latency plot: host-floor.dat holds its first
 * run's 101 quantiles (0..100%, us) as the guests' curves, and plots.gp
 * draws it dashed after the modes, titled as the table's row. Without a
 * run with samples (the first failed, --host-floor=off, not asked) or
 * without a cyclic plot, there is no file and plots.gp does not name it.
 * Where gnuplot is installed bench_plots draws the script: -1 if it fails.
 */
static void test_plot_floor(void **state)
{
	int64_t samples[] = { 40000, 60000, 70000, 150000, 300000 };
	struct run_report kvm[1] = { cyclic_run(40000, 80000, 70000, 150000, 300000) };
	struct run_report lat[1] = { cyclic_run(40000, 80000, 70000, 150000, 300000) };
	struct bench_cell cyclic[] = { { "kvm", "cyclic", kvm, 1 } };
	struct bench_cell latency[] = { { "kvm", "latency", lat, 1 } };
	struct host_floor hf;
	struct bench b = { cyclic, 1, 2, "title", &hf };
	char dir[] = "/tmp/vtimer-bench-XXXXXX", want[256], *dat, *gp;

	kvm[0].samples_ns = lat[0].samples_ns = samples;
	kvm[0].nr_samples = lat[0].nr_samples = 5;
	host_floor_init(&hf, HOST_FLOOR_AUTO, 1000000, 100);
	snprintf(hf.path, sizeof(hf.path), "/usr/bin/cyclictest");
	hf.n = 2;
	hf.runs[0].lat = (struct lat_stats){ .n = 100, .min = 10000, .avg = 20000, .p50 = 18000,
					     .p99 = 35000, .max = 60000 };
	hf.runs[1].lat = (struct lat_stats){ .n = 100, .min = 12000, .avg = 24000, .p50 = 22000,
					     .p99 = 45000, .max = 80000 };
	for (int q = 0; q <= 100; q++)
		hf.runs[0].quantile_ns[q] = 10000 + 500 * q;
	assert_non_null(mkdtemp(dir));
	assert_in_range(bench_plots(&b, dir), 0, 1);
	dat = read_out(dir, "host-floor.dat");
	assert_non_null(dat);
	assert_memory_equal(dat, "quantile \"host (cyclictest)\"\n0 10.000\n1 10.500\n2 11.000\n", 56);
	assert_non_null(strstr(dat, "\n50 35.000\n"));
	assert_non_null(strstr(dat, "\n99 59.500\n100 60.000\n"));
	assert_int_equal(count_lines(dat), 102);
	free(dat);
	gp = read_out(dir, "plots.gp");
	assert_non_null(gp);
	snprintf(want, sizeof(want),
		 "latency-cyclic.dat' using i:1 title columnheader(i) lw 2, '%s/host-floor.dat' using 2:1 title columnheader(2) with lines dt 2 ",
		 dir);
	assert_non_null(strstr(gp, want));
	free(gp);
	/* none: the first run failed; off (no run); not asked; no cyclic plot */
	snprintf(hf.runs[0].error, sizeof(hf.runs[0].error), "cyclictest failed");
	for (int k = 0; k < 4; k++) {
		hf.mode = k == 1 ? HOST_FLOOR_OFF : HOST_FLOOR_AUTO;
		hf.n = k == 1 ? 0 : 1;
		hf.runs[0].error[0] = k == 3 ? 0 : hf.runs[0].error[0];
		b.floor = k == 2 ? NULL : &hf;
		b.cells = k == 3 ? latency : cyclic;
		snprintf(want, sizeof(want), "%s/host-floor.dat", dir);
		unlink(want);
		assert_in_range(bench_plots(&b, dir), 0, 1);
		assert_null(read_out(dir, "host-floor.dat"));
		gp = read_out(dir, "plots.gp");
		assert_non_null(strstr(gp, k == 3 ? "latency-latency.dat" : "latency-cyclic.dat"));
		assert_null(strstr(gp, "host-floor"));
		free(gp);
	}
	snprintf(want, sizeof(want), "rm -rf '%s'", dir);
	assert_int_equal(system(want), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median),
		cmocka_unit_test(test_lazy_table),
		cmocka_unit_test(test_three_sources),
		cmocka_unit_test(test_plot_data),
		cmocka_unit_test(test_floor_row),
		cmocka_unit_test(test_plot_floor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
