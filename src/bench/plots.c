// SPDX-License-Identifier: MIT
/*
 * vtimer bench's plots, drawn by gnuplot (Debian's gnuplot-nox) when it is
 * installed: the data and the script are always written, so a machine
 * without gnuplot can draw them later (`gnuplot DIR/plots.gp`).
 *   latency-W.{svg,png}  latency distribution (CDF) per mode, workload W
 *   exits-W.{svg,png}    exit-causing operations per event, stacked by reason
 * Each uses the cell's first run (the distributions of one run, not merged).
 * When the host floor ran (hostfloor.h), latency-cyclic adds its first run
 * as a black series "host (cyclictest)" (host-floor.dat), as the latency
 * table has its row under the cyclic rows: its whole distribution, the same
 * 101 quantiles as the guests', as a dashed line (PNG through pngcairo where
 * gnuplot has it: libgd's png draws dashes solid).
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "../util.h"

static const char *const lat_wls[] = { "cyclic", "latency", "latency-busy", "tick", "rr" };
static const char *const ops_wls[] = { "cyclic", "rr" };

static FILE *open_in(const char *dir, const char *name, const char *mode)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fopen(path, mode);
}

/* 101 quantiles (0..100%) of each cell's samples, in us: "q timer1 timer2 ...". */
static int latency_dat(const struct bench *b, const char *dir, const char *wl)
{
	char name[64];
	int cols = 0;
	FILE *f;

	snprintf(name, sizeof(name), "latency-%s.dat", wl);
	for (int i = 0; i < b->nr_cells; i++)
		cols += !strcmp(b->cells[i].workload, wl) && b->cells[i].n &&
			b->cells[i].runs[0].nr_samples;
	if (!cols)
		return 0;
	if (!(f = open_in(dir, name, "w")))
		return -1;
	fprintf(f, "quantile");
	for (int i = 0; i < b->nr_cells; i++)
		if (!strcmp(b->cells[i].workload, wl) && b->cells[i].n &&
		    b->cells[i].runs[0].nr_samples)
			fprintf(f, " %s", b->cells[i].timer);
	fputc('\n', f);
	for (int q = 0; q <= 100; q++) {
		fprintf(f, "%d", q);
		for (int i = 0; i < b->nr_cells; i++) {
			const struct run_report *r = &b->cells[i].runs[0];
			size_t at;

			if (strcmp(b->cells[i].workload, wl) || !b->cells[i].n || !r->nr_samples)
				continue;
			at = (r->nr_samples - 1) * (size_t)q / 100;
			fprintf(f, " %.3f", r->samples_ns[at] / 1e3);
		}
		fputc('\n', f);
	}
	return fclose(f) ? -1 : cols;
}

/* The host floor's first run, if it has samples, as host-floor.dat: the
 * same 101 quantiles as latency_dat's, in us. */
static int floor_dat(const struct bench *b, const char *dir)
{
	const struct host_floor_run *r;
	FILE *f;

	if (!b->floor || !b->floor->n || b->floor->runs[0].error[0] || !b->floor->runs[0].lat.n)
		return 0;
	r = &b->floor->runs[0];
	if (!(f = open_in(dir, "host-floor.dat", "w")))
		return -1;
	fprintf(f, "quantile \"host (cyclictest)\"\n");
	for (int q = 0; q <= 100; q++)
		fprintf(f, "%d %.3f\n", q, r->quantile_ns[q] / 1e3);
	return fclose(f) ? -1 : 1;
}

/* One row per mode: exit-causing operations per event by reason. */
static int ops_dat(const struct bench *b, const char *dir, const char *wl)
{
	char name[64];
	int rows = 0;
	FILE *f;

	snprintf(name, sizeof(name), "exits-%s.dat", wl);
	if (!(f = open_in(dir, name, "w")))
		return -1;
	fprintf(f, "timer tsc-deadline eoi icr other-wrmsr hlt pio kicks\n");
	for (int i = 0; i < b->nr_cells; i++) {
		const struct bench_cell *c = &b->cells[i];
		const struct vtimer_counters *k;
		double ev;

		if (strcmp(c->workload, wl) || !c->n)
			continue;
		k = &c->runs[0].total.c;
		ev = k->events ? (double)k->events : 1;
		fprintf(f, "%s %.4f %.4f %.4f %.4f %.4f %.4f %.4f\n", c->timer,
			k->op_wrmsr_deadline / ev, k->op_wrmsr_eoi / ev, k->op_wrmsr_icr / ev,
			k->op_wrmsr_other / ev, k->op_hlt / ev, k->op_pio / ev,
			c->runs[0].total.host.kicks / ev);
		rows++;
	}
	return fclose(f) ? -1 : rows;
}

