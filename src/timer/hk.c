// SPDX-License-Identifier: MIT
/*
 * The housekeeping thread: one host timer queue for all vCPUs (a binary
 * min-heap on host TSC: O(log n) insert, move and remove), and the scanner
 * or spinner that reads the PV pages.
 *
 * It never burns a core while nothing is near: it sleeps on a timerfd set
 * to the earliest of (heap top, next scan) ("Sleeping"); in spin mode it polls
 * continuously only while a known deadline is within SPIN_WINDOW_NS, and
 * otherwise naps SPIN_NAP_NS between looks at the pages. Before expiring a
 * timer it re-reads the host TSC, so it can be late, never early.
 *
 * Timer advance, as KVM's lapic_timer_advance: waking up costs the thread
 * time, so it wakes for a timer `advance` before the host deadline and
 * waits out the rest itself, spinning without a lock, so the injection
 * lands at the deadline and never before it. With --timer-advance=auto the
 * advance tunes itself from how late each wake-up was (hk_advance_tune).
 *
 * Pre-wake (--timer-prewake): the advance hides the housekeeping thread's
 * own wake-up, not the vCPU's. A halted vCPU's thread sleeps in KVM_RUN, and
 * an injection must wake it: on a host where a wake-up costs ~60-100 us,
 * that lands on every timer of an idle guest. KVM hides the same cost with
 * lapic_timer_advance, which wakes the vCPU early and waits out the rest
 * before entering the guest. Here every timer is popped earlier by the
 * vCPU threads' measured wake-up too, and when the popped timer's vCPU is
 * halted (KVM's `blocking` stat) the thread kicks that vCPU thread out of
 * KVM_RUN and hands the timer over: it leaves the heap, and the kicked
 * thread waits out the deadline in user space, injects (vt_expire, under
 * vt->lock, like any expiry) and re-enters KVM_RUN with the interrupt
 * pending. This thread goes back to sleep instead of spinning too: two
 * threads spinning for one timer starve the vCPUs on a 2-CPU host. The
 * injection still lands at the deadline, never before it. A kick is not
 * lost (kvm_run.immediate_exit: a thread outside KVM_RUN takes it on its
 * next entry), and a deadline the host changed meanwhile is back in the
 * heap through hk_update: the kicked thread injects only the one handed
 * over, still armed and due.
 *
 * Predicted scans (discover=scan): the periodic scan promises the guest a
 * look within a period, so a deadline the guest programs nearer than that
 * (because it woke late: a slow host) costs it an exit. A periodic guest's
 * next deadline is its last one plus its period, so after each injection
 * the host also scans just ahead of that (vtimer.c, predict_scan): the
 * guest finds the predicted scan as its horizon and stores its deadline in
 * the page however late it programs it, up to the scan itself. Each scan
 * publishes as horizon the earlier of the next periodic and the next
 * predicted scan; any scan is a valid look (docs/pv-abi.md 5.3), so extra
 * scans never break an earlier promise, and the periodic ones go on.
 *
 * No loop here holds the lock while it waits: every iteration either sleeps
 * (sleep_until drops it) or drops it. A deadline past the horizon (tsc.h:
 * "never") has no host timer: with nothing else armed the timerfd is
 * disarmed and the thread sleeps until an earlier time is armed.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "timer.h"
#include "../machine/machine.h"
#include "../kvm/kvm.h"
#include "../util.h"

#define SPIN_WINDOW_NS	100000	/* poll continuously when a deadline is this near */
#define SPIN_NAP_NS	20000	/* otherwise look at the pages this often */
#define SCAN_MARGIN_NS	VTIMER_PV_SCAN_MARGIN_NS	/* guest exits within horizon + this */

