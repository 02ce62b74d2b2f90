/* SPDX-License-Identifier: MIT */
#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtimer/abi.h"
#include "vtimer/pv.h"
#include "../arch/x86/x86.h"

/* A software timer on one CPU's queue; fn runs in interrupt context. */
struct ktimer {
	uint64_t deadline;		/* guest TSC */
	uint64_t slack;			/* how late it may fire (TSC cycles); 0 = on time */
	void (*fn)(struct ktimer *t, uint64_t now);
	struct ktimer *next;
	bool queued;
};

/*
 * Stale interrupts owed are capped: the timer vector has one IRR bit, so at
 * most one interrupt for replaced deadlines waits there and one more can be
 * on its way (a host timer that fired while the replacing write exited).
 * Credits beyond that are for interrupts that never came; held, they would
 * let as many early interrupts pass as stale. tests/models/lazy.pml checks
 * the cap (-DCREDIT_CAP: 2 loses nothing, 1 does).
 */
#define STALE_MAX	2

struct tss {
	uint32_t rsv0;
	uint64_t rsp[3];
	uint64_t rsv1;
	uint64_t ist[7];
	uint64_t rsv2;
	uint16_t rsv3, iomap;
} __attribute__((packed));

/*
 * Per-CPU state, reached through %gs:0 (self pointer). Owned by its CPU:
 * only that CPU's code (task, syscalls, interrupt handlers) touches it, with
 * interrupts off in the kernel, so no locks are needed.
 */
struct cpu {
	struct cpu *self;
	uint32_t id, apic_id;
	struct vtimer_result *res;	/* host-visible counters */
	int64_t *samples;		/* host-visible sample row */
	struct ktimer *queue;		/* sorted by deadline */
	uint64_t programmed;		/* deadline in the clockevent, 0 = none */
	uint64_t prev_programmed;	/* the last deadline a program replaced, */
	uint64_t program_tsc;		/* and the TSC right after (anomaly) */
	uint32_t stale;			/* passed deadlines replaced, interrupts owed (abi.h),
					 * at most STALE_MAX */
	struct ktimer tick;		/* nohz tick */
	bool tick_on;
	bool in_expire;			/* defer reprogramming to the end of expiry */
	bool force_program;		/* timer_reprogram(): program even if unchanged */
	struct ktimer sleep;		/* the task's sleep timer */
	volatile bool woken;
	struct ktimer lat;		/* latency workload timer */
	uint64_t lat_delta, lat_count;
	volatile bool lat_done;
	struct ktimer probe;		/* masked-LVTT test timer */
	struct vtimer_ucall *ucall;
	uint32_t lapic_mode;		/* enum vtimer_lapic_mode in force */
	uint32_t lvtt;			/* last LVTT written (mirrored to the PV page) */
	struct vtimer_pv_page *pv;	/* enabled PV page, or NULL */
	uint32_t pv_features;
	uint64_t pv_prev;		/* last nonzero deadline stored in pending */
	uint64_t pv_horizon;		/* the horizon pv_program's last exit decision read */
	bool idle_entry;		/* on the way to idle: an owed write may wait for it */
	bool pv_owed;			/* a TSC-deadline write owed, for the idle look */
	uint64_t due_margin;		/* TSC cycles: nearer deadlines are waited out */
	bool measuring;			/* inside the measured window: count op_* */
	bool pv_eoi_on;			/* KVM PV EOI enabled on pv_eoi_word */
	uint32_t pv_eoi_word;		/* KVM sets bit 0 at injection (pv/pv_eoi.c) */
	struct ktimer rto;		/* rr: the retransmit timer */
	uint32_t rr_peer;		/* rr: the other CPU of the pair */
	uint64_t gdt[7];
	struct tss tss;
	uint8_t kstack[8192] __attribute__((aligned(16)));
	uint8_t ustack[8192] __attribute__((aligned(16)));
} __attribute__((aligned(64)));

#ifdef GUEST_HOSTED
extern struct cpu *hosted_cpu;	/* tests/guest/: the simulated CPU */

static inline struct cpu *this_cpu(void)
{
	return hosted_cpu;
}
#else
static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__("mov %%gs:0, %0" : "=r"(c));
	return c;
}
#endif

extern const struct vtimer_boot *boot;
extern uint64_t tick_cycles;	/* nohz tick period in TSC cycles, 0 = no tick */

uint32_t pv_msr_index(void);		/* the enable MSR (vtimer's own if not offered) */

/*
 * Exit-causing operations (abi.h op_*): what exits on VMX/SVM without APICv,
 * counted inside the measured window (c->measuring: the task's run, from
 * tsc_start to tsc_end), so boot, ucalls and the console are left out. Every
 * wrmsr and hlt of the kernel goes through these two.
 */
static inline void kwrmsr(uint32_t msr, uint64_t v)
{
	struct cpu *c = this_cpu();

	if (c->measuring) {
		struct vtimer_counters *k = &c->res->c;

		if (msr == MSR_TSC_DEADLINE) {
			k->op_wrmsr_deadline++;
			k->op_user += !!(boot->user_msrs & VTIMER_USER_DEADLINE);
		} else if (msr == MSR_X2APIC_EOI) {
			k->op_wrmsr_eoi++;
		} else if (msr == MSR_X2APIC_ICR) {
			k->op_wrmsr_icr++;
		} else {
			k->op_wrmsr_other++;
			k->op_user += msr == pv_msr_index() && (boot->user_msrs & VTIMER_USER_PV);
		}
	}
	wrmsr(msr, v);
}

