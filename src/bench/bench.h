/* SPDX-License-Identifier: MIT */
/*
 * vtimer bench: a matrix of (timer preset, workload) cells, each run
 * `repeat` times, interleaved (repeat, then workload, then preset) so that
 * machine drift hits every mode alike. tables.c prints one table per patch
 * series with its published figure beside ours; plots.c draws them with
 * gnuplot. Every figure is the median over the cell's repeats.
 */
#ifndef VTIMER_BENCH_H
#define VTIMER_BENCH_H

#include <stdbool.h>
#include <stdio.h>

#include "hostfloor.h"
#include "report.h"

struct bench_cell {
	const char *timer;		/* preset name */
	const char *workload;		/* bench's name: cyclic, latency, latency-busy, rr, ... */
	struct run_report *runs;	/* [repeat] */
	int n;				/* runs done */
};

struct bench {
	struct bench_cell *cells;
	int nr_cells;
	int repeat;
	const char *title;		/* the configuration line */
	const struct host_floor *floor;	/* cyclictest on the host, NULL if not asked */
};

/* The cell for (timer, workload), NULL if the matrix has none. */
const struct bench_cell *bench_find(const struct bench *b, const char *timer, const char *wl);
/* Median over the cell's runs of f; *lo, *hi the spread (may be NULL). */
double bench_median(const struct bench_cell *c, double (*f)(const struct run_report *),
		    double *lo, double *hi);

/* tables.c: every table, Markdown when md. */
void bench_tables(const struct bench *b, FILE *f, bool md);
/* tables.c: the APIC-timer series' latency table alone (vtimer bench host-floor). */
void bench_latency_table(const struct bench *b, FILE *f, bool md);

/* plots.c: data files and plots.gp in dir; SVG and PNG when gnuplot is installed. */
int bench_plots(const struct bench *b, const char *dir);

#endif