struct hk {
	struct timer_engine *e;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;		/* heap, n, stop, wake_at, the timerfd's setting */
	int tfd;			/* the thread sleeps in read() on it ("Sleeping") */
	struct vcpu_timer **heap;
	int n;
	bool stop;
	uint64_t next_periodic;		/* discover=scan: monotonic ns of the next periodic scan */
	_Atomic uint64_t pred_next;	/* ... of the earliest predicted one, UINT64_MAX = none */
	uint64_t wake_at;		/* monotonic ns the thread sleeps until, 0 = awake */
	uint64_t pred_scans, pred_found;	/* scans made for a prediction; found new there */
	uint64_t scan_ns;		/* ... the period now (auto: adapts) */
	uint64_t scan_low, scan_floor;	/* ... the lowest it went; its floor (ns) */
	uint64_t found, near;		/* deadlines found by scans, near exits: sums */
	uint64_t ctl_found, ctl_near;	/* ... at the last decision */
	uint64_t wakes, ctl_wakes, ctl_cpu;	/* wake-ups; at the last decision, with CPU ns */
	_Atomic uint64_t advance;	/* host TSC cycles the heap keys are ahead of deadlines
					 * (written under lock; vCPU threads read it: heap_lead) */
	uint64_t advance_max;		/* ... at most; also the longest wait spun out */
	bool advance_auto;		/* tuned from wake-ups */
	uint64_t spin_cycles;		/* spent waiting out advances */
	_Atomic uint64_t vwake;		/* pre-wake: a kicked vCPU thread's wake-up, cycles */
	uint64_t look_at;		/* monotonic ns: wake by then for a look (expire_one) */
	uint64_t nap_until;		/* discover=spin: monotonic ns the last nap was to end */
	uint64_t nap_late;		/* ... how late naps end, ns (1/8 steps) */
	uint64_t cpu_ns, scans;
};

uint64_t hk_advance_tune(uint64_t adv, uint64_t late, uint64_t max)
{
	if (late > 2 * max)
		return adv;	/* preempted or busy: not what a wake-up costs */
	if (late > adv)
		adv += (late - adv + HK_ADVANCE_STEP - 1) / HK_ADVANCE_STEP;
	else
		adv -= (adv - late) / HK_ADVANCE_STEP;
	return adv < max ? adv : max;
}

static void heap_swap(struct hk *hk, int a, int b)
{
	struct vcpu_timer *t = hk->heap[a];

	hk->heap[a] = hk->heap[b];
	hk->heap[b] = t;
	hk->heap[a]->heap_idx = a;
	hk->heap[b]->heap_idx = b;
}