static void gp_both(FILE *g, const char *dir, const char *base, const char *plot)
{
	fprintf(g, "set terminal svg size 900,500 dynamic\nset output '%s/%s.svg'\n%s\n", dir, base,
		plot);
	/* pngcairo draws the host floor's dashes; plain png (libgd) cannot. */
	fprintf(g, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) "
		"{ set terminal pngcairo size 900,500 } else { set terminal png size 900,500 }\n"
		"set output '%s/%s.png'\n%s\n", dir, base, plot);
}

int bench_plots(const struct bench *b, const char *dir)
{
	char plot[2048], base[64], floor[1024], cmd[4200];
	FILE *g = open_in(dir, "plots.gp", "w");

	if (!g) {
		vt_err("cannot write %s/plots.gp", dir);
		return -1;
	}
	fprintf(g, "# vtimer bench plots: gnuplot %s/plots.gp\nset key outside right\nset grid\n",
		dir);
	for (unsigned int w = 0; w < sizeof(lat_wls) / sizeof(lat_wls[0]); w++) {
		int cols = latency_dat(b, dir, lat_wls[w]);
		int host = cols > 0 && !strcmp(lat_wls[w], "cyclic") ? floor_dat(b, dir) : 0;

		if (cols < 0 || host < 0)
			goto fail;
		if (!cols)
			continue;
		floor[0] = 0;
		if (host)
			snprintf(floor, sizeof(floor),
				 ", '%s/host-floor.dat' using 2:1 title columnheader(2) with lines dt 2 lw 2 lc rgb 'black'",
				 dir);
		snprintf(base, sizeof(base), "latency-%s", lat_wls[w]);
		snprintf(plot, sizeof(plot),
			 "set title '%s: %s distribution per mode'\nset xlabel '%s (us)'\nset ylabel 'percent of samples at or below'\nset style data lines\nplot for [i=2:%d] '%s/%s.dat' using i:1 title columnheader(i) lw 2%s",
			 lat_wls[w], strcmp(lat_wls[w], "rr") ? "latency" : "round-trip time",
			 strcmp(lat_wls[w], "rr") ? "wake - deadline" : "round trip", cols + 1, dir,
			 base, floor);
		gp_both(g, dir, base, plot);
	}
	for (unsigned int w = 0; w < sizeof(ops_wls) / sizeof(ops_wls[0]); w++) {
		int rows = ops_dat(b, dir, ops_wls[w]);

		if (rows < 0)
			goto fail;
		if (!rows)
			continue;
		snprintf(base, sizeof(base), "exits-%s", ops_wls[w]);
		snprintf(plot, sizeof(plot),
			 "set title '%s: exit-causing operations per %s, by reason'\nset xlabel ''\nset ylabel 'operations per %s'\nset style data histograms\nset style histogram rowstacked\nset style fill solid 0.8 border -1\nset boxwidth 0.7\nplot for [i=2:8] '%s/%s.dat' using i:xtic(1) title columnheader(i)\nunset style",
			 ops_wls[w], strcmp(ops_wls[w], "rr") ? "timer event" : "transaction",
			 strcmp(ops_wls[w], "rr") ? "event" : "transaction", dir, base);
		gp_both(g, dir, base, plot);
	}
	if (fclose(g))
		return -1;
	if (system("gnuplot --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "vtimer: bench: gnuplot is not installed: plots not drawn (apt-get install gnuplot-nox; then gnuplot %s/plots.gp)\n",
			dir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "gnuplot '%s/plots.gp'", dir);
	if (system(cmd) != 0) {
		vt_err("gnuplot %s/plots.gp failed", dir);
		return -1;
	}
	return 1;
fail:
	fclose(g);
	vt_err("cannot write the plot data in %s", dir);
	return -1;
}
