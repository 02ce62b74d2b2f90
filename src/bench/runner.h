/* SPDX-License-Identifier: MIT */
#ifndef VTIMER_RUNNER_H
#define VTIMER_RUNNER_H

#include "report.h"

/* Boots the guest for cfg, runs it to the end, fills r. Returns r->status. */
int run_once(const struct run_config *cfg, struct run_report *r);

/*
 * results.c. boot_layout() fills b, the host's own copy of the boot record,
 * and writes it to guest memory; collect() reads the results back through b
 * only. boot_layout_check(): 0 if b's areas fit in mem_size without overlap
 * or arithmetic overflow. guest_result_read(): vCPU cpu's result record
 * (zeroed unless its version and cpu match) and sample row, nr_samples
 * bounded by b; false if there is none. ucall_io(): the ucall port, opaque
 * is a struct ucall_state; a slot other than the caller's stops the run (72).
 */
struct ucall_state {
	int done;			/* vCPUs that reported DONE */
	int guest_status;		/* the largest status they reported */
};

int ucall_io(struct vcpu *vcpu, uint16_t port, bool out, int size, uint8_t *data,
	     void *opaque);
int boot_layout(struct vm *vm, const struct run_config *cfg, struct vtimer_boot *b);
int boot_layout_check(const struct vtimer_boot *b, uint64_t mem_size);
bool guest_result_read(struct vm *vm, const struct vtimer_boot *b, uint32_t cpu,
		       struct vtimer_result *res, const int64_t **samples);
void collect(struct run_report *r, struct vm *vm, const struct timer_engine *eng,
	     const struct vtimer_boot *b);
/* vm_postmortem()'s guest line: arg is the run's struct vtimer_boot. */
void guest_live_describe(struct vcpu *v, uint64_t guest_tsc, FILE *f, void *arg);
/* A multiboot kernel run: only what the host saw (exits, KVM stats, engine). */
void collect_kernel(struct run_report *r, struct vm *vm, const struct timer_engine *eng);

#endif
