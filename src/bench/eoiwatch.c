// SPDX-License-Identifier: MIT
/*
 * KVM sets bit 0 of a vCPU's PV EOI word before it enters the guest with a
 * lone interrupt in service and clears it at the guest's next exit if the
 * guest has not (lapic.c: apic_sync_pv_eoi_to_guest, _from_guest). A guest
 * that never finds the bit set cannot tell which of the two it met; a host
 * thread reading the word as fast as it can sees every set that lasts
 * longer than one of its rounds (well under a microsecond). The guest
 * publishes the word's address in its result slot (pv_eoi_gpa); a value
 * outside guest memory or misaligned is skipped, never followed.
 */
#include <stdlib.h>
#include <string.h>

#include "eoiwatch.h"
#include "../util.h"
#include "vtimer/abi.h"

static const uint32_t *word_of(struct eoi_watch *w, int i)
{
	const struct vtimer_result *res =
		vm_gpa_elem(w->vm, w->results_gpa, i, sizeof(*res), sizeof(*res));
	uint64_t gpa;

	if (!res)
		return NULL;
	gpa = __atomic_load_n(&res->pv_eoi_gpa, __ATOMIC_RELAXED);
	if (!gpa || gpa % sizeof(uint32_t))
		return NULL;
	return vm_gpa(w->vm, gpa, sizeof(uint32_t));
}

static void *watch(void *arg)
{
	struct eoi_watch *w = arg;

	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
		for (int i = 0; i < w->nr; i++) {
			const uint32_t *p = word_of(w, i);
			uint32_t v;

			if (!p)
				continue;
			v = __atomic_load_n(p, __ATOMIC_RELAXED);
			if ((v & 1) && !(w->last[i] & 1))
				w->sets++;
			w->last[i] = v;
		}
		w->polls++;
	}
	return NULL;
}

int eoi_watch_start(struct eoi_watch *w, struct vm *vm, uint64_t results_gpa, int nr)
{
	memset(w, 0, sizeof(*w));
	w->vm = vm;
	w->results_gpa = results_gpa;
	w->nr = nr;
	w->last = calloc(nr > 0 ? nr : 1, sizeof(*w->last));
	if (!w->last)
		return -1;
	if (pthread_create(&w->thread, NULL, watch, w)) {
		free(w->last);
		w->last = NULL;
		return -1;
	}
	w->started = true;
	return 0;
}

void eoi_watch_stop(struct eoi_watch *w)
{
	if (!w->started)
		return;
	__atomic_store_n(&w->stop, true, __ATOMIC_RELAXED);
	pthread_join(w->thread, NULL);
	w->started = false;
	for (int i = 0; i < w->nr; i++)
		w->words += word_of(w, i) != NULL;
	free(w->last);
	w->last = NULL;
}
