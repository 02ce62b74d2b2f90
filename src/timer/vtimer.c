// SPDX-License-Identifier: MIT
/*
 * Per-vCPU host timer: arm, expire, scan, and the MSR exits that feed them.
 * Every function here runs with vt->lock held (the MSR handlers take it).
 *
 * Expiry and scan follow docs/pv-abi.md exactly: the host stores its field
 * (armed, horizon), fences, then loads the guest's `pending`; the guest does
 * the mirror image, so one of the two always sees the other's store
 * (tests/models/lazy.pml).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "timer.h"
#include "../machine/machine.h"
#include "../util.h"

#define MSR_IA32_TSC		0x10
#define MSR_IA32_TSC_ADJUST	0x3b
#define MSR_TSC_DEADLINE	0x6e0
#define LVTT_MASKED		(1u << 16)
#define LVTT_MODE_MASK		(3u << 17)
#define LVTT_MODE_DEADLINE	(2u << 17)
#define APIC_REG_LVTT		0x320
/*
 * How long the host keeps looking after an injection for the guest's next
 * deadline: about the guest's wake-up path (~0.2-0.3 ms when its CPL0 code is
 * emulated, a few us natively); looking stops at the first change.
 */
#define LOOK_WINDOW_NS		300000

static inline uint64_t pv_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void pv_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static void set_armed(struct vcpu_timer *vt, uint64_t d)
{
	if (vt->page)
		pv_store(&vt->page->armed, d);
}

/* The deliver axis moves the host timer (deliver.c). */
static void host_timer_update(struct vcpu_timer *vt)
{
	timer_deliver_ops[vt->eng->mode.deliver].update(vt);
}

/* The storm share's bucket (timer.h), refilled up to host TSC now. */
static void share_refill(struct vcpu_timer *vt, uint64_t now)
{
	const struct timer_engine *e = vt->eng;

	if (now > vt->budget_t) {
		__int128 b = vt->budget + (__int128)(now - vt->budget_t) * e->share_ppm / 1000000;

		vt->budget = b > (__int128)e->share_burst ? (int64_t)e->share_burst : (int64_t)b;
		vt->budget_t = now;
	}
}

/*
 * Holds vt's host timer back until the bucket has refilled (late, never
 * early). Checked wherever the timer is armed and after every charge, so
 * at every expiry the bucket is not below 0 before that expiry's charge:
 * the charged total stays within share * T + 2 * burst (timer.h). The
 * bucket is refilled up to now.
 */
static bool share_hold(struct vcpu_timer *vt, uint64_t now)
{
	uint64_t t;

	if (vt->budget >= 0 || !vt->host_deadline)
		return false;
	t = now + (uint64_t)((unsigned __int128)-(__int128)vt->budget * 1000000 /
			     vt->eng->share_ppm) + 1;
	if (vt->host_deadline >= t)
		return false;
	vt->host_deadline = t;
	vt->st.throttled++;
	return true;
}

void vt_charge(struct vcpu_timer *vt, uint64_t cycles)
{
	const struct timer_engine *e = vt->eng;
	uint64_t now = rdtsc();

	if (e->share_burst && cycles > e->share_burst)
		cycles = e->share_burst;
	if (e->host_khz)
		vt->st.expire_ns += cycles * 1000000 / e->host_khz;
	if (!e->share_ppm)
		return;
	share_refill(vt, now);
	vt->budget -= (int64_t)cycles;
	if (share_hold(vt, now))
		host_timer_update(vt);
}

/*
 * Arms guest_deadline: a deadline, or a look at the page (pv-abi.md 5.4). A
 * deadline past the horizon (tsc.h) is kept as the guest's, with no host timer.
 */
static void arm(struct vcpu_timer *vt, uint64_t guest_deadline, bool look)
{
	uint64_t now = rdtsc(), h = guest_deadline_to_host(&vt->tsc, guest_deadline, now);

	vt->look = look;
	vt->deadline = guest_deadline;
	if (h == TSC_HOST_NEVER) {
		vt->host_deadline = 0;
	} else {
		uint64_t floor = vt->eng->floor_cycles;

		vt->host_deadline = h ? h : 1;
		if (floor && vt->last_fire && vt->host_deadline < vt->last_fire + floor) {
			vt->host_deadline = vt->last_fire + floor;	/* storm floor (timer.h) */
			vt->st.floored++;
		}
		if (vt->eng->share_ppm) {
			share_refill(vt, now);	/* storm share (timer.h) */
			share_hold(vt, now);
		}
	}
	set_armed(vt, guest_deadline);
	host_timer_update(vt);
}

