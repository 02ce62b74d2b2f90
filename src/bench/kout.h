/* SPDX-License-Identifier: MIT */
/*
 * What a multiboot kernel says on its serial console, in the shape
 * kvm-unit-tests gives it: "latency: N" lines (x86/tscdeadline_latency: TSC
 * cycles from the deadline to the handler's rdtsc; negative = early) and the
 * closing "SUMMARY: N tests[, M unexpected failures][, K expected
 * failures][, S skipped]" line (lib/report.c). Fed one console line at a
 * time; anything else is ignored. The kernel is untrusted: lines are
 * bounded by the serial device, samples by KOUT_MAX_SAMPLES.
 */
#ifndef VTIMER_KOUT_H
#define VTIMER_KOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

#define KOUT_MAX_SAMPLES (1u << 20)

struct kout_summary {
	bool seen;			/* a SUMMARY: line was parsed (the last one wins) */
	uint32_t tests, failures, xfailures, skipped;
};

struct kout {
	int64_t *lat;			/* TSC cycles, as printed */
	size_t n, cap;
	uint64_t dropped;		/* "latency:" lines past KOUT_MAX_SAMPLES */
	struct kout_summary summary;
};

/* What the report carries: the latencies in ns. */
struct kout_result {
	struct kout_summary summary;
	struct lat_stats lat;		/* ns; lat.n == 0: no "latency:" lines */
	uint64_t early;			/* samples below 0 */
	uint64_t dropped;
};

/* One console line, without its '\n' (a trailing '\r' is ignored). */
void kout_line(void *kout, const char *line, size_t len);
/* The figures, latencies converted at tsc_khz; frees the samples. */
void kout_finish(struct kout *k, uint64_t tsc_khz, struct kout_result *out);

#endif
