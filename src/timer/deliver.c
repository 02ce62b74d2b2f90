// SPDX-License-Identifier: MIT
/*
 * The deliver axis as an operation table: where a vCPU's host timer lives
 * and which hooks the vCPU threads run.
 *   kernel       - KVM's in-kernel LAPIC timer: the VMM takes nothing over
 *   vcpu         - a POSIX timer per vCPU signals the vCPU's own thread, which
 *                  leaves KVM_RUN and expires the timer there (a kick)
 *   housekeeping - the housekeeping thread's heap (hk.c); the interrupt is
 *                  injected from there while the vCPU keeps running
 * A new delivery method is one entry here.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>

#include "timer.h"
#include "../machine/machine.h"
#include "../util.h"

/* deliver=vcpu: (re)sets the POSIX timer at vt->host_deadline, or stops it. */
static void ptimer_update(struct vcpu_timer *vt)
{
	struct itimerspec its = { 0 };
	uint64_t mono;

	if (!vt->ptimer_ok)
		return;
	if (vt->host_deadline) {
		mono = host_tsc_to_mono_now(&vt->tsc, vt->host_deadline);
		its.it_value.tv_sec = mono / 1000000000ULL;
		its.it_value.tv_nsec = mono % 1000000000ULL;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timer_settime(vt->ptimer, TIMER_ABSTIME, &its, NULL) < 0)
		vm_fail(vt->vcpu->vm, VT_FAIL_HOST_TIMER, "vCPU %d: timer_settime: %s",
			vt->vcpu->id, strerror(errno));
}

static void hk_timer_update(struct vcpu_timer *vt)
{
	hk_update(vt->eng->hk, vt);
}

/* deliver=vcpu: each vCPU thread creates its POSIX timer, signalling itself. */
static void ptimer_started(struct vcpu *vcpu)
{
	struct timer_engine *e = vcpu->vm->timer;
	struct vcpu_timer *vt = &e->vt[vcpu->id];
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = VM_SIG_KICK,
	};

	sev._sigev_un._tid = gettid();
	pthread_mutex_lock(&vt->lock);
	vt->ptimer_ok = timer_create(CLOCK_MONOTONIC, &sev, &vt->ptimer) == 0;
	if (!vt->ptimer_ok)
		vm_fail(vcpu->vm, VT_FAIL_HOST_TIMER, "vCPU %d: timer_create: %s", vcpu->id,
			strerror(errno));
	pthread_mutex_unlock(&vt->lock);
}

/* deliver=vcpu: the POSIX timer's signal kicked this vCPU out of KVM_RUN. */
void vt_kicked(struct vcpu *vcpu)
{
	struct timer_engine *e = vcpu->vm->timer;
	struct vcpu_timer *vt = &e->vt[vcpu->id];
	uint64_t t0 = rdtsc(), spun = 0, d;

	pthread_mutex_lock(&vt->lock);
	d = vt->host_deadline;
	if (d && d > rdtsc() && d - rdtsc() < vt->tsc.host_khz * 20 / 1000) {
		/*
		 * Within 20 us: the signal came a hair early, finish the wait
		 * here, without the lock. A scan that moved the timer meanwhile
		 * has set the POSIX timer again itself.
		 */
		pthread_mutex_unlock(&vt->lock);
		spun = rdtsc();
		while (rdtsc() < d)
			__builtin_ia32_pause();
		spun = rdtsc() - spun;
		pthread_mutex_lock(&vt->lock);
		if (vt->host_deadline != d)
			d = 0;
	}
	if (d && rdtsc() >= d) {
		vt->st.kicks++;
		vt_expire(vt);
	} else if (d) {
		ptimer_update(vt);	/* woken for something else: keep waiting */
	}
	vt_charge(vt, rdtsc() - t0 - spun);
	pthread_mutex_unlock(&vt->lock);
}

/*
 * deliver=housekeeping with pre-wake (hk.c): the housekeeping thread kicked
 * this halted vCPU ahead of its deadline d and handed the timer over. Wait
 * out d here, running, and inject, so that KVM_RUN finds the interrupt
 * pending instead of a sleeping thread to wake. Only the timer handed over
 * is injected: if the host deadline changed meanwhile (a scan), the new one
 * is in the heap again (hk_update) and the housekeeping thread has it.
 */
static void hk_kicked(struct vcpu *vcpu)
{
	struct vcpu_timer *vt = &vcpu->vm->timer->vt[vcpu->id];
	uint64_t d = atomic_exchange_explicit(&vt->prewake, 0, memory_order_acquire);
	uint64_t now = rdtsc(), t0 = now;

	if (!d)
		return;		/* another kick (stop, wake guard) */
	hk_vwake_sample(vcpu->vm->timer->hk,
			now - atomic_load_explicit(&vt->kick_t, memory_order_relaxed));
	while (now < d) {
		__builtin_ia32_pause();
		now = rdtsc();
	}
	pthread_mutex_lock(&vt->lock);
	vt->st.prewake_wait_ns += (now - t0) * 1000000 / vt->tsc.host_khz;
	if (vt->host_deadline == d && d <= rdtsc()) {
		vt->st.prewake_injections++;
		vt_expire(vt);
	}
	vt_charge(vt, rdtsc() - now + vt->prewake_cost);
	vt->prewake_cost = 0;
	pthread_mutex_unlock(&vt->lock);
}

static const struct vm_timer_ops hk_vm_ops = {
	.wrmsr = vt_wrmsr,
	.rdmsr = vt_rdmsr,
	.exited = vt_exited,
	.kicked = hk_kicked,
	.describe = vt_describe,
};

static const struct vm_timer_ops vcpu_vm_ops = {
	.wrmsr = vt_wrmsr,
	.rdmsr = vt_rdmsr,
	.exited = vt_exited,
	.started = ptimer_started,
	.kicked = vt_kicked,
	.describe = vt_describe,
};

const struct deliver_ops timer_deliver_ops[] = {
	[DELIVER_KERNEL] = { .update = NULL, .vm_ops = NULL, .housekeeping = false },
	[DELIVER_VCPU] = { .update = ptimer_update, .vm_ops = &vcpu_vm_ops },
	[DELIVER_HOUSEKEEPING] = { .update = hk_timer_update, .vm_ops = &hk_vm_ops,
				   .housekeeping = true },
};
