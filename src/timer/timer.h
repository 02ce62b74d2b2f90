/* SPDX-License-Identifier: MIT */
/*
 * The host side of the timer engine for modes whose host timer lives in the
 * VMM (deliver = vcpu or housekeeping). KVM's in-kernel LAPIC keeps LVTT,
 * one-shot and periodic mode; the VMM takes over only the TSC-deadline MSR
 * (through an MSR filter) and, with the PV page, the deadlines the guest
 * hands over without an exit. Guest writes of IA32_TSC and IA32_TSC_ADJUST
 * are filtered too: they move the guest TSC, so the VMM applies them itself
 * and re-reads the offset its conversions use.
 *
 * Locking: each vcpu_timer's lock protects all its fields and its PV page
 * accesses on the host side; the housekeeping lock (hk.c) protects the timer
 * heap. Order: vcpu_timer.lock, then the housekeeping lock.
 */
#ifndef VTIMER_TIMER_H
#define VTIMER_TIMER_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <linux/kvm.h>

#include "engine.h"
#include "tsc.h"
#include "vtimer/pv.h"

struct vm;
struct vcpu;
struct timer_engine;
struct hk;

struct timer_stats {
	uint64_t msr_exits;		/* TSC-deadline MSR writes that reached the VMM */
	uint64_t pv_msr_writes;		/* writes of MSR_VTIMER_PV */
	uint64_t pv_gp;			/* ... refused with #GP */
	uint64_t injections;		/* interrupts injected (KVM_SIGNAL_MSI) */
	uint64_t fired;			/* host timer expiries (vt_expire) */
	uint64_t floored;		/* deadlines pushed to last expiry + floor */
	uint64_t throttled;		/* deadlines pushed by the storm share */
	uint64_t expire_ns;		/* host time its expiries took (vt_charge) */
	uint64_t inject_errors;		/* KVM_SIGNAL_MSI calls that failed: interrupts lost */
	uint64_t rearms;		/* expiries re-armed at `pending` without exit or interrupt */
	uint64_t dropped;		/* expiries with nothing pending, or LVTT masked/not deadline */
	uint64_t discovered;		/* deadlines the scanner/spinner found in the page */
	uint64_t kicks;			/* deliver=vcpu: signals that kicked the vCPU out */
	uint64_t looks;			/* look-ahead reads of the page after an injection */
	uint64_t look_saves;		/* ... that found a deadline nearer than the horizon
					 * + margin: an MSR exit saved, unless it had slack */
	uint64_t look_windows, look_windows_on;	/* auto look: decisions, and the
					 * windows the look was on (LOOK_DECIDE) */
	uint64_t prewakes;		/* halted vCPUs kicked awake ahead of an injection */
	uint64_t prewake_injections;	/* ... whose injection their own thread made */
	uint64_t prewake_wait_ns;	/* time kicked vCPU threads waited for their deadline */
	uint64_t predicted;		/* injections after which a scan was predicted (hk.c) */
	uint64_t idle_looks;		/* idle looks: deadline writes of `pending` + hlt */
	uint64_t idle_halt_errors;	/* ... whose KVM_SET_MP_STATE failed (no halt) */
	uint64_t near_exits;		/* TSC-deadline exits with the page on for a deadline
					 * before the published horizon + margin (hk.c, auto
					 * scan period: what a shorter period saves) */
	uint64_t bad_lvtt;		/* mirrored LVTT with an invalid vector */
	uint64_t tsc_writes;		/* guest writes of IA32_TSC / IA32_TSC_ADJUST applied */
	uint64_t tsc_moves;		/* offset changes KVM made by itself (vt_offset_refresh) */
};