void vt_arm(struct vcpu_timer *vt, uint64_t guest_deadline)
{
	arm(vt, guest_deadline, false);
}

void vt_disarm(struct vcpu_timer *vt)
{
	vt->look = false;
	vt->deadline = 0;
	vt->host_deadline = 0;
	set_armed(vt, 0);
	host_timer_update(vt);
}

/*
 * The guest TSC moved (the guest wrote IA32_TSC or IA32_TSC_ADJUST): its
 * deadline is unchanged, the host time it falls at is not. A deadline the
 * new TSC has already passed is armed in the past and expires at once, as
 * on hardware; a look stays a look.
 */
void vt_set_offset(struct vcpu_timer *vt, int64_t offset)
{
	bool look = vt->look;

	vt->tsc.offset = offset;
	if (vt->deadline) {
		vt_arm(vt, vt->deadline);
		vt->look = look;
	}
}

/* LVTT as the guest last set it: the page's mirror if PV is on, else the exit's. */
static void inject(struct vcpu_timer *vt)
{
	uint32_t lvtt = vt->page ? __atomic_load_n(&vt->page->lvtt, __ATOMIC_RELAXED) : vt->lvtt;
	uint32_t vec = lvtt & 0xff;
	struct kvm_msi msi = {
		.address_lo = 0xfee00000u | ((uint32_t)vt->vcpu->id << 12),
		.data = vec,	/* fixed delivery, edge */
	};

	if (!vt->page && !vt->lvtt_known) {
		vt->st.dropped++;
		return;
	}
	if ((lvtt & LVTT_MASKED) || (lvtt & LVTT_MODE_MASK) != LVTT_MODE_DEADLINE) {
		vt->st.dropped++;
		return;
	}
	if (vec < 16) {
		vt->st.bad_lvtt++;
		return;
	}
	if ((vt->eng->signal_msi ? vt->eng->signal_msi(vt, &msi)
				 : __kvm_ioctl(vt->vcpu->vm->fd, KVM_SIGNAL_MSI, &msi)) >= 0) {
		vt->st.injections++;
	} else {
		vt->st.inject_errors++;	/* reported with the run; the guest sees a lost timer */
	}
}

/*
 * Auto look (--timer-look=auto, the default). Each look wakes the
 * housekeeping thread (and spins out its advance) while the vCPU runs its
 * wake-up path: it pays only where it takes a deadline the guest would
 * otherwise have written to the MSR. The host cannot tell that from the
 * look itself: a deadline stored before the horizon + margin (look_saves)
 * may carry slack (the tick's) and would not have exited. On the PVM host
 * of 2026-12-07 hybrid's look counted such saves in a quarter of `cyclic`
 * wake-ups at one phase, where runs without it wrote the MSR for 0-27 of
 * ~1,000 deadlines (docs/benchmarks.md; looking then also delayed each
 * interrupt by ~40 us, since removed: hk.c, hk_look_by). So the evidence
 * is the exits themselves: a vCPU starts not looking, and every
 * LOOK_DECIDE injections decides for the next window. Not looking, it
 * looks if the window had an exit a look might have taken (a near exit, an
 * idle look). Looking, it goes on while the window counted a save, except
 * every LOOK_RETRY-th window, which it spends not looking: without exits
 * there, counted saves were not exits saved.
 */
static bool look_wanted(struct vcpu_timer *vt)
{
	if (!vt->eng->look_auto)
		return true;
	if (++vt->look_inj >= LOOK_DECIDE) {
		uint64_t exits = vt->st.near_exits + vt->st.idle_looks;
		bool saved = vt->st.look_saves > vt->look_saves0;

		vt->st.look_windows++;
		vt->st.look_windows_on += vt->look_on;	/* the window that ended */
		if (vt->look_on)
			vt->look_on = saved && vt->st.look_windows % LOOK_RETRY;
		else
			vt->look_on = exits > vt->look_exits0;
		vt->look_inj = 0;
		vt->look_saves0 = vt->st.look_saves;
		vt->look_exits0 = exits;
	}
	return vt->look_on;
}

