/* SPDX-License-Identifier: MIT */
#ifndef VTIMER_STATS_H
#define VTIMER_STATS_H

#include <stddef.h>
#include <stdint.h>

struct lat_stats {
	uint64_t n;
	int64_t min, max, p50, p99;
	double avg;
};

/* Nearest-rank percentile p (0..100] of a sorted array; 0 if n == 0. */
int64_t stats_percentile(const int64_t *sorted, size_t n, double p);
/* Sorts v in place and fills st; all zero when n == 0. */
void stats_compute(int64_t *v, size_t n, struct lat_stats *st);
/* Guest TSC cycles to nanoseconds, exact in 128-bit arithmetic. */
int64_t tsc_to_ns(int64_t cycles, uint64_t tsc_khz);

#endif