struct vcpu_timer {
	pthread_mutex_t lock;
	struct timer_engine *eng;
	struct vcpu *vcpu;
	struct tsc_conv tsc;
	uint32_t lvtt;			/* from KVM_GET_LAPIC at each deadline exit */
	bool lvtt_known;
	bool lvtt_stale;		/* no page: re-read LVTT at the next write (vtimer.c) */
	uint64_t deadline;		/* guest TSC the host timer is armed at, 0 = off */
	uint64_t host_deadline;		/* the same in host TSC */
	uint64_t pv_msr;		/* last accepted MSR_VTIMER_PV value */
	struct vtimer_pv_page *page;	/* host view of the enabled page, or NULL */
	uint64_t seen;			/* last `pending` acted on */
	int heap_idx;			/* position in the housekeeping heap, -1 if none */
	uint64_t last_fire;		/* host TSC of the last host timer expiry */
	bool hk_sample;			/* hk_key was ahead when set: its wake-up tunes the advance */
	uint64_t hk_key;		/* host_deadline - advance, as the heap holds it: written
					 * under hk->lock (and vt->lock), so the
					 * housekeeping thread reads it without vt->lock */
	bool look;			/* the host timer is a look at the page, not a deadline */
	uint64_t look_until;		/* guest TSC: stop looking after an injection */
	bool look_on;			/* auto look: looking this window */
	uint32_t look_inj;		/* ... injections into this window */
	uint64_t look_saves0, look_exits0;	/* ... look_saves, near exits + idle looks at its start */
	/* pre-wake (hk.c): the host TSC deadline handed over to the kicked vCPU
	 * thread, 0 = none; when the kick was sent */
	_Atomic uint64_t prewake, kick_t;
	uint64_t prewake_cost;		/* host cycles the kick took, charged with the injection */
	int blocking_idx;		/* KVM's `blocking` vCPU stat, -1 = none */
	timer_t ptimer;			/* deliver=vcpu: POSIX timer signalling the vCPU thread */
	bool ptimer_ok;
	uint64_t pred_last;		/* guest TSC of the last deadline injected: predicted scans */
	uint64_t pred_per;		/* ... the guest's period as learned, guest TSC cycles */
	uint64_t pred_cand;		/* ... a new period seen once, to be confirmed */
	uint64_t pred_dl;		/* ... guest TSC of the deadline pred_scan is for */
	unsigned int pred_left;		/* ... periods still to predict without an injection */
	_Atomic uint64_t pred_scan;	/* ... monotonic ns of the next predicted scan, 0 = none
					 * (written under vt->lock; hk.c reads it without) */
	int64_t budget;			/* storm share: host TSC cycles of expiry time left */
	uint64_t budget_t;		/* ... as of this host TSC */
	struct timer_stats st;
};

/*
 * Where a vCPU's TSC offset comes from: KVM (engine_host.c), or a fake in
 * the unit tests. Both calls run on the vCPU's own thread, in an MSR exit.
 */
struct tsc_source {
	/* guest TSC = host TSC + *off; -errno if it cannot be read. */
	int (*offset)(struct vcpu *vcpu, int64_t *off);
	/* Applies a guest WRMSR of IA32_TSC or IA32_TSC_ADJUST as KVM does; -errno. */
	int (*guest_write)(struct vcpu *vcpu, uint32_t msr, uint64_t val);
	/* Optional: true while nothing but guest writes can move an offset, so
	 * vt_exited() need not read it again after every exit. */
	bool (*offset_fixed)(void);
};

struct timer_engine {
	struct timer_mode mode;
	struct vm *vm;
	uint32_t features;		/* VTIMER_F_* offered to the guest */
	uint64_t host_khz;
	struct vcpu_timer *vt;		/* [nr_vcpus] */
	struct hk *hk;			/* housekeeping thread, or NULL */
	int hk_cpu;			/* -1 = not pinned */
	uint64_t look_ns;		/* look-ahead in force: needs hk_cpu (engine_host.c) */
	const struct tsc_source *tsc_src;	/* NULL: IA32_TSC writes get #GP */
	uint64_t floor_cycles;		/* storm floor in host TSC cycles, 0 = none */
	uint32_t share_ppm;		/* storm share of one host CPU per vCPU, 0 = none */
	uint64_t share_burst;		/* host TSC cycles: the bucket's size, and the most
					 * one expiry is charged */
	int64_t advance_ns;		/* housekeeping timer advance: -1 = self-tuned */
	bool prewake;			/* kick halted vCPUs awake ahead of injections (hk.c) */
	bool scan_auto;			/* discover=scan: the period adapts (hk.c, auto scan period) */
	bool look_auto;			/* look-ahead only while it pays (vtimer.c, LOOK_DECIDE) */
	bool predict;			/* discover=scan: predicted scans (hk.c) */
	/* Injection; NULL = KVM_SIGNAL_MSI on the VM (the engine bench stubs it). */
	int (*signal_msi)(struct vcpu_timer *vt, struct kvm_msi *msi);
};

/*
 * The storm floor (--timer-floor): one vCPU's host timer expires at most
 * once per floor. A deadline sooner than the last expiry + floor is armed
 * there instead (late, never early), so a guest that arms deadlines as fast
 * as it can costs the housekeeping thread at most one expiry per floor.
 */
#define TIMER_FLOOR_DEFAULT_NS	20000