/*
 * Look-ahead (scan:P,look:L): right after an injection the guest is about to
 * program its next deadlines, so the host re-reads the page every L until it
 * has, publishing each look time as `armed`. A LAZY guest then skips the MSR
 * for any deadline at or after the next look; expiry of a look reads
 * `pending` like any other (docs/pv-abi.md).
 */
static void arm_look(struct vcpu_timer *vt, uint64_t now)
{
	arm(vt, now + ns_to_guest_cycles(&vt->tsc, vt->eng->look_ns), true);
}

/*
 * Predicted scans (hk.c): deadline d, just injected, came `per` after the
 * one injected before it; a periodic guest's next is likely d + per. Ask
 * the housekeeping thread to scan HK_PREDICT_LEAD_NS ahead of it, and of
 * the HK_PREDICT_AHEAD periods after it (vt_predict_next), so a guest that
 * runs some of its deadlines itself (due when programmed) and so injects
 * none for them stays predicted (a prediction already past steps on to the
 * next period still ahead). A gap of about a whole number k of learned
 * periods keeps the period, as gap / k (exact for a periodic guest);
 * another gap becomes the period once seen twice running (a timer of
 * another period, such as the tick, between two of a periodic task's does
 * not reset it). Only a scan's timing depends on the guest: a wrong guess
 * costs the housekeeping thread one wake-up.
 */
static void predict_scan(struct vcpu_timer *vt, uint64_t d)
{
	const struct tsc_conv *tc = &vt->tsc;
	uint64_t per = d - vt->pred_last;
	uint64_t lead = ns_to_guest_cycles(tc, HK_PREDICT_LEAD_NS + hk_wake_lead_ns(vt->eng->hk));
	uint64_t old = vt->pred_per, next, gnow, h, m;
	unsigned int left;

	if (!vt->pred_last || d <= vt->pred_last || per <= lead ||
	    per > ns_to_guest_cycles(tc, HK_PREDICT_MAX_NS)) {
		vt->pred_last = d;
		return;
	}
	vt->pred_last = d;
	if (old) {
		uint64_t k = (per + old / 2) / old, c = vt->pred_cand;

		if (k >= 1 && k <= HK_PREDICT_AHEAD + 1 &&
		    (per > k * old ? per - k * old : k * old - per) <= old / 16) {
			per /= k;	/* the period as this gap measures it */
		} else if (c && (per > c ? per - c : c - per) <= c / 16) {
			vt->pred_cand = 0;	/* seen twice: the new period */
		} else {
			vt->pred_cand = per;
			per = old;
		}
	}
	vt->pred_per = per;
	/* the first of the next periods whose scan is still ahead */
	next = d + per - lead;
	gnow = host_to_guest_tsc(tc, rdtsc());
	for (left = HK_PREDICT_AHEAD; next <= gnow && left; left--)
		next += per;
	vt->pred_left = left;
	vt->pred_dl = next + lead;
	h = next <= gnow ? TSC_HOST_NEVER : guest_deadline_to_host(tc, next, rdtsc());
	m = h == TSC_HOST_NEVER ? 0 : host_tsc_to_mono_now(tc, h);
	atomic_store_explicit(&vt->pred_scan, m, memory_order_relaxed);
	if (m) {
		vt->st.predicted++;
		hk_predict(vt->eng->hk, m);
	}
}

/*
 * A predicted deadline the host already has armed was programmed in time:
 * its scan would find nothing new, so it is skipped (a wake-up saved).
 */
static bool predicted_armed(const struct vcpu_timer *vt)
{
	uint64_t tol = ns_to_guest_cycles(&vt->tsc, HK_PREDICT_LEAD_NS);

	return vt->deadline && !vt->look &&
	       (vt->deadline > vt->pred_dl ? vt->deadline - vt->pred_dl
					   : vt->pred_dl - vt->deadline) <= tol;
}

uint64_t vt_predict_next(struct vcpu_timer *vt, uint64_t now)
{
	uint64_t p = atomic_load_explicit(&vt->pred_scan, memory_order_relaxed);
	uint64_t per_ns = vt->tsc.guest_khz ? vt->pred_per * 1000000 / vt->tsc.guest_khz : 0;

	while (p && (p <= now || predicted_armed(vt))) {
		if (!vt->pred_left || !per_ns) {
			p = 0;
			break;
		}
		vt->pred_left--;
		p += per_ns;
		vt->pred_dl += vt->pred_per;
	}
	atomic_store_explicit(&vt->pred_scan, p, memory_order_relaxed);
	return p;
}

