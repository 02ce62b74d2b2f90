// SPDX-License-Identifier: MIT
/* Latency statistics as cyclictest reports them: min/avg/percentiles/max. */
#include <stdlib.h>

#include "stats.h"

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t stats_percentile(const int64_t *sorted, size_t n, double p)
{
	double x = p * n / 100.0;	/* p * n first: exact for whole p */
	size_t rank;

	if (!n)
		return 0;
	/* nearest rank: ceil(p/100 * n), 1-based */
	rank = (size_t)x;
	if ((double)rank < x)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

void stats_compute(int64_t *v, size_t n, struct lat_stats *st)
{
	long double sum = 0;

	*st = (struct lat_stats){ .n = n };
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_i64);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	st->min = v[0];
	st->max = v[n - 1];
	st->avg = (double)(sum / n);
	st->p50 = stats_percentile(v, n, 50);
	st->p99 = stats_percentile(v, n, 99);
}

int64_t tsc_to_ns(int64_t cycles, uint64_t tsc_khz)
{
	__int128 ns = (__int128)cycles * 1000000;

	return tsc_khz ? (int64_t)(ns / (__int128)tsc_khz) : 0;
}
