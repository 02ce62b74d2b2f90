/* SPDX-License-Identifier: MIT */
/*
 * A second count of exits: the kernel's own kvm tracepoints, counted the way
 * `perf kvm stat` does, in a private tracefs instance restricted to this
 * process and the threads it starts (set_event_pid + options/event-fork: KVM
 * fires these events in the vCPU threads' context).
 *
 * In the kernel with hist triggers where the kernel has them
 * (CONFIG_HIST_TRIGGERS), else by parsing the instance's trace buffer at the
 * end, with the events the buffer lost counted. Optional by design: without
 * root, tracefs or the events the run goes on and the result says why not.
 *
 * ktrace.c sets up and removes the instance; ktrace_parse.c turns the text
 * the kernel gives back (trace lines, hist tables) into counts.
 */
#ifndef VTIMER_KTRACE_H
#define VTIMER_KTRACE_H

#include <stdbool.h>
#include <stdint.h>

enum ktrace_mode {
	KTRACE_AUTO,		/* when root and tracefs and the events are there */
	KTRACE_ON,		/* the same, but the run is refused without them */
	KTRACE_OFF,
	KTRACE_BUFFER,		/* as ON, parsing the buffer even with hist triggers */
};

enum ktrace_state { KTRACE_STATE_OFF, KTRACE_STATE_UNAVAILABLE, KTRACE_STATE_OK };

/* The events, in tracefs's events/kvm/ (the last two only on some kernels). */
enum ktrace_event {
	KT_EV_MSR,		/* kvm_msr: MSR accesses KVM handled in the kernel */
	KT_EV_UEXIT,		/* kvm_userspace_exit: every return from KVM_RUN */
	KT_EV_PIO,		/* kvm_pio */
	KT_EV_INJ_VIRQ,		/* kvm_inj_virq: interrupts injected (and soft INTn) */
	KT_EV_EXIT,		/* kvm_exit: every hardware exit (x86) */
	KT_EV_PV_EOI,		/* kvm_pv_eoi: EOIs the guest did without an exit */
	KT_EVENTS
};

/* MSR writes by index: the ones the timer workloads make exit. */
enum ktrace_msr { KT_MSR_DEADLINE, KT_MSR_EOI, KT_MSR_ICR, KT_MSR_OTHER, KT_MSRS };

/* kvm_userspace_exit by KVM_EXIT_* reason; interrupted: errno < 0 (EINTR). */
enum ktrace_uexit { KT_UX_IO, KT_UX_WRMSR, KT_UX_RDMSR, KT_UX_OTHER, KT_UX_INTR, KT_UXS };

struct ktrace_counts {
	uint64_t msr_write[KT_MSRS];
	uint64_t msr_read;
	uint64_t uexit[KT_UXS];
	uint64_t pio;
	uint64_t inj_virq;		/* kvm_inj_virq of interrupts (soft = 0) */
	uint64_t inj_soft;		/* ... of software INTn reinjected by KVM (the
					 * guest's int $4 system calls on PVM) */
	uint64_t exit;
	uint64_t exit_hlt;		/* kvm_exit for hlt (VMX 12, SVM 0x78) */
	uint64_t pv_eoi;
	uint64_t lost;			/* events the buffer or a hist table dropped */
};

struct ktrace_result {
	enum ktrace_state state;
	bool hist;			/* counted by hist triggers, else from the buffer */
	unsigned int events;		/* 1 << enum ktrace_event, those counted */
	char why[256];			/* unavailable: the reason */
	struct ktrace_counts c;
};

struct ktrace {
	char dir[128];			/* the instance, "" when there is none */
	struct ktrace_result res;
};

/*
 * Sets up the instance for this process; call before it starts the vCPU
 * threads. 0 with kt->res.state OK, OFF or UNAVAILABLE (kt->res.why); -1
 * only for KTRACE_ON when unavailable (one line printed).
 */
int ktrace_start(struct ktrace *kt, enum ktrace_mode mode);
/* Stops counting, collects into *out and removes the instance. */
void ktrace_finish(struct ktrace *kt, struct ktrace_result *out);
/* Removes the instance without collecting (error paths); idempotent. */
void ktrace_remove(struct ktrace *kt);

/* "auto", "on", "off", "buffer" into *m; -1 for anything else. */
int ktrace_mode_parse(const char *s, enum ktrace_mode *m);
const char *ktrace_event_name(enum ktrace_event ev);
uint64_t ktrace_uexits(const struct ktrace_counts *c);	/* without interrupted */

/*
 * ktrace_parse.c. The trace file's text (any number of lines, the
 * "# entries-in-buffer/entries-written" header gives the events lost), and
 * one event's hist file (its "Dropped:" total counted lost). Both add to c;
 * they return the events counted, lines that are not ours are skipped.
 */
uint64_t ktrace_parse_trace(const char *text, struct ktrace_counts *c);
uint64_t ktrace_parse_hist(enum ktrace_event ev, const char *text, struct ktrace_counts *c);
/* The hist trigger's keys for ev, as ktrace_parse_hist() expects them. */
const char *ktrace_hist_keys(enum ktrace_event ev);

#endif