void vt_expire(struct vcpu_timer *vt)
{
	uint64_t p, now;

	vt->last_fire = rdtsc();
	vt->st.fired++;
	vt->deadline = 0;
	vt->host_deadline = 0;
	if (!vt->page) {
		inject(vt);
		return;
	}
	/*
	 * "now" is read before `pending`: a pending value seen at or before now
	 * was still the guest's deadline after it passed, so injecting it is
	 * never early. (Read after, a deadline the guest had replaced in time
	 * could look due.) lfence keeps rdtsc ahead of the loads.
	 */
	now = host_to_guest_tsc(&vt->tsc, rdtsc());
	__builtin_ia32_lfence();
	pv_store(&vt->page->armed, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	p = pv_load(&vt->page->pending);
	if (vt->look) {
		vt->look = false;
		vt->st.looks++;
		if (p == vt->seen) {
			if (now < vt->look_until)
				arm_look(vt, now);
			return;
		}
		vt->st.discovered++;
		{
			/* a save: the guest stored it before the horizon + margin
			 * (guest-writable page: a scribbled sum only skews this count) */
			uint64_t h = pv_load(&vt->page->horizon), m = pv_load(&vt->page->margin);

			if (p && h && h <= UINT64_MAX - m && p < h + m)
				vt->st.look_saves++;
		}
	}
	vt->seen = p;
	if (!p) {
		vt->st.dropped++;
	} else if (p <= now) {
		inject(vt);
		if (vt->eng->predict)
			predict_scan(vt, p);
		if (vt->eng->look_ns && look_wanted(vt)) {
			vt->look_until = now + ns_to_guest_cycles(&vt->tsc, LOOK_WINDOW_NS);
			arm_look(vt, now);
		}
	} else {
		vt->st.rearms++;
		vt_arm(vt, p);
	}
}

void vt_scan(struct vcpu_timer *vt, uint64_t horizon, uint64_t margin)
{
	uint64_t p;

	if (!vt->page)
		return;
	pv_store(&vt->page->margin, margin);
	pv_store(&vt->page->horizon, horizon);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	p = pv_load(&vt->page->pending);
	if (p == vt->seen)
		return;
	/*
	 * Moving the timer later (or off) under LAZY: a guest that still reads
	 * the old `armed` would skip the MSR for a deadline between the two.
	 * Retract `armed` first, fence, and act on what `pending` says then
	 * (pv-abi.md 5.3; tests/models/lazy.pml -DSCAN_MOVES_ARMED).
	 */
	if ((vt->eng->features & VTIMER_F_LAZY) && (!p || !vt->deadline || p > vt->deadline)) {
		pv_store(&vt->page->armed, 0);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		p = pv_load(&vt->page->pending);
	}
	vt->seen = p;
	vt->st.discovered++;
	/*
	 * A look armed at exactly p is not p's deadline: its expiry would find
	 * pending == seen and not inject. Arm p itself, which ends the look
	 * (tests/models/lazy.pml -DLOOK_SCAN_KEEPS_LOOK).
	 */
	if (!p)
		vt_disarm(vt);
	else if (p != vt->deadline || vt->look)
		vt_arm(vt, p);
	else
		set_armed(vt, p);	/* unchanged timer: publish it again after the retraction */
}

static void read_lvtt(struct vcpu_timer *vt)
{
	struct kvm_lapic_state la;

	if (__kvm_ioctl(vt->vcpu->fd, KVM_GET_LAPIC, &la) >= 0) {
		memcpy(&vt->lvtt, &la.regs[APIC_REG_LVTT], 4);
		vt->lvtt_known = true;
	}
}

static void pv_disable(struct vcpu_timer *vt)
{
	if (vt->page) {
		pv_store(&vt->page->armed, 0);
		__atomic_store_n(&vt->page->version, 0, __ATOMIC_RELEASE);
	}
	vt->page = NULL;
	vt->pv_msr = 0;
	vt->lvtt_stale = true;	/* changed through the page's mirror meanwhile */
	vt_disarm(vt);
}

/*
 * Pages enabled by the vCPUs of one engine never overlap: a vCPU that names
 * another's page would make the host publish its `armed` and `horizon` into
 * that vCPU's protocol. Enabling and disabling take pv_pages_lock, so two
 * vCPUs cannot both claim one page; pv_msr is only written under it.
 */
static pthread_mutex_t pv_pages_lock = PTHREAD_MUTEX_INITIALIZER;

static bool pv_page_taken(const struct vcpu_timer *vt, uint64_t gpa)
{
	const struct timer_engine *e = vt->eng;

	for (int i = 0; e->vt && i < e->vm->nr_vcpus; i++) {
		const struct vcpu_timer *o = &e->vt[i];

		if (o != vt && o->pv_msr && (o->pv_msr & ~0xfffULL) == gpa)
			return true;
	}
	return false;
}

/* MSR_VTIMER_PV: KVM's PV MSR conventions. Returns 1 for #GP. */
static int pv_msr_write_locked(struct vcpu_timer *vt, uint64_t val)
{
	struct vtimer_pv_page *page;
	uint64_t gpa = val & ~0xfffULL;

	vt->st.pv_msr_writes++;
	if (!vt->eng->features) {
		vt->st.pv_gp++;
		return 1;	/* not offered: the MSR does not exist */
	}
	if (!val) {
		pv_disable(vt);
		return 0;
	}
	page = vm_gpa(vt->vcpu->vm, gpa, 4096);
	if ((val & VTIMER_PV_RESERVED) || !(val & VTIMER_PV_ENABLE) || !page ||
	    pv_page_taken(vt, gpa)) {
		vt->st.pv_gp++;
		return 1;
	}
	if (vt->page && vt->page != page)
		pv_disable(vt);
	vt->page = page;
	vt->pv_msr = val;
	vt->seen = pv_load(&page->pending);
	pv_store(&page->armed, vt->deadline);
	pv_store(&page->horizon, 0);
	pv_store(&page->margin, 0);
	__atomic_store_n(&page->features, vt->eng->features, __ATOMIC_RELAXED);
	__atomic_store_n(&page->version, VTIMER_PV_VERSION, __ATOMIC_RELEASE);
	return 0;
}

static int pv_msr_write(struct vcpu_timer *vt, uint64_t val)
{
	int gp;

	pthread_mutex_lock(&pv_pages_lock);
	gp = pv_msr_write_locked(vt, val);
	pthread_mutex_unlock(&pv_pages_lock);
	return gp;
}

/*
 * IA32_TSC, IA32_TSC_ADJUST: applied through the engine's TSC source, then
 * the offset is read back, so the conversions follow what KVM now does.
 * Failing either stops the run: a stale offset makes interrupts early.
 */
static int tsc_msr_write(struct vcpu_timer *vt, uint32_t msr, uint64_t val)
{
	const struct tsc_source *src = vt->eng->tsc_src;
	int64_t off;
	int r;

	if (!src)
		return 1;
	vt->st.tsc_writes++;
	r = src->guest_write(vt->vcpu, msr, val);
	if (r >= 0)
		r = src->offset(vt->vcpu, &off);
	if (r < 0) {
		vm_fail(vt->vcpu->vm, VT_FAIL_IOCTL, "vCPU %d: guest write of MSR %#x: %s",
			vt->vcpu->id, msr, strerror(-r));
		return 0;
	}
	vt_set_offset(vt, off);
	return 0;
}

/*
 * KVM moves a vCPU's TSC offset by itself where the host TSC is unstable:
 * on each vcpu_load it restarts the guest TSC where it stopped and then
 * catches it up (x86.c, kvm_arch_vcpu_load, tsc_catchup). Nested under TCG
 * it moved at nearly every exit, and with the offset read once at setup
 * every engine delivery came a near-constant ~69 ms late. Read in the vCPU thread (a vCPU
 * ioctl waits for KVM_RUN to return) after every return to user space and
 * before a deadline is converted; a change re-arms the armed deadline. On
 * hosts where the offset cannot change (a stable TSC, PVM) it reads the same
 * value: one ioctl per user-space exit, unless the source says the offset
 * cannot move by itself (engine_host.c: a host TSC in use as clocksource).
 * Called with vt->lock held.
 */
static void vt_offset_refresh(struct vcpu_timer *vt)
{
	const struct tsc_source *src = vt->eng->tsc_src;
	int64_t off;

	if (!src || (src->offset_fixed && src->offset_fixed()))
		return;
	if (src->offset(vt->vcpu, &off) < 0 || off == vt->tsc.offset)
		return;
	vt->st.tsc_moves++;
	vt_set_offset(vt, off);
}

void vt_exited(struct vcpu *vcpu)
{
	struct vcpu_timer *vt = &vcpu->vm->timer->vt[vcpu->id];

	pthread_mutex_lock(&vt->lock);
	vt_offset_refresh(vt);
	pthread_mutex_unlock(&vt->lock);
}

/*
 * Without the page, LVTT comes from KVM_GET_LAPIC, a vCPU ioctl (~7 us on
 * the PVM host, as much as the exit itself). It is read again only where it
 * may have changed in a way that matters: after a write of 0 (a guest masks
 * LVTT or leaves TSC-deadline mode with the deadline zeroed, as Linux's
 * lapic_timer_shutdown does), or while the copy would not deliver (masked,
 * not TSC-deadline mode, unknown). A guest that changes LVTT with no 0
 * write between is the known gap of docs/design.md ("LVTT") either way.
 */
static bool lvtt_delivers(uint32_t lvtt)
{
	return !(lvtt & LVTT_MASKED) && (lvtt & LVTT_MODE_MASK) == LVTT_MODE_DEADLINE;
}

/* A TSC-deadline MSR write of val, or an idle look's of `pending`. */
static void deadline_write(struct vcpu_timer *vt, uint64_t val)
{
	if (vt->page) {
		vt->seen = val;
	} else {
		if (!vt->lvtt_known || vt->lvtt_stale || !lvtt_delivers(vt->lvtt))
			read_lvtt(vt);
		vt->lvtt_stale = !val;
	}
	/* Outside TSC-deadline mode the write is ignored (SDM 11.5.4.1). */
	if (!vt->page && (vt->lvtt & LVTT_MODE_MASK) != LVTT_MODE_DEADLINE) {
		vt_disarm(vt);
	} else if (!val) {
		vt_disarm(vt);
	} else if (val <= host_to_guest_tsc(&vt->tsc, rdtsc())) {
		/*
		 * Already due: inject now rather than arm a timer. If an expiry
		 * or scan raced this exit and injected the same deadline, the
		 * two meet in the IRR while the vCPU is out of the guest, so it
		 * sees one interrupt (pv-abi.md 5.1).
		 */
		vt_disarm(vt);
		inject(vt);
	} else {
		vt_arm(vt, val);
	}
}

/*
 * Idle look (pv-abi.md 4.1): a guest on its way to idle that owes the MSR a
 * deadline writes 0 to VTIMER_IDLE_MSR instead of the deadline and a hlt.
 * The VMM acts on `pending` as on that write, then halts the vCPU as hlt
 * would (KVM_SET_MP_STATE, taken at the next KVM_RUN once the write is
 * complete): one exit where there were two. A failed halt only costs the
 * guest one more pass of its idle loop, which then halts by itself.
 */
static int idle_look(struct vcpu_timer *vt, uint64_t val)
{
	struct kvm_mp_state halted = { .mp_state = KVM_MP_STATE_HALTED };

	if (!vt->page || val || !(vt->eng->features & VTIMER_F_IDLE))
		return 1;
	vt->st.idle_looks++;
	deadline_write(vt, pv_load(&vt->page->pending));
	if (__kvm_ioctl(vt->vcpu->fd, KVM_SET_MP_STATE, &halted) < 0)
		vt->st.idle_halt_errors++;
	return 0;
}

int vt_wrmsr(struct vcpu *vcpu, uint32_t msr, uint64_t val)
{
	struct timer_engine *e = vcpu->vm->timer;
	struct vcpu_timer *vt = &e->vt[vcpu->id];
	int gp = 0;

	pthread_mutex_lock(&vt->lock);
	if (msr == MSR_TSC_DEADLINE) {
		vt->st.msr_exits++;
		if (vt->page && val) {
			/*
			 * Near: before the horizon + margin, so a shorter scan
			 * period would have found it (hk.c). Whether it has
			 * passed by now says nothing: on the PVM host most near
			 * exits reached here 40-115 us after their deadline.
			 * The page is the guest's to scribble on: the sum is
			 * checked, and only this count follows it.
			 */
			uint64_t h = pv_load(&vt->page->horizon), m = pv_load(&vt->page->margin);

			if (h && h <= UINT64_MAX - m && val < h + m)
				vt->st.near_exits++;
		}
		deadline_write(vt, val);
	} else if (msr == MSR_VTIMER_PV) {
		gp = pv_msr_write(vt, val);
	} else if (msr == VTIMER_IDLE_MSR(MSR_VTIMER_PV)) {
		gp = idle_look(vt, val);
	} else if (msr == MSR_IA32_TSC || msr == MSR_IA32_TSC_ADJUST) {
		gp = tsc_msr_write(vt, msr, val);
	} else {
		gp = 1;	/* an MSR KVM does not know: #GP, as KVM does */
	}
	pthread_mutex_unlock(&vt->lock);
	return gp;
}

/*
 * IA32_TSC_DEADLINE reads back the guest's deadline, 0 once it fired (KVM's
 * semantics). vt->deadline is the host timer, which may be a look, or an
 * earlier deadline the guest has since replaced through the page. With the
 * page on, the guest's deadline is `pending` (stored before any MSR write,
 * pv-abi.md 4): 0 if the host has acted on it (seen) and holds no timer for
 * it, i.e. injected it or dropped it; a value not yet seen is still owed.
 */
static uint64_t tsc_deadline_read(struct vcpu_timer *vt)
{
	uint64_t p;

	if (!vt->page)
		return vt->deadline;
	p = pv_load(&vt->page->pending);
	if (p == vt->seen && (vt->look || p != vt->deadline))
		return 0;
	return p;
}

int vt_rdmsr(struct vcpu *vcpu, uint32_t msr, uint64_t *val)
{
	struct timer_engine *e = vcpu->vm->timer;
	struct vcpu_timer *vt = &e->vt[vcpu->id];
	int gp = 0;

	pthread_mutex_lock(&vt->lock);
	if (msr == MSR_TSC_DEADLINE)
		*val = tsc_deadline_read(vt);
	else if (msr == MSR_VTIMER_PV && e->features)
		*val = vt->pv_msr;
	else
		gp = 1;
	pthread_mutex_unlock(&vt->lock);
	return gp;
}

/* Signed guest-cycle distance d as microseconds at the guest's rate. */
static double guest_cycles_us(const struct tsc_conv *c, int64_t d)
{
	return c->guest_khz ? (double)d * 1000.0 / (double)c->guest_khz : 0.0;
}

void vt_describe(struct vcpu *vcpu, FILE *f)
{
	struct vcpu_timer *vt = &vcpu->vm->timer->vt[vcpu->id];
	uint64_t now;

	pthread_mutex_lock(&vt->lock);
	now = host_to_guest_tsc(&vt->tsc, rdtsc());
	fprintf(f, "engine: guest TSC %" PRIu64 ", host timer ", now);
	if (vt->deadline)
		fprintf(f, "%s at %" PRIu64 " (%+.1f us)%s", vt->look ? "look" : "armed",
			vt->deadline, guest_cycles_us(&vt->tsc, (int64_t)(vt->deadline - now)),
			/* heap_idx without the heap's lock: a diagnostic snapshot */
			vt->heap_idx >= 0 ? ", in the housekeeping heap" : "");
	else
		fprintf(f, "off");
	if (vt->page)
		fprintf(f, "; page: pending %" PRIu64 ", armed %" PRIu64 ", lvtt 0x%08x, seen %" PRIu64,
			pv_load(&vt->page->pending), pv_load(&vt->page->armed),
			__atomic_load_n(&vt->page->lvtt, __ATOMIC_RELAXED), vt->seen);
	else
		fprintf(f, "; no page, lvtt %s0x%08x", vt->lvtt_known ? "" : "unknown ", vt->lvtt);
	fprintf(f, "; fired %" PRIu64 ", injected %" PRIu64 ", inject errors %" PRIu64
		", dropped %" PRIu64 ", throttled %" PRIu64 "\n", vt->st.fired, vt->st.injections,
		vt->st.inject_errors, vt->st.dropped, vt->st.throttled);
	pthread_mutex_unlock(&vt->lock);
}