/*
 * The timer state the host's post-mortem of a hung run reads (abi.h,
 * vtimer_live), noted as the CPU goes idle: off the wake-up path, and a
 * CPU found halted has not changed it since (an interrupt in between
 * re-enters the idle loop, which notes it again).
 */
static inline void live_note(struct cpu *c)
{
	struct vtimer_live *l = &c->res->live;

	l->programmed = c->programmed;
	l->head = c->queue ? c->queue->deadline : 0;
	l->stale_owed = c->stale;
}

void pv_idle_look(struct cpu *c);

/* The idle loop's halt: with a deadline write owed, the idle look instead. */
static inline void khalt(void)
{
	struct cpu *c = this_cpu();

	live_note(c);
	if (c->pv_owed) {
		pv_idle_look(c);
		return;
	}
	if (c->measuring)
		c->res->c.op_hlt++;
	safe_halt();
}

/* lib.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ucall(uint32_t cmd, uint64_t a0, const char *msg);
void panic(const char *msg) __attribute__((noreturn));

/* arch/x86/cpu.c */
void cpu_init(struct cpu *c);
void enter_user(void (*fn)(uint64_t), uint64_t arg, void *stack) __attribute__((noreturn));

int wrmsr_safe(uint32_t msr, uint64_t val);	/* 1 if it raised #GP */

/* kernel/clockevent.c: the LAPIC timer in the mode the host chose. */
void clockevent_init(void);
void clockevent_calibrate(void);	/* measures the due margin */
/* 0 = stop. With may_refuse, false if it refused a deadline due within the
 * due margin (kernel/timer.c, run_due): the caller runs it instead. */
bool clockevent_program(uint64_t deadline, uint64_t slack, bool may_refuse);
void clockevent_mask(bool masked);
void clockevent_flush(void);

void clockevent_set_mode(uint32_t mode);

/* pv/pv.c */
struct vtimer_pv_page;
void pv_discover(void);
bool pv_enable(void);
void pv_disable(void);
/*
 * What the page decided for a deadline. PV_MSR: write the MSR now. PV_OWED:
 * the MSR is needed, but on the way to idle the write may go with the hlt
 * (the idle look, pv/pv.c). PV_PAGE: the page alone. PV_REFUSED: due (kernel/
 * timer.c, run_due: the caller runs it).
 */
enum pv_decision { PV_MSR, PV_OWED, PV_PAGE, PV_REFUSED };
enum pv_decision pv_program(struct cpu *c, uint64_t deadline, uint64_t slack, bool may_refuse);
long pv_abi_check(void);
bool pv_offered(void);
uint64_t pv_page_gpa(uint32_t cpu);	/* a CPU's PV page */

/* pv/pv_eoi.c: KVM's PV EOI, enabled per CPU at boot. */
void pv_eoi_enable(void);

/*
 * Acknowledges the interrupt in service: the first thing every handler does
 * (pv/pv_eoi.c says why). Inline, on the caller's struct cpu: this path is
 * emulated instruction by instruction on a PVM host.
 */
static inline void apic_eoi(struct cpu *c)
{
	bool pending = false;

	if (c->pv_eoi_on)
		__asm__ volatile("btrl $0, %0" : "+m"(c->pv_eoi_word), "=@ccc"(pending));
	if (!pending)
		kwrmsr(MSR_X2APIC_EOI, 0);
	else if (c->measuring)
		c->res->c.pv_eoi++;
}

/* kernel/rr.c */
long rr_send(uint64_t seq, bool arm);
long rr_recv(uint64_t seq);
void ipi_interrupt(void);

/* kernel/hostile.c */
long hostile(long on);

/* kernel/timer.c */
void timer_add(struct ktimer *t, uint64_t deadline);
void timer_del(struct ktimer *t);
void timer_expire(uint64_t now);
void timer_reprogram(void);
void tick_start(void);
void tick_stop(void);
void idle_begin(void);
void idle_end(void);
void idle_wait(volatile bool *cond);

/* kernel/syscall.c: the user-facing calls (int $4). */
enum {
	SYS_EXIT = 1,		/* a0: status */
	SYS_SLEEP_UNTIL,	/* a0: absolute guest TSC */
	SYS_LATENCY,		/* a0: count, a1: delta (TSC), a2: enum vtimer_wait */
	SYS_MASK_TEST,		/* a0: delta (TSC): mask, arm, return deadline; 0: unmask */
	SYS_PV,			/* a0: 1 enable, 0 disable the PV page; returns 1 if on */
	SYS_LAPIC_MODE,		/* a0: enum vtimer_lapic_mode */
	SYS_PV_ABI,		/* check the enable MSR's #GP rules; returns failures */
	SYS_HOSTILE,		/* a0 = 1: adversarial writes, returns #GPs; 0: judge again */
	SYS_CRASH,		/* triple fault */
	SYS_RR_SEND,		/* a0: sequence number, a1: arm the retransmit timer */
	SYS_RR_RECV,		/* a0: sequence number to wait for from the peer */
};
long sys_call(long nr, long a0, long a1, long a2);
void cpu_finish(int status) __attribute__((noreturn));

/* workloads/ */
void workload_main(uint64_t cpu);

#endif
