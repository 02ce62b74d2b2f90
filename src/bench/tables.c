// SPDX-License-Identifier: MIT
/*
 * vtimer bench's tables: one per patch series, each with the series'
 * published figure beside ours, plus an overview and the host cost. A
 * figure is the median over a cell's repeats; "[lo-hi]" is their spread
 * where it is shown. Cells the matrix lacks are left out.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "../util.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

const struct bench_cell *bench_find(const struct bench *b, const char *timer, const char *wl)
{
	for (int i = 0; i < b->nr_cells; i++)
		if (!strcmp(b->cells[i].timer, timer) && !strcmp(b->cells[i].workload, wl))
			return &b->cells[i];
	return NULL;
}

/* Some cell of workload wl has runs. */
static bool has_workload(const struct bench *b, const char *wl)
{
	for (int i = 0; i < b->nr_cells; i++)
		if (!strcmp(b->cells[i].workload, wl) && b->cells[i].n)
			return true;
	return false;
}

double bench_median(const struct bench_cell *c, double (*f)(const struct run_report *),
		    double *lo, double *hi)
{
	double v[64];
	int n = c->n < 64 ? c->n : 64;

	for (int i = 0; i < n; i++)
		v[i] = f(&c->runs[i]);
	qsort(v, n, sizeof(v[0]), cmp_double);
	if (lo)
		*lo = n ? v[0] : 0;
	if (hi)
		*hi = n ? v[n - 1] : 0;
	return n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : 0;
}