static void heap_up(struct hk *hk, int i)
{
	while (i > 0 && hk->heap[(i - 1) / 2]->hk_key > hk->heap[i]->hk_key) {
		heap_swap(hk, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct hk *hk, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;

		if (l < hk->n && hk->heap[l]->hk_key < hk->heap[m]->hk_key)
			m = l;
		if (r < hk->n && hk->heap[r]->hk_key < hk->heap[m]->hk_key)
			m = r;
		if (m == i)
			return;
		heap_swap(hk, i, m);
		i = m;
	}
}

static void heap_remove(struct hk *hk, int i)
{
	struct vcpu_timer *vt = hk->heap[i];

	hk->n--;
	if (i != hk->n) {
		hk->heap[i] = hk->heap[hk->n];
		hk->heap[i]->heap_idx = i;
		heap_down(hk, i);
		heap_up(hk, i);
	}
	vt->heap_idx = -1;
}

/* Monotonic ns the heap top wants the thread awake, UINT64_MAX = none. */
static uint64_t heap_wake(struct hk *hk)
{
	return hk->n ? host_tsc_to_mono_now(&hk->e->vt[0].tsc, hk->heap[0]->hk_key) : UINT64_MAX;
}

/*
 * Sleeping. The thread sleeps in a read() of a CLOCK_MONOTONIC timerfd set
 * to its wake time (hk->wake_at), not on a condition variable: a vCPU
 * thread that moves its deadline earlier than that (hk_update: an MSR exit
 * on the guest's path) re-arms the timerfd under hk->lock and goes on, so
 * the sleeping thread is woken by the timer when it is due, not by the
 * writer. On the PVM host a futex wake of the thread on the other CPU cost
 * the writer ~8 us per TSC-deadline write (docs/benchmarks.md). Only a
 * time earlier than wake_at re-arms it; a later one costs the thread one
 * early wake-up, after which it reads the heap again. Under hk->lock.
 */
static void tfd_arm(struct hk *hk, uint64_t mono)
{
	struct itimerspec its = { 0 };

	if (mono != UINT64_MAX) {
		mono = mono ? mono : 1;	/* 0 would disarm: 1 ns is long past */
		its.it_value.tv_sec = mono / 1000000000ULL;
		its.it_value.tv_nsec = mono % 1000000000ULL;
	}
	timerfd_settime(hk->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Called with the lock held: a wake-up at mono, if the thread sleeps past it. */
static void wake_by(struct hk *hk, uint64_t mono)
{
	if (hk->wake_at && mono < hk->wake_at) {
		hk->wake_at = mono;
		tfd_arm(hk, mono);
	}
}

/*
 * Sleep until mono (UINT64_MAX: until wake_by), with the lock dropped
 * meanwhile. hk_stop sets stop before it takes the lock to fire the timerfd,
 * so a stop that came while the thread stepped unlocked is seen here,
 * rather than overwritten by this arming.
 */
static void sleep_until(struct hk *hk, uint64_t mono)
{
	uint64_t expirations;

	if (__atomic_load_n(&hk->stop, __ATOMIC_RELAXED))
		return;
	hk->wake_at = mono;
	tfd_arm(hk, mono);
	pthread_mutex_unlock(&hk->lock);
	if (read(hk->tfd, &expirations, sizeof(expirations)) < 0)
		(void)expirations;	/* EINTR: look again, as after any wake-up */
	pthread_mutex_lock(&hk->lock);
	hk->wake_at = 0;
	hk->wakes++;
}

/*
 * How long before a deadline this thread wants to hold it, host TSC cycles:
 * the advance plus, with pre-wake, the vCPU thread's wake-up. A heap key is
 * the deadline less this.
 */
static uint64_t heap_lead(struct hk *hk)
{
	return hk->advance + (hk->e->prewake ? atomic_load_explicit(&hk->vwake, memory_order_relaxed) : 0);
}

void hk_update(struct hk *hk, struct vcpu_timer *vt)
{
	uint64_t lead;

	pthread_mutex_lock(&hk->lock);
	if (vt->heap_idx >= 0)
		heap_remove(hk, vt->heap_idx);
	/* the caller holds vt->lock */
	lead = heap_lead(hk);
	vt->hk_key = vt->host_deadline > lead ? vt->host_deadline - lead : !!vt->host_deadline;
	vt->hk_sample = vt->hk_key > rdtsc();	/* a wake-up will be late for it, or not */
	if (vt->hk_key) {
		vt->heap_idx = hk->n;
		hk->heap[hk->n++] = vt;
		heap_up(hk, vt->heap_idx);
	}
	/* asleep: awake, it reads the heap again before sleeping; a look it
	 * already plans to be awake for (hk_look_by) needs no wake-up */
	if (hk->wake_at && !(vt->look && hk->look_at && hk->heap[0] == vt &&
			     hk->look_at <= host_tsc_to_mono_now(&vt->tsc, vt->host_deadline)))
		wake_by(hk, heap_wake(hk));
	pthread_mutex_unlock(&hk->lock);
}

uint64_t hk_scan_all(struct hk *hk, uint64_t next_host_tsc)
{
	struct timer_engine *e = hk->e;
	uint64_t found = 0, near = 0, new = 0;

	for (int i = 0; i < e->vm->nr_vcpus; i++) {
		struct vcpu_timer *vt = &e->vt[i];
		uint64_t before;

		pthread_mutex_lock(&vt->lock);
		before = vt->st.discovered;
		vt_scan(vt, host_to_guest_tsc(&vt->tsc, next_host_tsc),
			ns_to_guest_cycles(&vt->tsc, SCAN_MARGIN_NS));
		new += vt->st.discovered - before;
		found += vt->st.discovered;
		near += vt->st.near_exits;
		pthread_mutex_unlock(&vt->lock);
	}
	hk->found = found;
	hk->near = near;
	hk->scans++;
	return new;
}

void hk_predict(struct hk *hk, uint64_t mono)
{
	uint64_t c;

	if (!hk)
		return;
	c = atomic_load_explicit(&hk->pred_next, memory_order_relaxed);
	while (mono < c && !atomic_compare_exchange_weak(&hk->pred_next, &c, mono))
		;
	pthread_mutex_lock(&hk->lock);
	wake_by(hk, mono);	/* sleeping past it */
	pthread_mutex_unlock(&hk->lock);
}

/*
 * The earliest prediction after now, stepping on (under each vt->lock)
 * those passed or already armed (vt_predict_next), made the next one to
 * wait for. It replaces the last one, which may have been stepped on; a
 * second look keeps a prediction hk_predict stored meanwhile.
 */
static uint64_t predicted_min(struct hk *hk, uint64_t now, bool step)
{
	struct timer_engine *e = hk->e;
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < e->vm->nr_vcpus; i++) {
		struct vcpu_timer *vt = &e->vt[i];
		uint64_t p = atomic_load_explicit(&vt->pred_scan, memory_order_relaxed);

		if (p && step) {
			pthread_mutex_lock(&vt->lock);
			p = vt_predict_next(vt, now);
			pthread_mutex_unlock(&vt->lock);
		}
		if (p > now && p < best)
			best = p;
	}
	return best;
}

static uint64_t predicted_after(struct hk *hk, uint64_t now)
{
	uint64_t c, best;

	atomic_store_explicit(&hk->pred_next, predicted_min(hk, now, true), memory_order_relaxed);
	best = predicted_min(hk, now, false);
	c = atomic_load_explicit(&hk->pred_next, memory_order_relaxed);
	while (best < c && !atomic_compare_exchange_weak(&hk->pred_next, &c, best))
		;
	return atomic_load_explicit(&hk->pred_next, memory_order_relaxed);
}

/* Pre-wake: is vt's vCPU halted in KVM (its `blocking` stat)? */
static bool vt_halted(struct vcpu_timer *vt)
{
	uint64_t b;

	return vt->blocking_idx >= 0 && vt->vcpu &&
	       !kvm_stats_read_one(&vt->vcpu->stats, vt->blocking_idx, &b) && b;
}

void hk_vwake_sample(struct hk *hk, uint64_t wake)
{
	uint64_t w = atomic_load_explicit(&hk->vwake, memory_order_relaxed);

	if (wake > 2 * hk->advance_max)
		return;		/* preempted: not what a wake-up costs */
	w = w + wake / HK_ADVANCE_STEP - w / HK_ADVANCE_STEP;
	atomic_store_explicit(&hk->vwake, w < hk->advance_max ? w : hk->advance_max,
			      memory_order_relaxed);
}

/*
 * A look (vtimer.c, arm_look) is always due when armed: its key, the look
 * time less the advance, has passed. Armed by a vCPU thread, waking this
 * thread for it meant a timerfd set in the past, fired at once and woken
 * across CPUs before the vCPU thread could re-enter the guest: ~100,000
 * host cycles (~39 us) per look on the PVM host of 2026-12-07 (temporary
 * rdtsc count around timerfd_settime), added to the interrupt it had just
 * injected. So when this thread hands a timer over to a vCPU thread that
 * will arm a look, it plans to be awake by the look itself, and
 * hk_update does not wake it for that look. hk->lock held.
 */
static void hk_look_by(struct hk *hk, uint64_t mono)
{
	if (!hk->look_at || mono < hk->look_at)
		hk->look_at = mono;
}

/*
 * Pops the heap top if its key is due; waits out the advance unlocked and
 * expires it at its host deadline. Returns true if it popped. hk->lock held.
 */
static bool expire_one(struct hk *hk)
{
	struct vcpu_timer *vt;
	uint64_t t = rdtsc(), t0 = t, d, spun = 0;
	bool look;

	if (!hk->n || hk->heap[0]->hk_key > t)
		return false;
	vt = hk->heap[0];
	if (hk->advance_auto && vt->hk_sample)
		hk->advance = hk_advance_tune(hk->advance, t - vt->hk_key, hk->advance_max);
	heap_remove(hk, 0);
	pthread_mutex_unlock(&hk->lock);
	pthread_mutex_lock(&vt->lock);
	/*
	 * Re-armed meanwhile (the vCPU thread won the lock)? Then it is due only
	 * if its new deadline is; expiring it here also takes it off the heap.
	 * A deadline further than the longest advance is back in the heap.
	 * heap_idx is not read: other vCPUs' heap updates move it under hk->lock.
	 */
	d = vt->host_deadline;
	t = rdtsc();
	if (d > t && d - t <= hk->advance_max * (hk->e->prewake ? 2 : 1)) {
		/* a look injects nothing: no vCPU to wake for it */
		bool kick = hk->e->prewake && !vt->look && vt_halted(vt);

		if (kick) {
			/* handed off: the kicked thread waits out d and injects */
			atomic_store_explicit(&vt->kick_t, rdtsc(), memory_order_relaxed);
			atomic_store_explicit(&vt->prewake, d, memory_order_release);
			vt->st.prewakes++;
			/* charged with the injection (hk_kicked): a storm share
			 * hold here would move the deadline handed over; summed,
			 * as a second hand-over may come before the first is taken */
			vt->prewake_cost += rdtsc() - t0;
			/* the kicked thread arms a look right after it injects */
			look = hk->e->look_ns && (!hk->e->look_auto || vt->look_on);
			pthread_mutex_unlock(&vt->lock);
			vm_kick_vcpu(hk->e->vm, vt->vcpu->id);
			pthread_mutex_lock(&hk->lock);
			if (look)
				hk_look_by(hk, host_tsc_to_mono_now(&vt->tsc, d) + hk->e->look_ns);
			return true;
		}
		pthread_mutex_unlock(&vt->lock);
		while (rdtsc() < d)
			__builtin_ia32_pause();
		spun = rdtsc() - t;
		pthread_mutex_lock(&vt->lock);
	}
	if (vt->host_deadline && vt->host_deadline <= rdtsc())
		vt_expire(vt);
	vt_charge(vt, rdtsc() - t0 - spun);
	pthread_mutex_unlock(&vt->lock);
	pthread_mutex_lock(&hk->lock);
	hk->spin_cycles += spun;
	return true;
}

int hk_expire_due(struct hk *hk)
{
	int n = 0;

	pthread_mutex_lock(&hk->lock);
	while (expire_one(hk))
		n++;
	pthread_mutex_unlock(&hk->lock);
	return n;
}

/* discover=exit: every deadline comes by an MSR exit; nothing to look for. */
static uint64_t exit_step(struct hk *hk, uint64_t now, uint64_t heap_wake)
{
	return UINT64_MAX;
}

/*
 * Auto scan period. A deadline the guest programs nearer than the next scan
 * + margin costs it an exit (near_exits); each scan costs this thread a
 * wake-up. Where the guest runs late (a slow host: its CPL0 code emulated),
 * its next deadline is often that near: on the PVM host of 2026-12-07, 1
 * vCPU, `cyclic` at 1 ms, pvtimer wrote the MSR for 0.2-7.8% of deadlines
 * at 250 us and 0-2.8% at 125 us, where the thread had a CPU of its own.
 * So every HK_SCAN_WINDOW deadlines (found by scans, or exits near the
 * horizon) the period shrinks by a quarter if more than HK_SCAN_NEAR_PCT %
 * exited near, and grows back by an eighth, up to the preset's, if none
 * did. Its floor is what the thread may spend: its measured CPU per wake-up
 * over its budget, half a CPU with a CPU of its own, a tenth beside the
 * vCPUs, where its CPU is theirs (beside 2 vCPUs on that host, at 26-60 us
 * a wake-up, the floor stayed above the preset's period). A guest that
 * scribbles on its page's horizon can only make near exits look more
 * frequent: the floor still holds.
 */
uint64_t hk_scan_next(uint64_t cur, uint64_t base, uint64_t floor, uint64_t found, uint64_t near)
{
	uint64_t lo = floor < base ? floor : base;

	if (near * 100 > (found + near) * HK_SCAN_NEAR_PCT)
		cur -= cur / 4;
	else if (!near)
		cur += cur / 8 + 1;
	return cur < lo ? lo : cur > base ? base : cur;
}

static void scan_adapt(struct hk *hk)
{
	uint64_t found = hk->found - hk->ctl_found, near = hk->near - hk->ctl_near;
	uint64_t wakes = hk->wakes - hk->ctl_wakes, cpu;
	struct timespec ts;

	if (!hk->e->scan_auto || found + near < HK_SCAN_WINDOW)
		return;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	cpu = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (wakes && cpu > hk->ctl_cpu) {
		uint64_t f = (cpu - hk->ctl_cpu) / wakes * 100 /
			     (hk->e->hk_cpu >= 0 ? HK_SCAN_BUDGET_OWN : HK_SCAN_BUDGET_SHARED);

		hk->scan_floor = f > HK_SCAN_MIN_NS ? f : HK_SCAN_MIN_NS;
	}
	hk->scan_ns = hk_scan_next(hk->scan_ns, hk->e->mode.scan_ns, hk->scan_floor, found, near);
	if (hk->scan_ns < hk->scan_low)
		hk->scan_low = hk->scan_ns;
	hk->ctl_found = hk->found;
	hk->ctl_near = hk->near;
	hk->ctl_wakes = hk->wakes;
	hk->ctl_cpu = cpu;
}

/*
 * discover=scan:P: one scan every P (auto: see above), and one at each
 * predicted time (see the top); its horizon the next scan of either kind.
 */
static uint64_t scan_step(struct hk *hk, uint64_t now, uint64_t heap_wake)
{
	uint64_t period = hk->scan_ns;
	uint64_t pred = atomic_load_explicit(&hk->pred_next, memory_order_relaxed);

	if (now >= hk->next_periodic || now >= pred) {
		bool periodic = now >= hk->next_periodic;
		uint64_t new, next;

		/* keep the phase unless a whole period was missed */
		if (periodic)
			hk->next_periodic = (now - hk->next_periodic < period ?
					     hk->next_periodic : now) + period;
		pred = predicted_after(hk, now);
		next = pred < hk->next_periodic ? pred : hk->next_periodic;
		new = hk_scan_all(hk, mono_to_host_tsc_now(&hk->e->vt[0].tsc, next));
		if (!periodic) {
			hk->pred_scans++;
			hk->pred_found += new;
		}
		scan_adapt(hk);
	}
	return pred < hk->next_periodic ? pred : hk->next_periodic;
}

/*
 * The spinner's nap: SPIN_NAP_NS, or twice how late its naps end (measured,
 * 1/8 of the way each nap) where that is longer. A nap shorter than
 * the wake-up's own lateness spaces the looks no closer and costs a wake-up
 * each: on the PVM host of 2026-12-07 naps ended 56-75 us late and a
 * wake-up cost ~38 us of CPU, and 20 us naps kept the thread busy enough to
 * starve 2 vCPUs on 2 CPUs (apicv-model cyclic p50 11.9-59.2 ms in 6 runs;
 * self-tuned, 2.3-9.2 ms; kvm 0.49-0.60 ms; `latency` unchanged).
 */
static uint64_t spin_nap_ns(struct hk *hk, uint64_t now)
{
	if (hk->nap_until && now > hk->nap_until) {
		uint64_t late = now - hk->nap_until;

		if (late < 10 * SPIN_NAP_NS)	/* longer: preempted, not the wake-up's cost */
			hk->nap_late = hk->nap_late + late / 8 - hk->nap_late / 8;
	}
	hk->nap_until = 0;
	return 2 * hk->nap_late > SPIN_NAP_NS ? 2 * hk->nap_late : SPIN_NAP_NS;
}

/*
 * discover=spin: a look at every page each step, horizon one nap ahead;
 * continuous while a known deadline is within SPIN_WINDOW_NS, else a nap.
 */
static uint64_t spin_step(struct hk *hk, uint64_t now, uint64_t heap_wake)
{
	const struct tsc_conv *tc = &hk->e->vt[0].tsc;
	uint64_t nap = spin_nap_ns(hk, now);

	hk_scan_all(hk, rdtsc() + nap * tc->host_khz / 1000000);
	if (heap_wake != UINT64_MAX && heap_wake < now + SPIN_WINDOW_NS)
		return 0;
	hk->nap_until = now + nap;
	return hk->nap_until;
}

/* The horizon is at most a period ahead, later by the TSC pair's error (tsc.h). */
static uint64_t scan_window(const struct timer_mode *m)
{
	return m->scan_ns + SCAN_MARGIN_NS + TSC_PAIR_GAP_NS;
}

static uint64_t no_window(const struct timer_mode *m)
{
	return 0;
}

const struct discover_ops timer_discover_ops[] = {
	[DISCOVER_EXIT] = { .housekeeping = false, .step = exit_step, .window_ns = no_window },
	[DISCOVER_SCAN] = { .housekeeping = true, .step = scan_step, .window_ns = scan_window },
	[DISCOVER_SPIN] = { .housekeeping = true, .step = spin_step, .window_ns = no_window },
};

/*
 * Expire what is due, step the discovery (unlocked), then sleep until the
 * earlier of the heap top and the next step. The heap is read again after
 * the step, so a timer the step armed is not missed: its hk_update signal
 * may have come while nobody waited.
 */
static void *hk_thread(void *arg)
{
	struct hk *hk = arg;
	const struct discover_ops *d = &timer_discover_ops[hk->e->mode.discover];
	struct timespec cpu;

	prctl(PR_SET_TIMERSLACK, 1UL);
	hk->next_periodic = now_ns();
	pthread_mutex_lock(&hk->lock);
	while (!__atomic_load_n(&hk->stop, __ATOMIC_RELAXED)) {
		uint64_t now, wake, next;

		if (expire_one(hk))
			continue;
		now = now_ns();
		wake = heap_wake(hk);
		pthread_mutex_unlock(&hk->lock);
		next = d->step(hk, now, wake);
		pthread_mutex_lock(&hk->lock);
		wake = heap_wake(hk);
		if (next < wake)
			wake = next;
		if (hk->look_at && hk->look_at <= now_ns())
			hk->look_at = 0;	/* passed: the look is in the heap, or was not armed */
		if (hk->look_at && hk->look_at < wake)
			wake = hk->look_at;
		if (wake <= now_ns()) {
			/* due (or spinning): look again, letting others take the lock */
			pthread_mutex_unlock(&hk->lock);
			__builtin_ia32_pause();
			pthread_mutex_lock(&hk->lock);
		} else {
			sleep_until(hk, wake);	/* UINT64_MAX: until something is armed */
		}
	}
	pthread_mutex_unlock(&hk->lock);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	hk->cpu_ns = cpu.tv_sec * 1000000000ULL + cpu.tv_nsec;
	return NULL;
}

struct hk *hk_create(struct timer_engine *e)
{
	struct hk *hk = calloc(1, sizeof(*hk));

	if (!hk)
		return NULL;
	hk->e = e;
	atomic_init(&hk->pred_next, UINT64_MAX);
	/* the floor is the preset's period until a wake-up's cost is measured */
	hk->scan_ns = hk->scan_low = hk->scan_floor = e->mode.scan_ns;
	hk->advance_max = HK_ADVANCE_MAX_NS * e->host_khz / 1000000;
	hk->advance_auto = e->advance_ns < 0;
	hk->advance = (hk->advance_auto ? HK_ADVANCE_INIT_NS : (uint64_t)e->advance_ns) *
		      e->host_khz / 1000000;
	if (hk->advance > hk->advance_max)
		hk->advance_max = hk->advance;	/* a fixed advance is waited out whole */
	hk->heap = calloc(e->vm->nr_vcpus, sizeof(*hk->heap));
	if (!hk->heap) {
		free(hk);
		return NULL;
	}
	hk->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (hk->tfd < 0) {
		vt_err("cannot create the housekeeping thread's timerfd: %s", strerror(errno));
		free(hk->heap);
		free(hk);
		return NULL;
	}
	pthread_mutex_init(&hk->lock, NULL);
	return hk;
}

int hk_start(struct hk *hk)
{
	if (pthread_create(&hk->thread, NULL, hk_thread, hk)) {
		vt_err("cannot start the housekeeping thread");
		return -1;
	}
	hk->started = true;
	if (hk->e->hk_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(hk->e->hk_cpu, &set);
		if (pthread_setaffinity_np(hk->thread, sizeof(set), &set))
			vt_err("--housekeeping-cpu=%d: cannot pin there; running unpinned",
			       hk->e->hk_cpu);
	}
	return 0;
}

void hk_stop(struct hk *hk)
{
	if (!hk->started)
		return;
	__atomic_store_n(&hk->stop, true, __ATOMIC_RELAXED);
	pthread_mutex_lock(&hk->lock);
	tfd_arm(hk, 1);		/* long past: a sleeping thread wakes now */
	pthread_mutex_unlock(&hk->lock);
	pthread_join(hk->thread, NULL);
	hk->started = false;
}

void hk_free(struct hk *hk)
{
	if (!hk)
		return;
	close(hk->tfd);
	free(hk->heap);
	free(hk);
}

struct vcpu_timer *hk_peek(struct hk *hk)
{
	struct vcpu_timer *t;

	pthread_mutex_lock(&hk->lock);
	t = hk->n ? hk->heap[0] : NULL;
	pthread_mutex_unlock(&hk->lock);
	return t;
}

uint64_t hk_cpu_ns(struct hk *hk) { return hk ? hk->cpu_ns : 0; }

static uint64_t cycles_ns(struct hk *hk, uint64_t c)
{
	return hk && hk->e->host_khz ? c * 1000000 / hk->e->host_khz : 0;
}

uint64_t hk_advance_ns(struct hk *hk) { return hk ? cycles_ns(hk, hk->advance) : 0; }
uint64_t hk_spin_ns(struct hk *hk) { return hk ? cycles_ns(hk, hk->spin_cycles) : 0; }
uint64_t hk_scans(struct hk *hk) { return hk ? hk->scans : 0; }

void hk_predicted(struct hk *hk, uint64_t *scans, uint64_t *found)
{
	*scans = hk ? hk->pred_scans : 0;
	*found = hk ? hk->pred_found : 0;
}

void hk_scan_period(struct hk *hk, uint64_t *now_ns, uint64_t *low_ns, uint64_t *floor_ns)
{
	*now_ns = hk ? hk->scan_ns : 0;
	*low_ns = hk ? hk->scan_low : 0;
	*floor_ns = hk ? hk->scan_floor : 0;
}

/*
 * heap_lead in ns. A deadline a scan finds later than that before it is
 * still served at its deadline, but without the pre-wake kick: the
 * predicted scans come this much earlier (vtimer.c, predict_scan).
 */
uint64_t hk_wake_lead_ns(struct hk *hk)
{
	return hk ? cycles_ns(hk, heap_lead(hk)) : 0;
}

uint64_t hk_vwake_ns(struct hk *hk)
{
	return hk ? cycles_ns(hk, atomic_load_explicit(&hk->vwake, memory_order_relaxed)) : 0;
}