/*
 * The storm share (--timer-share): the host time one vCPU's host timer
 * expiries may take, as a share of one host CPU. Each expiry is charged the
 * time its delivery spent on it (vt_charge: from the housekeeping thread's
 * pop, or the vCPU thread's kick, to the end of the injection, without the
 * advance waited out; at most SHARE_BURST_NS, since a longer one was
 * preempted, not working) against a bucket of SHARE_BURST_NS that refills at
 * the share. While it is below 0, the vCPU's host timer is held back until
 * it has refilled (late, never early): checked when the timer is armed and
 * after each charge, so no expiry starts below 0 and none takes it below
 * -SHARE_BURST_NS. Over any run of length T a vCPU's charged expiry time is
 * thus at most share * T + 2 * SHARE_BURST_NS, whatever the guest does (plus
 * share * HK_ADVANCE_MAX_NS: the housekeeping thread pops a timer up to the
 * advance early). Not charged: the thread's wake-up itself (the scheduler's,
 * in the thread's CPU time) and page scans (bounded by the scan period).
 * Half a CPU by default: a 1 ms cyclic timer on a host where an expiry costs
 * 20 us uses 2%.
 */
#define TIMER_SHARE_DEFAULT_PPM	500000
#define TIMER_SHARE_BURST_NS	1000000

/* The engine's knobs: --timer-floor, --timer-share, --timer-advance. */
struct timer_tuning {
	uint64_t floor_ns;		/* storm floor, 0 = none */
	uint32_t share_ppm;		/* storm share, 0 = none */
	int64_t advance_ns;		/* housekeeping timer advance, HK_ADVANCE_AUTO = tuned */
	bool prewake_off;		/* --timer-prewake=off (hk.c, "Pre-wake") */
	bool scan_fixed;		/* --timer-scan=fixed (hk.c, "Auto scan period") */
	bool look_fixed;		/* --timer-look=on: look after every injection */
	bool predict_off;		/* --timer-predict=off (hk.c, "Predicted scans") */
	bool idle_off;			/* --timer-idle-look=off (vtimer.c, "Idle look") */
};

/* Auto look (vtimer.c, look_wanted): decided every LOOK_DECIDE injections
 * per vCPU; on after a window with exits a look might take, and while
 * looking, every LOOK_RETRY-th window is spent not looking. */
#define LOOK_DECIDE		32
#define LOOK_RETRY		16

/*
 * Predicted scans (hk.c): after injecting deadline D, PERIOD after the one
 * before it, the housekeeping thread also scans HK_PREDICT_LEAD_NS ahead of
 * D + PERIOD (the scan margin plus slack for the conversions and for jitter
 * in the guest's deadlines), for periods up to HK_PREDICT_MAX_NS.
 */
#define HK_PREDICT_LEAD_NS	(VTIMER_PV_SCAN_MARGIN_NS + 20000)
#define HK_PREDICT_MAX_NS	100000000
#define HK_PREDICT_AHEAD	8	/* periods predicted on after the last injection */

/*
 * Auto scan period (hk.c): decided every HK_SCAN_WINDOW deadlines; shrinks
 * when more than HK_SCAN_NEAR_PCT % of them exited near the horizon, never
 * below the thread's CPU per wake-up over its budget (% of a CPU: OWN with a
 * CPU of its own, SHARED beside the vCPUs), nor below HK_SCAN_MIN_NS.
 */
#define HK_SCAN_WINDOW		100
#define HK_SCAN_NEAR_PCT	1
#define HK_SCAN_BUDGET_OWN	50
#define HK_SCAN_BUDGET_SHARED	10
#define HK_SCAN_MIN_NS		20000

/*
 * Housekeeping timer advance (hk.c; --timer-advance): starts at INIT and
 * moves 1/STEP of the way to each wake-up's lateness, at most MAX; a wake-up
 * later than 2 * MAX (a preemption, not the wake-up's cost) is ignored.
 * MAX bounds what one expiry can spin: 100 us, about half the guest's own
 * wake-up from hlt when its CPL0 code is emulated (docs/benchmarks.md).
 */
#define HK_ADVANCE_AUTO		(-1)
#define HK_ADVANCE_INIT_NS	2000
#define HK_ADVANCE_MAX_NS	100000
#define HK_ADVANCE_STEP		8

/*
 * The deliver and discover axes as operation tables, indexed by their enums
 * (engine.h), as the program axis is by the PV page's features. A new method
 * is one entry.
 */
struct deliver_ops {
	/* vt's host timer moved to vt->host_deadline (0 = off); vt->lock held. */
	void (*update)(struct vcpu_timer *vt);
	/* What the vCPU threads run; NULL = the VMM takes nothing over (kernel). */
	const struct vm_timer_ops *vm_ops;
	bool housekeeping;		/* host timers live in the housekeeping heap */
};

struct discover_ops {
	bool housekeeping;		/* needs the housekeeping thread */
	/*
	 * One discovery step of the housekeeping thread, without its lock, at
	 * monotonic time now; heap_wake is when the heap top falls due (monotonic,
	 * UINT64_MAX = none). Returns when to step again (monotonic ns; 0 = at
	 * once, UINT64_MAX = only when woken).
	 */
	uint64_t (*step)(struct hk *hk, uint64_t now, uint64_t heap_wake);
	/* Longest a deadline handed over in the page may wait to be found (ns). */
	uint64_t (*window_ns)(const struct timer_mode *m);
};