static double per(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* Figures of one run. */
static const struct vtimer_counters *k(const struct run_report *r) { return &r->total.c; }
static double f_events(const struct run_report *r) { return k(r)->events; }
static double f_tx(const struct run_report *r) { return k(r)->transactions; }
static double f_ops(const struct run_report *r)
{
	const struct vtimer_counters *c = k(r);

	return c->op_wrmsr_deadline + c->op_wrmsr_eoi + c->op_wrmsr_icr + c->op_wrmsr_other +
	       c->op_hlt + c->op_pio + r->total.host.kicks;
}
static double f_ops_ev(const struct run_report *r) { return per(f_ops(r), f_events(r)); }
static double f_msr_dl(const struct run_report *r) { return per(k(r)->msr_writes, k(r)->deadlines); }
static double f_kvm_ev(const struct run_report *r) { return per(stat_total(r, "exits"), f_events(r)); }
static double f_p50(const struct run_report *r) { return r->total.lat.p50 / 1e3; }
static double f_p99(const struct run_report *r) { return r->total.lat.p99 / 1e3; }
static double f_min(const struct run_report *r) { return r->total.lat.min / 1e3; }
static double f_max(const struct run_report *r) { return r->total.lat.max / 1e3; }
static double f_avg(const struct run_report *r) { return r->total.lat.avg / 1e3; }
static double f_irq50(const struct run_report *r) { return r->total.irq.p50 / 1e3; }
static double f_path50(const struct run_report *r) { return r->total.path.p50 / 1e3; }
static double f_pairs(const struct run_report *r) { return per(r->total.irq.n, r->total.lat.n); }
static double f_early(const struct run_report *r) { return k(r)->early; }
static double f_status(const struct run_report *r) { return r->status; }
static double f_hk_1k(const struct run_report *r) { return per(r->hk_cpu_ns / 1e6, f_events(r) / 1000); }
static double f_hk_pct(const struct run_report *r) { return per(r->hk_cpu_ns / 1e7, r->wall_s); }
static double f_dl_tx(const struct run_report *r) { return per(k(r)->op_wrmsr_deadline, f_tx(r)); }
static double f_eoi_tx(const struct run_report *r) { return per(k(r)->op_wrmsr_eoi, f_tx(r)); }
static double f_icr_tx(const struct run_report *r) { return per(k(r)->op_wrmsr_icr, f_tx(r)); }
static double f_oth_tx(const struct run_report *r) { return per(k(r)->op_wrmsr_other, f_tx(r)); }
static double f_hlt_tx(const struct run_report *r) { return per(k(r)->op_hlt, f_tx(r)); }
static double f_pio_tx(const struct run_report *r) { return per(k(r)->op_pio, f_tx(r)); }
static double f_kick_tx(const struct run_report *r) { return per(r->total.host.kicks, f_tx(r)); }
static double f_ops_tx(const struct run_report *r) { return per(f_ops(r), f_tx(r)); }
static double f_pveoi_tx(const struct run_report *r) { return per(k(r)->pv_eoi, f_tx(r)); }

/* Per timer event, by reason (exits_table). */
#define PER_EVENT(name, expr) \
	static double name(const struct run_report *r) { return per((expr), f_events(r)); }
PER_EVENT(f_dl_ev, k(r)->op_wrmsr_deadline)
PER_EVENT(f_eoi_ev, k(r)->op_wrmsr_eoi)
PER_EVENT(f_pveoi_ev, k(r)->pv_eoi)
PER_EVENT(f_icr_ev, k(r)->op_wrmsr_icr)
PER_EVENT(f_oth_ev, k(r)->op_wrmsr_other)
PER_EVENT(f_hlt_ev, k(r)->op_hlt)
PER_EVENT(f_pio_ev, k(r)->op_pio)
/* EOI writes per EOI (written + elided by PV EOI): 0 where PV EOI always engages. */
static double f_eoi_share(const struct run_report *r)
{
	return per(k(r)->op_wrmsr_eoi, k(r)->op_wrmsr_eoi + k(r)->pv_eoi);
}
static double f_kvm_tx(const struct run_report *r) { return per(stat_total(r, "exits"), f_tx(r)); }
static double f_tps(const struct run_report *r) { return r->transactions_per_s; }
static double f_wps(const struct run_report *r) { return r->work_units_per_s; }
static double f_inj_ev(const struct run_report *r) { return per(r->total.host.injections, f_events(r)); }
static double f_kick_ev(const struct run_report *r) { return per(r->total.host.kicks, f_events(r)); }
static double f_irq_ev(const struct run_report *r) { return per(stat_total(r, "irq_exits"), f_events(r)); }

/* The kvm tracepoints' count (kvm/ktrace.h): whole run, like the VMM's and KVM's. */
static const struct ktrace_counts *kt(const struct run_report *r) { return &r->ktrace.c; }
static double f_ux_vmm(const struct run_report *r) { return r->total.exits_total; }
static double f_ux_tp(const struct run_report *r) { return ktrace_uexits(kt(r)); }
static double f_kvm_exits(const struct run_report *r) { return stat_total(r, "exits"); }
static double f_exit_tp(const struct run_report *r) { return kt(r)->exit; }
static double f_halt_stat(const struct run_report *r) { return stat_total(r, "halt_exits"); }
static double f_hlt_guest(const struct run_report *r) { return k(r)->op_hlt; }
static double f_hlt_tp(const struct run_report *r) { return kt(r)->exit_hlt; }
static double f_dl_guest(const struct run_report *r) { return k(r)->op_wrmsr_deadline; }
static double f_dl_tp(const struct run_report *r) { return kt(r)->msr_write[KT_MSR_DEADLINE]; }
static double f_uwrmsr_tp(const struct run_report *r) { return kt(r)->uexit[KT_UX_WRMSR]; }
static double f_lost(const struct run_report *r) { return kt(r)->lost; }

/* Text columns: each as wide as its header (at least 10), set by head(). */
static int widths[24], ci;

/*
 * Prints the table header: names separated by '|', Markdown or padded text;
 * the first two columns at least w0 and w1 wide.
 */
static void head_w(FILE *f, bool md, const char *cols, int w0, int w1)
{
	char buf[512];
	int n = 0;

	ci = 0;
	snprintf(buf, sizeof(buf), "%s", cols);
	if (md) {
		fprintf(f, "| %s |\n|", cols);
		for (char *p = buf; *p; p++)
			n += *p == '|';
		for (int i = 0; i <= n; i++)
			fputs("---|", f);
		fputc('\n', f);
		return;
	}
	for (char *tok = strtok(buf, "|"); tok; tok = strtok(NULL, "|")) {
		while (*tok == ' ')
			tok++;
		char *e = tok + strlen(tok);
		while (e > tok && e[-1] == ' ')
			*--e = 0;
		int w = (int)strlen(tok) + 2;

		w = w < 10 ? 10 : w;
		w = !n && w < w0 ? w0 : n == 1 && w < w1 ? w1 : w;
		if (n < 24)
			widths[n++] = w;
		fprintf(f, "%-*s", w, tok);
	}
	fputc('\n', f);
}

/* The first column is the timer ("apicv-model"), the second mostly the
 * workload ("latency-busy"): wide enough for the longest of each. */
static void head(FILE *f, bool md, const char *cols)
{
	head_w(f, md, cols, 13, 14);
}

/* One cell of a row: text padded, or "| x " in Markdown. */
static void col(FILE *f, bool md, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void col(FILE *f, bool md, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (md)
		fprintf(f, "| %s ", buf);
	else	/* one space at least, even past the column's width */
		fprintf(f, "%-*s ", (ci < 24 ? widths[ci] : 10) - 1, buf);
	ci++;
}

static void end_row(FILE *f, bool md)
{
	fputs(md ? "|\n" : "\n", f);
	ci = 0;
}

typedef double (*run_fn)(const struct run_report *);

/* Exit-causing operations by reason, per transaction and per timer event. */
static const run_fn reasons_tx[] = {
	f_eoi_tx, f_pveoi_tx, f_icr_tx, f_oth_tx, f_hlt_tx, f_pio_tx, f_kick_tx,
};
static const run_fn reasons_ev[] = {
	f_dl_ev, f_eoi_ev, f_icr_ev, f_oth_ev, f_hlt_ev, f_pio_ev, f_kick_ev,
};

/* One cell per figure: the median over the cell's runs, 3 decimals. */
static void median_cols(FILE *f, bool md, const struct bench_cell *c, const run_fn *fn, size_t n)
{
	for (size_t i = 0; i < n; i++)
		col(f, md, "%.3f", bench_median(c, fn[i], NULL, NULL));
}

static void title(FILE *f, bool md, const char *t)
{
	fprintf(f, md ? "\n### %s\n\n" : "\n== %s\n", t);
}

static void note(FILE *f, bool md, const char *t)
{
	fprintf(f, md ? "\n%s\n" : "   %s\n", t);
}

static void overview(const struct bench *b, FILE *f, bool md)
{
	title(f, md, "All cells (median of repeats)");
	head(f, md, "timer | workload | events | exit ops/ev | msr/deadline | kvm exits/ev | p50 us | p99 us | early | status");
	for (int i = 0; i < b->nr_cells; i++) {
		const struct bench_cell *c = &b->cells[i];
		double lo, hi, p50 = bench_median(c, f_p50, &lo, &hi);

		if (!c->n)
			continue;
		col(f, md, "%s", c->timer);
		col(f, md, "%s", c->workload);
		col(f, md, "%.0f", bench_median(c, f_events, NULL, NULL));
		col(f, md, "%.3f", bench_median(c, f_ops_ev, NULL, NULL));
		col(f, md, "%.4f", bench_median(c, f_msr_dl, NULL, NULL));
		col(f, md, "%.3f", bench_median(c, f_kvm_ev, NULL, NULL));
		col(f, md, c->n > 1 ? "%.1f [%.0f-%.0f]" : "%.1f", p50, lo, hi);
		col(f, md, "%.1f", bench_median(c, f_p99, NULL, NULL));
		bench_median(c, f_early, NULL, &hi);
		col(f, md, "%.0f", hi);
		bench_median(c, f_status, NULL, &hi);
		col(f, md, "%.0f", hi);
		end_row(f, md);
	}
	note(f, md, "exit ops: the guest's exit-causing operations in its measured window (wrmsr by MSR, hlt, port I/O) plus the host's kicks; early and status: the worst run.");
}

static void lazy_table(const struct bench *b, FILE *f, bool md)
{
	const struct bench_cell *base = bench_find(b, "kvm", "rr");
	double dl0 = base ? bench_median(base, f_dl_tx, NULL, NULL) : 0;
	double ops0 = base ? bench_median(base, f_ops_tx, NULL, NULL) : 0;

	if (!has_workload(b, "rr"))
		return;
	title(f, md, "Lazy TSC deadline series: rr exits by reason, per transaction");
	head(f, md, "timer | tsc-deadline | eoi | pv eoi (no exit) | icr | other wrmsr | hlt | pio | kicks | exit ops | tsc-dl % of kvm | ops % of kvm | kvm exits stat");
	for (int i = 0; i < b->nr_cells; i++) {
		const struct bench_cell *c = &b->cells[i];
		double dl, ops;

		if (strcmp(c->workload, "rr") || !c->n)
			continue;
		dl = bench_median(c, f_dl_tx, NULL, NULL);
		ops = bench_median(c, f_ops_tx, NULL, NULL);
		col(f, md, "%s", c->timer);
		col(f, md, "%.3f", dl);
		median_cols(f, md, c, reasons_tx, ARRAY_SIZE(reasons_tx));
		col(f, md, "%.3f", ops);
		col(f, md, dl0 > 0 ? "%.1f%%" : "-", 100 * per(dl, dl0));
		col(f, md, ops0 > 0 ? "%.1f%%" : "-", 100 * per(ops, ops0));
		col(f, md, "%.3f", bench_median(c, f_kvm_tx, NULL, NULL));
		end_row(f, md);
	}
	note(f, md, "Published (lazy tscdeadline RFC, netperf TCP_RR): TSC-deadline MSR writes 7,512,945 -> 185,629 (2.5% of stock), all exits 12.6 M -> 5.8 M (46%). The kvm exits stat is KVM's own count; on a PVM host it does not follow the guest's MSR writes (docs/benchmarks.md).");
}

/* v's change against kvm's v0 in percent, "-" without a kvm figure. */
static void col_change(FILE *f, bool md, double v, double v0)
{
	col(f, md, v0 > 0 ? "%+.0f%%" : "-", 100 * (per(v, v0) - 1));
}

/* One latency row: c's medians, and their change against kvm's avg0, p500. */
static void latency_row(FILE *f, bool md, const struct bench_cell *c, const char *name,
			double avg0, double p500, bool guest)
{
	double avg = bench_median(c, f_avg, NULL, NULL), p50 = bench_median(c, f_p50, NULL, NULL);
	double hi;

	col(f, md, "%s", name);
	col(f, md, "%s", c->workload);
	col(f, md, "%.1f", bench_median(c, f_min, NULL, NULL));
	col(f, md, "%.1f", avg);
	col(f, md, "%.1f", p50);
	col(f, md, "%.1f", bench_median(c, f_p99, NULL, NULL));
	col(f, md, "%.1f", bench_median(c, f_max, NULL, NULL));
	col_change(f, md, avg, avg0);
	col_change(f, md, p50, p500);
	bench_median(c, f_early, NULL, &hi);
	col(f, md, guest ? "%.0f" : "-", hi);
	end_row(f, md);
}

/*
 * The host floor's row, under the cyclic rows it mirrors: its runs as
 * run_reports holding only the latency, so that they take the guests' path
 * through bench_median; the change is against kvm's cyclic cell.
 */
static void floor_row(const struct bench *b, FILE *f, bool md)
{
	const struct host_floor *hf = b->floor;
	const struct bench_cell *base = bench_find(b, "kvm", "cyclic");
	struct run_report runs[HOST_FLOOR_MAX_RUNS];
	struct bench_cell c = { "host", "cyclictest", runs, 0 };

	memset(runs, 0, sizeof(runs));
	for (int i = 0; i < hf->n; i++)
		if (!hf->runs[i].error[0])
			runs[c.n++].total.lat = hf->runs[i].lat;
	if (c.n)
		latency_row(f, md, &c, "host (cyclictest)",
			    base ? bench_median(base, f_avg, NULL, NULL) : 0,
			    base ? bench_median(base, f_p50, NULL, NULL) : 0, false);
}

static void floor_note(const struct bench *b, FILE *f, bool md)
{
	const struct host_floor *hf = b->floor;
	const char *missing = host_floor_missing(hf);
	char t[1200], cmd[256];

	host_floor_command(hf, cmd, sizeof(cmd));
	if (missing) {
		snprintf(t, sizeof(t), "host floor: %s", missing);
	} else {
		snprintf(t, sizeof(t),
			 "host (cyclictest): `%s` (%s) on the host, %s, %s; median of %d run(s). A vCPU's wake-up is a host thread's wake-up plus virtualization: the floor no guest can beat.",
			 cmd, hf->path, host_floor_policy(hf),
			 hf->placement ? hf->placement : "", hf->n);
	}
	note(f, md, t);
}

void bench_latency_table(const struct bench *b, FILE *f, bool md)
{
	static const char *const wls[] = { "cyclic", "latency", "latency-busy" };
	bool any = b->floor && b->floor->mode != HOST_FLOOR_OFF && b->floor->n;

	for (int w = 0; w < 3; w++)
		any |= has_workload(b, wls[w]);
	if (!any)
		return;
	title(f, md, "APIC-timer virtualization series: latency (us), change against kvm");
	head_w(f, md, "timer | workload | min | avg | p50 | p99 | max | avg vs kvm | p50 vs kvm | early",
	       b->floor && b->floor->n ? 19 : 13, 14);
	for (int w = 0; w < 3; w++) {
		const struct bench_cell *base = bench_find(b, "kvm", wls[w]);
		double avg0 = base ? bench_median(base, f_avg, NULL, NULL) : 0;
		double p500 = base ? bench_median(base, f_p50, NULL, NULL) : 0;

		for (int i = 0; i < b->nr_cells; i++) {
			const struct bench_cell *c = &b->cells[i];

			if (!strcmp(c->workload, wls[w]) && c->n)
				latency_row(f, md, c, c->timer, avg0, p500, true);
		}
		if (w == 0 && b->floor)
			floor_row(b, f, md);
	}
	note(f, md, "Published (APIC timer virtualization series): cyclictest average latency -21% against stock KVM, and the timer_latency selftest. Latency is wake - deadline as the guest measured it.");
	if (b->floor && b->floor->mode != HOST_FLOOR_OFF)
		floor_note(b, f, md);
}

/*
 * cyclic's wake-up split at the interrupt that woke the task (results.c):
 * how late the interrupt came, and the guest's path from it to the task.
 * A delivery that hands the interrupt over earlier can still lose on the
 * path (docs/benchmarks.md).
 */
static void wake_split_table(const struct bench *b, FILE *f, bool md)
{
	const struct bench_cell *base = bench_find(b, "kvm", "cyclic");
	double i0 = base ? bench_median(base, f_irq50, NULL, NULL) : 0;
	double p0 = base ? bench_median(base, f_path50, NULL, NULL) : 0;
	double w0 = base ? bench_median(base, f_p50, NULL, NULL) : 0;

	if (!has_workload(b, "cyclic"))
		return;
	title(f, md, "cyclic: the wake-up split at its interrupt (us, p50), change against kvm");
	head(f, md, "timer | interrupt | vs kvm | path to task | vs kvm | wake-up | vs kvm | with interrupt");
	for (int i = 0; i < b->nr_cells; i++) {
		const struct bench_cell *c = &b->cells[i];
		double irq, path, wake;

		if (strcmp(c->workload, "cyclic") || !c->n)
			continue;
		irq = bench_median(c, f_irq50, NULL, NULL);
		path = bench_median(c, f_path50, NULL, NULL);
		wake = bench_median(c, f_p50, NULL, NULL);
		col(f, md, "%s", c->timer);
		col(f, md, "%.1f", irq);
		col_change(f, md, irq, i0);
		col(f, md, "%.1f", path);
		col_change(f, md, path, p0);
		col(f, md, "%.1f", wake);
		col_change(f, md, wake, w0);
		col(f, md, "%.0f%%", 100 * bench_median(c, f_pairs, NULL, NULL));
		end_row(f, md);
	}
	note(f, md, "interrupt: the TSC of the last timer interrupt before the task woke, less the deadline; path: the task's wake-up less that; medians of the runs' p50s, so interrupt + path need not add up to the wake-up. with interrupt: the wake-ups that had one (the others found their deadline passed).");
}

static void exitless_table(const struct bench *b, FILE *f, bool md)
{
	const struct bench_cell *rr0 = bench_find(b, "kvm", "rr");
	const struct bench_cell *tp0 = bench_find(b, "kvm", "throughput");
	double t0 = rr0 ? bench_median(rr0, f_tps, NULL, NULL) : 0;
	double w0 = tp0 ? bench_median(tp0, f_wps, NULL, NULL) : 0;

	if (!rr0 && !tp0)
		return;
	title(f, md, "Exitless timer series: rr and throughput, ratio to kvm");
	head(f, md, "timer | rr tx/s | vs kvm | throughput work/s | vs kvm | injections/ev | kicks/ev | kvm irq_exits/ev");
	for (int i = 0; i < b->nr_cells; i++) {
		const struct bench_cell *c = &b->cells[i], *rr, *tp;
		double t, w, lo = 0, hi = 0;

		/* one row per timer: at its throughput cell, or its rr cell if none */
		if (strcmp(c->workload, "throughput") &&
		    (strcmp(c->workload, "rr") || bench_find(b, c->timer, "throughput")))
			continue;
		tp = bench_find(b, c->timer, "throughput");
		rr = bench_find(b, c->timer, "rr");
		t = rr && rr->n ? bench_median(rr, f_tps, &lo, &hi) : 0;
		w = tp && tp->n ? bench_median(tp, f_wps, NULL, NULL) : 0;
		col(f, md, "%s", c->timer);
		col(f, md, rr && rr->n > 1 ? "%.0f [%.0f-%.0f]" : "%.0f", t, lo, hi);
		col(f, md, t0 > 0 && t > 0 ? "%.3f" : "-", per(t, t0));
		col(f, md, "%.0f", w);
		col(f, md, w0 > 0 ? "%.3f" : "-", per(w, w0));
		c = tp && tp->n ? tp : rr;
		col(f, md, "%.3f", bench_median(c, f_inj_ev, NULL, NULL));
		col(f, md, "%.3f", bench_median(c, f_kick_ev, NULL, NULL));
		col(f, md, "%.3f", bench_median(c, f_irq_ev, NULL, NULL));
		end_row(f, md);
	}
	note(f, md, "Published (exitless timer, redis): throughput +3-5%, external-interrupt exits 42,916 -> 6,871. Without posted interrupts (this host) an injection into a running vCPU still kicks it. Per-event columns are from the throughput cells (rr where there are none).");
}

/* The cell's runs all have the tracepoint count, with kvm_exit if ev. */
static bool cell_ktrace(const struct bench_cell *c, bool exit_ev)
{
	for (int i = 0; i < c->n; i++)
		if (c->runs[i].ktrace.state != KTRACE_STATE_OK ||
		    (exit_ev && !(c->runs[i].ktrace.events & (1u << KT_EV_EXIT))))
			return false;
	return c->n > 0;
}

/* Why the count is missing, from the first run that says so; NULL if none does. */
static const char *ktrace_why(const struct bench *b)
{
	for (int i = 0; i < b->nr_cells; i++)
		for (int k = 0; k < b->cells[i].n; k++)
			if (b->cells[i].runs[k].ktrace.state == KTRACE_STATE_UNAVAILABLE)
				return b->cells[i].runs[k].ktrace.why;
	return NULL;
}

static void three_sources(const struct bench *b, FILE *f, bool md)
{
	const char *why = ktrace_why(b);
	char buf[320];
	bool any = false;

	for (int i = 0; i < b->nr_cells; i++)
		any |= cell_ktrace(&b->cells[i], false);
	if (!any) {
		if (why) {
			snprintf(buf, sizeof(buf), "kvm tracepoints: unavailable (%s).", why);
			title(f, md, "Three sources of exit counts");
			note(f, md, buf);
		}
		return;
	}
	title(f, md, "Three sources of exit counts: VMM, KVM's stats, kvm tracepoints (whole run)");
	head(f, md, "timer | workload | uexits vmm | uexits tp | exits stat | kvm_exit tp | halt_exits stat | hlt tp | hlt guest | tsc-dl tp | tsc-dl guest | wrmsr uexits tp | lost");
	for (int i = 0; i < b->nr_cells; i++) {
		const struct bench_cell *c = &b->cells[i];
		bool tp = cell_ktrace(c, false), ex = cell_ktrace(c, true);

		if (!c->n)
			continue;
		col(f, md, "%s", c->timer);
		col(f, md, "%s", c->workload);
		col(f, md, "%.0f", bench_median(c, f_ux_vmm, NULL, NULL));
		col(f, md, tp ? "%.0f" : "-", bench_median(c, f_ux_tp, NULL, NULL));
		col(f, md, "%.0f", bench_median(c, f_kvm_exits, NULL, NULL));
		col(f, md, ex ? "%.0f" : "-", bench_median(c, f_exit_tp, NULL, NULL));
		col(f, md, "%.0f", bench_median(c, f_halt_stat, NULL, NULL));
		col(f, md, ex ? "%.0f" : "-", bench_median(c, f_hlt_tp, NULL, NULL));
		col(f, md, "%.0f", bench_median(c, f_hlt_guest, NULL, NULL));
		col(f, md, tp ? "%.0f" : "-", bench_median(c, f_dl_tp, NULL, NULL));
		col(f, md, "%.0f", bench_median(c, f_dl_guest, NULL, NULL));
		col(f, md, tp ? "%.0f" : "-", bench_median(c, f_uwrmsr_tp, NULL, NULL));
		col(f, md, tp ? "%.0f" : "-", bench_median(c, f_lost, NULL, NULL));
		end_row(f, md);
	}
	note(f, md, "Medians of counts. vmm: the VMM's user-space exits; stat: KVM's binary stats; tp: the kernel's kvm tracepoints (kvm_userspace_exit without the interrupted returns, kvm_exit, kvm_exit for hlt, kvm_msr writes of IA32_TSC_DEADLINE handled in the kernel, kvm_userspace_exit for wrmsr); these cover the whole run. guest: the guest's own count of the operation inside its measured window only, so at most the tp figure unless the operation did not exit. lost: events the trace buffer dropped. '-': not counted (see vtimer run's report).");
}

static void host_cost(const struct bench *b, FILE *f, bool md)
{
	title(f, md, "Host cost: housekeeping thread CPU");
	head(f, md, "timer | workload | hk cpu ms per 1000 events | hk cpu % of wall");
	for (int i = 0; i < b->nr_cells; i++) {
		const struct bench_cell *c = &b->cells[i];

		if (!c->n || !bench_median(c, f_hk_pct, NULL, NULL))
			continue;
		col(f, md, "%s", c->timer);
		col(f, md, "%s", c->workload);
		col(f, md, "%.2f", bench_median(c, f_hk_1k, NULL, NULL));
		col(f, md, "%.1f", bench_median(c, f_hk_pct, NULL, NULL));
		end_row(f, md);
	}
}

/*
 * Exit-causing operations per timer event by reason, every cell: what exits
 * on VMX/SVM without APICv (docs/design.md), as the guest counted them in its
 * window, plus the host's kicks; beside them KVM's own exits stat, which on
 * a PVM host does not follow them. "eoi writes/eoi" is the share of EOIs
 * that still wrote the register (KVM PV EOI elides the rest).
 */
static void exits_table(const struct bench *b, FILE *f, bool md)
{
	title(f, md, "Exit-causing operations per timer event, by reason");
	head(f, md, "timer | workload | tsc-deadline | eoi | icr | other wrmsr | hlt | pio | kicks | exit ops | ops % of kvm | pv eoi (no exit) | eoi writes/eoi | kvm exits stat");
	for (int i = 0; i < b->nr_cells; i++) {
		const struct bench_cell *c = &b->cells[i];
		const struct bench_cell *base = bench_find(b, "kvm", c->workload);
		double ops, ops0 = base ? bench_median(base, f_ops_ev, NULL, NULL) : 0;

		if (!c->n)
			continue;
		ops = bench_median(c, f_ops_ev, NULL, NULL);
		col(f, md, "%s", c->timer);
		col(f, md, "%s", c->workload);
		median_cols(f, md, c, reasons_ev, ARRAY_SIZE(reasons_ev));
		col(f, md, "%.3f", ops);
		col(f, md, ops0 > 0 ? "%.1f%%" : "-", 100 * per(ops, ops0));
		col(f, md, "%.3f", bench_median(c, f_pveoi_ev, NULL, NULL));
		col(f, md, "%.3f", bench_median(c, f_eoi_share, NULL, NULL));
		col(f, md, "%.3f", bench_median(c, f_kvm_ev, NULL, NULL));
		end_row(f, md);
	}
	note(f, md, "Per timer event (events the workload completed). exit ops: the guest's wrmsr by MSR, hlt and port I/O in its measured window plus the host's kicks of running vCPUs. pv eoi: EOIs KVM completed without a write (not exits). kvm exits stat: KVM's binary stat, which on a PVM host does not follow MSR writes (emulated CPL0 code).");
}

void bench_tables(const struct bench *b, FILE *f, bool md)
{
	fprintf(f, md ? "%s\n" : "%s\n", b->title);
	overview(b, f, md);
	exits_table(b, f, md);
	lazy_table(b, f, md);
	bench_latency_table(b, f, md);
	wake_split_table(b, f, md);
	exitless_table(b, f, md);
	three_sources(b, f, md);
	host_cost(b, f, md);
}
