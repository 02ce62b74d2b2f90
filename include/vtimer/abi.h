/* SPDX-License-Identifier: MIT */
/*
 * The ABI shared by the vtimer host (src/) and the vtimer guest kernel (guest/).
 *
 * Everything here is a contract between two separately built programs: the
 * host writes the boot record, the guest writes the result records and the
 * ucall records, and each side validates what the other wrote. Bump
 * VTIMER_ABI_VERSION on any layout change.
 */
#ifndef VTIMER_ABI_H
#define VTIMER_ABI_H

#include <stdint.h>

#define VTIMER_ABI_VERSION	12

/* Fixed guest-physical layout of the vtimer guest (own image, not multiboot). */
#define VTIMER_GPA_PML4		0x1000ULL
#define VTIMER_GPA_PDPT		0x2000ULL
#define VTIMER_GPA_PD		0x3000ULL	/* one PD: 1 GiB of 2 MiB pages */
#define VTIMER_GPA_GDT		0x4000ULL	/* the VMM's boot GDT */
#define VTIMER_GPA_BOOT		0x5000ULL	/* struct vtimer_boot */
#define VTIMER_GPA_UCALL	0x6000ULL	/* struct vtimer_ucall[VTIMER_MAX_VCPUS] */
#define VTIMER_GPA_KERNEL	0x100000ULL	/* guest image load address */
#define VTIMER_MAX_MEM		(1ULL << 30)	/* the boot page tables map 1 GiB */
#define VTIMER_MAX_VCPUS	64

/* I/O ports the guest uses. */
#define VTIMER_PORT_SERIAL	0x3f8
#define VTIMER_PORT_UCALL	0x00e0	/* outl: index of the calling vCPU's ucall slot */

#define VTIMER_BOOT_MAGIC	0x766d69744254ULL	/* "TBtimv" */

/* Workloads (guest/workloads/). */
enum vtimer_workload {
	VTIMER_WL_CYCLIC = 1,	/* cyclictest: sleep to absolute deadlines */
	VTIMER_WL_LATENCY,	/* tscdeadline_latency: handler re-arms now + delta */
	VTIMER_WL_MASKED,	/* arm a timer with LVTT masked: nothing may arrive */
	VTIMER_WL_SWITCH,	/* cyclic through PV off/on and LVTT mode switches, then masked */
	VTIMER_WL_ABI,		/* the PV enable MSR's #GP rules, then a short cyclic run */
	VTIMER_WL_HOSTILE,	/* adversarial writes to every guest input, then cyclic */
	VTIMER_WL_CRASH,	/* the BSP triple-faults (the host must exit 71) */
	VTIMER_WL_RR,		/* netperf TCP_RR: request/response between vCPU pairs */
	VTIMER_WL_TICK,		/* the nohz tick, busy then idle, every period */
	VTIMER_WL_THROUGHPUT,	/* CPL3 work under a timer load (redis-like) */
};

/* rr: a retransmit timer this far after each send, as TCP's minimum RTO. */
#define VTIMER_RR_RTO_NS	200000000ULL

/*
 * The hostile workload's attacks (guest/kernel/hostile.c), one bit each in
 * the boot record's `attacks`.
 */
enum vtimer_attack {
	VTIMER_ATTACK_DEADLINE = 1 << 0,	/* TSC-deadline MSR: 0, past, now, ~0, 2^63+-1 */
	VTIMER_ATTACK_PAGE = 1 << 1,		/* every PV page field, torn; `pending` = ~0 */
	VTIMER_ATTACK_ENABLE = 1 << 2,		/* PV enable MSR: bad GPAs, storm, others' pages */
	VTIMER_ATTACK_LVTT = 1 << 3,		/* LVTT mode/mask/vector flips, TMICT storm */
	VTIMER_ATTACK_RECORDS = 1 << 4,		/* boot record, result record, ucall slot */
	VTIMER_ATTACK_TSC = 1 << 5,		/* IA32_TSC near 2^64, 0, 2^63; IA32_TSC_ADJUST */
	VTIMER_ATTACK_ALL = (1 << 6) - 1,
};