extern const struct deliver_ops timer_deliver_ops[];	/* deliver.c */
extern const struct discover_ops timer_discover_ops[];	/* hk.c */

static inline bool timer_mode_needs_hk(const struct timer_mode *m)
{
	return timer_deliver_ops[m->deliver].housekeeping ||
	       timer_discover_ops[m->discover].housekeeping;
}

/* engine_host.c */
/* The PV CPUID leaves for features (none if 0); -1 if they cannot be set. */
int timer_cpuid_setup(struct vm *vm, uint32_t features);
int timer_engine_init(struct timer_engine *e, struct vm *vm, const struct timer_mode *m,
		      int hk_cpu, const struct timer_tuning *t);
int timer_engine_start(struct timer_engine *e);
void timer_engine_stop(struct timer_engine *e);
void timer_engine_free(struct timer_engine *e);
/* A current_clocksource reading that means KVM leaves TSC offsets alone. */
bool clocksource_is_tsc(const char *name);

/* vtimer.c: per-vCPU operations; the caller holds vt->lock. */
void vt_arm(struct vcpu_timer *vt, uint64_t guest_deadline);
void vt_disarm(struct vcpu_timer *vt);
void vt_set_offset(struct vcpu_timer *vt, int64_t offset);
void vt_expire(struct vcpu_timer *vt);
/* A delivery spent cycles of host time on an expiry of vt: the storm share. */
void vt_charge(struct vcpu_timer *vt, uint64_t cycles);
void vt_scan(struct vcpu_timer *vt, uint64_t horizon, uint64_t margin);
/*
 * The next predicted scan after monotonic ns now, 0 = none, stepping periods
 * on past now and past a predicted deadline the host already has armed.
 */
uint64_t vt_predict_next(struct vcpu_timer *vt, uint64_t now);
int vt_wrmsr(struct vcpu *vcpu, uint32_t msr, uint64_t val);
int vt_rdmsr(struct vcpu *vcpu, uint32_t msr, uint64_t *val);
void vt_kicked(struct vcpu *vcpu);
void vt_exited(struct vcpu *vcpu);	/* after every KVM_RUN return: refresh the TSC offset */
/* One line of vcpu's host timer state, for the post-mortem of a hung run. */
void vt_describe(struct vcpu *vcpu, FILE *f);

/* hk.c: the housekeeping thread and its timer heap. */
struct hk *hk_create(struct timer_engine *e);
int hk_start(struct hk *hk);
void hk_stop(struct hk *hk);
void hk_free(struct hk *hk);
/* Insert, move or remove vt in the heap (vt->host_deadline, 0 = remove). */
void hk_update(struct hk *hk, struct vcpu_timer *vt);
struct vcpu_timer *hk_peek(struct hk *hk);	/* earliest timer, NULL if none */
/* One scan of every vCPU's page, horizon next_host_tsc, as the thread does;
 * returns the deadlines it found new. */
uint64_t hk_scan_all(struct hk *hk, uint64_t next_host_tsc);
/* A scan predicted at monotonic ns `mono` (vt_expire; vt->lock held). */
void hk_predict(struct hk *hk, uint64_t mono);
/* Scans made for a prediction alone, and the deadlines they found new. */
void hk_predicted(struct hk *hk, uint64_t *scans, uint64_t *found);
/* Expires every due heap timer, as the thread does; returns how many. */
int hk_expire_due(struct hk *hk);
uint64_t hk_cpu_ns(struct hk *hk);
/* One tuning step: advance adv after a wake-up late cycles past its key. */
uint64_t hk_advance_tune(uint64_t adv, uint64_t late, uint64_t max);
/* One auto scan period step: cur after a window of found deadlines, near of
 * them exited near the horizon; within [min(floor, base), base]. */
uint64_t hk_scan_next(uint64_t cur, uint64_t base, uint64_t floor, uint64_t found, uint64_t near);
/* The scan period now, the lowest it went and its last floor, ns. */
void hk_scan_period(struct hk *hk, uint64_t *now_ns, uint64_t *low_ns, uint64_t *floor_ns);
uint64_t hk_advance_ns(struct hk *hk);		/* the advance at the end (or now) */
uint64_t hk_spin_ns(struct hk *hk);		/* time spent waiting advances out */
uint64_t hk_scans(struct hk *hk);
/* Pre-wake: a kicked vCPU thread came back wake cycles after its kick. */
void hk_vwake_sample(struct hk *hk, uint64_t wake);
uint64_t hk_vwake_ns(struct hk *hk);
uint64_t hk_wake_lead_ns(struct hk *hk);	/* the heap keys' lead: advance + pre-wake */

#endif
