/* SPDX-License-Identifier: MIT */
/*
 * A simulated CPU and host for the guest's timer code built into a host
 * program (GUEST_HOSTED: guest/arch/x86/x86.h). One vCPU; a virtual TSC at
 * 1 GHz (1 cycle = 1 ns) that moves only when the guest reads it, spins,
 * exits or runs its task; and a host that serves the TSC-deadline MSR either
 * as KVM's in-kernel LAPIC timer does (no page) or as docs/pv-abi.md section
 * 5 says a VMM owning the deadline does (the MSR exit 5.1, the expiry 5.2,
 * the periodic scan 5.3). Interrupts are taken only where the guest would
 * take them: in its idle halt, and while its task runs (CPL3, IF = 1).
 *
 * What it is for: the exit-causing operations a workload costs, the due
 * rule, stale and early interrupts, the page's decisions, checked on every
 * machine, KVM or not. What it is not: a timing model. Exits cost a fixed
 * SIM_EXIT cycles and instructions SIM_INSN per TSC read.
 */
#ifndef TESTS_GUEST_SIM_H
#define TESTS_GUEST_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "vtimer/abi.h"
#include "vtimer/pv.h"

#define SIM_INSN	10	/* cycles per guest TSC read (the code between) */
#define SIM_RELAX	100	/* ... per cpu_relax() */
#define SIM_EXIT	2000	/* ... per exit the host handles (MSR, idle look) */

struct sim_host {
	/* what the VMM offers; 0 = no PV page: KVM's own LAPIC timer */
	uint32_t features;
	bool kvm_pv_eoi;	/* KVM offers PV EOI (CPUID 0x40000001 bit 6) */
	bool exit_before_handler;	/* PV EOI: an exit between injection and the
					 * handler (a PVM host emulating the way
					 * there): KVM clears the bit first */
	uint64_t scan_period;	/* HORIZON: cycles between scans */
	uint64_t margin;	/* HORIZON: published margin */
	/* state */
	struct vtimer_pv_page *page;
	uint64_t lapic_deadline;	/* no page: KVM's LAPIC timer (TSC-deadline or
				 * one-shot), when it fires; 0 = off */
	uint32_t lvtt;		/* the LVT Timer register as last written */
	uint64_t timer;		/* page: the host timer, 0 = off */
	uint64_t seen;		/* page: the last pending acted on */
	uint64_t next_scan;	/* page with HORIZON: 0 = no scan yet */
	bool irr;		/* the timer vector is pending */
	uint64_t pv_eoi_msr;	/* MSR_KVM_PV_EOI_EN as written */
	bool pv_eoi_set;	/* KVM set the word's bit at the last injection */
	/* counts */
	uint64_t msr_exits, injected, idle_looks, kvm_eois;
	uint64_t early_fires;	/* the LAPIC's own timer fired before `programmed` */
};

extern uint64_t sim_now;
extern struct sim_host sim;

/* Before sim_reset*: what the next reset offers beyond `features`. */
void sim_offer_pv_eoi(bool on, bool exit_before_handler);
/* Fresh CPU, host and boot record: LAPIC timer mode (abi.h), its bus clock. */
void sim_reset_lapic(uint32_t features, uint64_t tick_ns, uint32_t lapic_mode, uint64_t bus_hz);
/* ... in TSC-deadline mode */
void sim_reset(uint32_t features, uint64_t tick_ns);
/* The task runs (CPL3, interrupts on) for `cycles`. */
void sim_run_task(uint64_t cycles);
/* The kernel runs (interrupts off) for `cycles`: a slow path, as on a PVM
 * host, where the guest's CPL0 code is emulated. */
void sim_run_kernel(uint64_t cycles);
/* The task's sleep to an absolute deadline (kernel/syscall.c, SYS_SLEEP_UNTIL). */
void sim_sleep_until(uint64_t deadline);
/* The guest's counters. */
struct vtimer_counters *sim_counters(void);

#endif
