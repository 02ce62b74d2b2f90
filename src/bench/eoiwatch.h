/* SPDX-License-Identifier: MIT */
/*
 * A host thread that polls each vCPU's KVM PV EOI word while the guest runs
 * and counts how often it saw KVM set bit 0 (`vtimer probe`): whether KVM
 * never sets it, or sets it and clears it again before the guest's handler
 * can read it (docs/design.md, "KVM PV EOI").
 */
#ifndef VTIMER_EOIWATCH_H
#define VTIMER_EOIWATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../machine/machine.h"

struct eoi_watch {
	struct vm *vm;
	uint64_t results_gpa;		/* the guest's struct vtimer_result[nr] */
	int nr;
	pthread_t thread;
	bool started;
	bool stop;			/* atomic */
	uint32_t *last;			/* per vCPU: the word as last read */
	uint64_t sets;			/* 0 -> 1 transitions of bit 0 seen */
	uint64_t polls;			/* rounds over every vCPU's word */
	uint64_t words;			/* vCPUs whose word was readable at the end */
};

/* Starts polling (0) or says why not (-1, nothing started). */
int eoi_watch_start(struct eoi_watch *w, struct vm *vm, uint64_t results_gpa, int nr);
/* Stops the thread; the counts stay in *w. Safe on one that never started. */
void eoi_watch_stop(struct eoi_watch *w);

#endif
