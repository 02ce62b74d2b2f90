/* SPDX-License-Identifier: MIT */
#ifndef VTIMER_UTIL_H
#define VTIMER_UTIL_H

#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One-line diagnostics on stderr, prefixed "vtimer: ". */
void vt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vt_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int vt_verbose;

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#endif
