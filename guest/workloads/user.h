/* SPDX-License-Identifier: MIT */
/* What a CPL3 workload task may use: system calls and native rdtsc. */
#ifndef GUEST_USER_H
#define GUEST_USER_H

#include "../kernel/kernel.h"

static inline long sys(long nr, long a0, long a1, long a2)
{
	long r;

	__asm__ volatile("int $4" : "=a"(r) : "a"(nr), "D"(a0), "S"(a1), "d"(a2) : "memory");
	return r;
}

static inline uint64_t ns_to_tsc(uint64_t ns)
{
	return ns * boot->tsc_khz / 1000000;
}

long cyclic_main(struct vtimer_result *res, int64_t *samples);
long latency_main(struct vtimer_result *res, int64_t *samples);
long masked_main(struct vtimer_result *res, int64_t *samples);
long switch_main(struct vtimer_result *res, int64_t *samples);
long abi_main(struct vtimer_result *res, int64_t *samples);
long hostile_main(struct vtimer_result *res, int64_t *samples);
long crash_main(struct vtimer_result *res, int64_t *samples);
long rr_main(struct vtimer_result *res, int64_t *samples);
long tick_main(struct vtimer_result *res, int64_t *samples);
long throughput_main(struct vtimer_result *res, int64_t *samples);

#endif