/* How the guest clockevent drives the LAPIC timer (LVTT mode). */
enum vtimer_lapic_mode {
	VTIMER_LAPIC_DEADLINE = 0,	/* TSC-deadline MSR */
	VTIMER_LAPIC_ONESHOT,		/* initial-count register, one-shot */
	VTIMER_LAPIC_PERIODIC,		/* periodic tick; deadlines rounded up to ticks */
};

/* How the guest waits for a timer in the latency workload. */
enum vtimer_wait {
	VTIMER_WAIT_HLT = 0,
	VTIMER_WAIT_BUSY,
};

/*
 * Boot record, written by the host before the first KVM_RUN, read by every
 * guest vCPU. The result and sample areas are laid out by the host so that it
 * never has to follow a guest-provided pointer.
 */
struct vtimer_boot {
	uint64_t magic;
	uint32_t version;
	uint32_t nr_cpus;
	uint64_t mem_size;
	uint64_t tsc_khz;
	uint64_t apic_bus_hz;		/* LAPIC timer input clock, before TDCR */
	uint32_t workload;		/* enum vtimer_workload */
	uint32_t lapic_mode;		/* enum vtimer_lapic_mode */
	uint32_t wait;			/* enum vtimer_wait */
	uint32_t count;			/* timer events per vCPU */
	uint64_t interval_ns;		/* cyclic period / latency delta */
	uint64_t tick_ns;		/* nohz tick period, 0 = no tick */
	uint64_t results_gpa;		/* struct vtimer_result[nr_cpus] */
	uint64_t samples_gpa;		/* int64_t[nr_cpus][samples_per_cpu] */
	uint64_t samples_per_cpu;
	uint64_t pv_window_ns;		/* a deadline this far ahead never needs an
					 * exit: scan period + margin + the
					 * host clock pair's error (0 = no scan) */
	uint32_t attacks;		/* hostile workload: enum vtimer_attack bits */
	uint32_t user_msrs;		/* enum vtimer_user_msr: which wrmsr the VMM
					 * handles in user space (op_user) */
	uint64_t phase_ns;		/* cyclic: first deadline this far past a
					 * tick grid point (VTIMER_PHASE_NONE: an
					 * interval after the task starts) */
};

#define VTIMER_PHASE_NONE	(~0ULL)

/*
 * cyclic: each CPU's sample row is 2 * count long. Entry k < count is wake -
 * deadline of period k; entry count + k is the lateness of the last timer
 * interrupt before that wake (live.last_irq - deadline), or
 * VTIMER_NO_IRQ_SAMPLE where none came at or after the deadline (the sleep
 * found it passed, or the kernel ran it while programming).
 */
#define VTIMER_NO_IRQ_SAMPLE	INT64_MIN

/*
 * What phase_ns means (guest/workloads/workloads.c; tests/unit/test_phase.c),
 * in TSC cycles: the first cyclic deadline is the earliest time at least
 * now + interval that lies `phase` past a multiple of `grid` (the nohz tick
 * period, or the interval without a tick); with no phase, now + interval.
 */
static inline uint64_t vtimer_phase_first(uint64_t now, uint64_t interval, uint64_t grid,
					  uint64_t phase, int has_phase)
{
	uint64_t next = now + interval, t;

	if (!has_phase || !grid)
		return next;
	t = next - next % grid + phase % grid;
	return t < next ? t + grid : t;
}

enum vtimer_user_msr {
	VTIMER_USER_DEADLINE = 1 << 0,	/* IA32_TSC_DEADLINE (the engine's MSR filter) */
	VTIMER_USER_PV = 1 << 1,	/* the PV enable MSR (unknown to KVM) */
};

/*
 * Guest-side counters; host reads them after the run (or on timeout). One
 * line per counter: X(field, JSON name). The struct, the host's totals and
 * its JSON are all generated from this list, so a new counter is one line
 * here (plus the ABI version bump). All are uint64_t.
 */
