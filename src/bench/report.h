/* SPDX-License-Identifier: MIT */
/*
 * One run's configuration and results: what the guest counted, what the VMM
 * saw exit to user space, what KVM's binary stats say, and the latency
 * statistics. The table and the JSON are both printed from this struct.
 */
#ifndef VTIMER_REPORT_H
#define VTIMER_REPORT_H

#include <stdio.h>

#include "kout.h"
#include "../kvm/ktrace.h"
#include "stats.h"
#include "../machine/machine.h"
#include "../timer/timer.h"
#include "vtimer/abi.h"

struct json_t;

struct run_config {
	struct timer_mode mode;
	struct timer_tuning tuning;	/* --timer-floor, --timer-share, --timer-advance */
	enum vtimer_workload workload;
	int vcpus;
	uint32_t count;			/* timer events per vCPU */
	uint64_t interval_ns;
	uint64_t tick_ns;
	uint64_t phase_ns;		/* --phase: cyclic's start against the tick grid,
					 * VTIMER_PHASE_NONE: where the task starts */
	enum vtimer_lapic_mode lapic;
	enum vtimer_wait wait;
	uint32_t attacks;		/* --attack: enum vtimer_attack bits, 0 = all */
	uint64_t mem_size;
	unsigned int timeout_s;		/* 0 = derived from count and interval */
	const char *guest;
	const char *console;
	const char *json;
	const char *kernel;		/* multiboot kernel instead of the vtimer guest */
	const char *append;
	int hk_cpu;			/* --housekeeping-cpu, -1 = unpinned */
	int pin;			/* --pin: 1 on, 0 off, -1 auto (housekeeping + a free CPU) */
	struct cpu_flags cpu;		/* --cpu */
	enum ktrace_mode ktrace;	/* --ktrace: the kvm tracepoint count */
	bool sched_fifo;		/* --sched=fifo: the run's threads are SCHED_FIFO 1 */
	bool watch_pv_eoi;		/* poll the PV EOI words from a host thread (probe) */
};

struct vcpu_report {
	struct vtimer_counters c;
	uint32_t state;			/* enum vtimer_result_state */
	struct lat_stats lat;		/* ns */
	/* cyclic: the interrupt that woke each task (irq - deadline) and the
	 * guest's path from it to the task (wake - irq), ns (results.c) */
	struct lat_stats irq, path;
	uint64_t exits[VM_EXIT_REASONS + 1];
	uint64_t exits_total;
	uint64_t *kvm_stats;		/* values, names in run_report */
	struct timer_stats host;	/* the VMM's timer engine for this vCPU */
	uint64_t due_margin_ns;		/* the guest's due margin (total: the largest) */
	double window_s;		/* the guest's measured window (tsc_start..tsc_end) */
	uint64_t guard_kicks;		/* machine.h, VM_WAKE_GUARD_NS */
	struct vtimer_anomaly anomaly;	/* the guest's first early/unexpected interrupt */
};

struct run_report {
	struct run_config cfg;
	uint64_t tsc_khz;
	int nr;
	struct vcpu_report *v;
	struct vcpu_report total;
	int nr_stats;
	char **stat_names;
	int status;			/* process exit status */
	char error[256];
	char *postmortem;		/* vm_postmortem() of a run that timed out, or NULL */
	double wall_s;
	uint64_t hk_cpu_ns;		/* housekeeping thread CPU time */
	uint64_t hk_scans;
	uint64_t hk_advance_ns;		/* housekeeping timer advance at the end */
	uint64_t hk_spin_ns;		/* ... and the time spent waiting advances out */
	uint64_t hk_vwake_ns;		/* pre-wake: a kicked vCPU's wake-up at the end */
	uint64_t hk_scan_ns, hk_scan_low_ns, hk_scan_floor_ns;	/* scan period: at the end,
					 * the lowest it went, its floor (hk.c) */
	uint64_t hk_pred_scans, hk_pred_found;	/* predicted scans; deadlines new there */
	bool scan_auto;			/* the scan period adapted (discover=scan, not fixed) */
	bool prewake;			/* pre-wake in force (on, and KVM tells halted vCPUs) */
	bool sched_fifo;		/* every vCPU thread started SCHED_FIFO (--sched=fifo) */
	/* cfg.watch_pv_eoi: the watcher ran, the PV EOI bit sets it saw, its
	 * rounds, and the vCPUs whose word it could read (eoiwatch.h) */
	bool pv_eoi_watched;
	uint64_t pv_eoi_sets, pv_eoi_polls, pv_eoi_words;
	bool engine;			/* the VMM's timer engine ran (deliver != kernel) */
	uint64_t look_ns;		/* look-ahead in force */
	int hk_cpu;			/* housekeeping CPU, -1 = unpinned */
	/* Workload rates over the guest's measured window (tsc_start..tsc_end of
	 * the vCPUs that did the work), 0 when the workload has none. */
	double transactions_per_s;	/* rr */
	double work_units_per_s;	/* throughput */
	struct ktrace_result ktrace;	/* the kvm tracepoints' count of the run */
	struct kout_result kout;	/* --kernel: its "latency:" and "SUMMARY:" lines */
	int64_t *samples_ns;		/* every vCPU's samples, ns, sorted (plots) */
	size_t nr_samples;
};

const char *workload_name(enum vtimer_workload w);
const char *lapic_mode_name(enum vtimer_lapic_mode m);
/* Summed KVM binary stat by name, 0 if this kernel lacks it. */
uint64_t stat_total(const struct run_report *r, const char *name);
void report_table(const struct run_report *r, FILE *f);
/*
 * {"version":..., "runs":[...]} for n reports, to f (0 or -1), or to path
 * through a temp file renamed over it (0 or -1, error printed).
 */
int report_json_write(const struct run_report *r, int n, FILE *f);
/* The same with extra (a reference taken, may be NULL) as root's key, after "runs". */
int report_json_write_extra(const struct run_report *r, int n, const char *key,
			    struct json_t *extra, FILE *f);
int report_json(const struct run_report *r, int n, const char *path);
void report_free(struct run_report *r);

#endif