#define VTIMER_COUNTERS(X) \
	X(deadlines, "deadlines")	/* deadlines programmed into the clockevent */ \
	X(msr_writes, "msr_writes")	/* TSC-deadline MSR writes issued */ \
	X(other_msr_writes, "other_msr_writes") /* EOI, ICR, LVTT, TMICT, ... */ \
	X(pv_writes, "pv_writes")	/* deadlines handed over without an exit */ \
	X(interrupts, "interrupts")	/* LAPIC timer interrupts received */ \
	X(early, "early")		/* interrupts before the programmed deadline */ \
	/* stale: interrupts of a deadline that had already passed when it was \
	 * reprogrammed: legitimate, not early (the IRR held them while IF=0) */ \
	X(stale, "stale") \
	X(lost, "lost")			/* expected events never delivered */ \
	X(events, "events")		/* workload timer events completed */ \
	X(spurious, "other_interrupts")	/* other (unexpected) interrupts */ \
	X(expired_sleeps, "expired_sleeps") /* sleeps whose deadline had already passed */ \
	/* unexpected: timer interrupts with nothing programmed and none owed \
	 * (a second one for one deadline) */ \
	X(unexpected, "unexpected") \
	/* due_at_program: deadlines due (or nearer than due_margin) when they \
	 * were to be programmed: the guest ran the expiry itself, nothing written */ \
	X(due_at_program, "due_at_program") \
	/* far_exits: PV, TSC-deadline writes for deadlines more than \
	 * pv_window_ns ahead (a protocol bug) */ \
	X(far_exits, "far_exits") \
	/* pv_exit_passed, pv_exit_near: PV, TSC-deadline writes for a deadline \
	 * that fell due while it was being programmed, and for one before the \
	 * horizon + margin (the rest: no horizon published, or LAZY only); \
	 * both count the decisions to write, made at once, as an idle look, or \
	 * replaced by a new program before the look */ \
	X(pv_exit_passed, "pv_exit_passed") \
	X(pv_exit_near, "pv_exit_near") \
	/* pv_idle_looks: PV, deadline writes owed on the way to idle and made \
	 * with the hlt as one idle look (pv-abi.md 4.1): no TSC-deadline \
	 * write, one wrmsr of the idle MSR instead of a wrmsr and a hlt */ \
	X(pv_idle_looks, "pv_idle_looks") \
	X(hostile_writes, "hostile_writes") /* hostile workload: adversarial writes tried */ \
	X(hostile_gp, "hostile_gp")	/* ... and the #GPs they took */ \
	X(hostile_irqs, "hostile_irqs")	/* ... and the timer interrupts meanwhile */ \
	X(transactions, "transactions")	/* rr: request/response round trips completed */ \
	X(retransmits, "retransmits")	/* rr: retransmit timers that expired */ \
	X(ipis, "ipis")			/* wake-up IPIs received */ \
	X(work_units, "work_units")	/* throughput: CPL3 work units completed */ \
	/* Exit-causing operations (they exit on VMX/SVM without APICv), counted \
	 * inside the measured window only (boot, ucalls, console excluded). */ \
	X(op_wrmsr_deadline, "op_wrmsr_deadline") /* wrmsr IA32_TSC_DEADLINE */ \
	X(op_wrmsr_eoi, "op_wrmsr_eoi")	/* wrmsr x2APIC EOI (0x80b) */ \
	X(op_wrmsr_icr, "op_wrmsr_icr")	/* wrmsr x2APIC ICR (0x830): IPIs */ \
	X(op_wrmsr_other, "op_wrmsr_other") /* any other wrmsr (LVTT, TMICT, PV MSRs) */ \
	X(op_hlt, "op_hlt")		/* hlt */ \
	X(op_pio, "op_pio")		/* in/out */ \
	X(op_user, "op_user")		/* of the above, those the VMM handles in user space */ \
	X(pv_eoi, "pv_eoi")		/* EOIs done by KVM PV EOI (no EOI write), in the window */ \
	X(pv_eoi_cpus, "pv_eoi_cpus")	/* vCPUs that enabled KVM PV EOI (offered by CPUID) */ \
	/* halt_shadow_breaks: interrupts taken between sti and hlt, in sti's \
	 * shadow (the host broke it); the hlt was skipped, not counted in op_hlt */ \
	X(halt_shadow_breaks, "halt_shadow_breaks")

struct vtimer_counters {
#define VTIMER_COUNTER_FIELD(f, name) uint64_t f;
	VTIMER_COUNTERS(VTIMER_COUNTER_FIELD)
#undef VTIMER_COUNTER_FIELD
};

enum vtimer_result_state {
	VTIMER_RES_NONE = 0,
	VTIMER_RES_RUNNING,
	VTIMER_RES_DONE,
	VTIMER_RES_FAILED,
};

/*
 * The guest's timer as it went idle last (noted before each idle hlt, no
 * exit), and the TSC of its last timer interrupt, so that the host's
 * post-mortem of a hung run can say what a halted vCPU waits for: a queued
 * timer with nothing programmed is the guest's bug; one programmed, overdue
 * and not in the LAPIC's IRR was lost on the way.
 */
struct vtimer_live {
	uint64_t programmed;		/* deadline in the clockevent (TSC), 0 = none */
	uint64_t head;			/* earliest queued timer (TSC), 0 = none */
	uint64_t last_irq;		/* TSC read in the last timer interrupt */
	uint64_t stale_owed;		/* stale interrupts still owed */
};

/*
 * The first early or unexpected timer interrupt of a vCPU, as the guest saw
 * it, so that a test that fails on one can say what led to it (guest TSC
 * values; 0 = none). Off the hot path: written once.
 */
enum vtimer_anomaly_kind {
	VTIMER_ANOMALY_NONE = 0,
	VTIMER_ANOMALY_EARLY,		/* programmed, still in the future, none owed */
	VTIMER_ANOMALY_UNEXPECTED,	/* nothing programmed, none owed */
};

struct vtimer_anomaly {
	uint64_t kind;			/* enum vtimer_anomaly_kind */
	uint64_t tsc;			/* TSC read in that interrupt */
	uint64_t programmed;		/* the clockevent's deadline then */
	uint64_t prev_programmed;	/* the last deadline a program replaced, */
	uint64_t program_tsc;		/* and the TSC read right after that program */
	uint64_t prev_irq;		/* TSC of the timer interrupt before */
	uint64_t stale_owed;		/* stale interrupts owed then */
	uint64_t interrupts;		/* timer interrupts before this one */
};

struct vtimer_result {
	uint32_t version;
	uint32_t state;			/* enum vtimer_result_state */
	uint32_t cpu;
	uint32_t apic_id;
	struct vtimer_counters c;
	uint64_t nr_samples;		/* valid entries in this vCPU's sample row */
	uint64_t tsc_start, tsc_end;
	uint64_t due_margin;		/* TSC cycles: deadlines nearer than this are
					 * waited out, not programmed (measured: the
					 * cheapest exit to the VMM at boot) */
	uint64_t pv_eoi_gpa;		/* this CPU's KVM PV EOI word, 0 = PV EOI off
					 * (read by `vtimer probe`'s watcher) */
	struct vtimer_live live;
	struct vtimer_anomaly anomaly;
};

/* Ucall: the guest fills its slot, then does outl(VTIMER_PORT_UCALL, slot). */
enum vtimer_ucall_cmd {
	VTIMER_UCALL_NONE = 0,
	VTIMER_UCALL_DONE,		/* arg0: exit status (whole guest, BSP only) */
	VTIMER_UCALL_ABORT,		/* arg0: line, msg: reason */
	VTIMER_UCALL_SYNC,		/* arg0: stage (informational) */
};

#define VTIMER_UCALL_MSG	96

struct vtimer_ucall {
	uint32_t version;
	uint32_t cmd;			/* enum vtimer_ucall_cmd */
	uint64_t arg[3];
	char msg[VTIMER_UCALL_MSG];	/* NUL-terminated by the host on read */
};

#endif /* VTIMER_ABI_H */
