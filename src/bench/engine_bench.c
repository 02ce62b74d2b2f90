// SPDX-License-Identifier: MIT
/*
 * vtimer bench engine: the host timer engine alone, no KVM. N simulated
 * vCPUs each have a PV page and a timer in the housekeeping heap; the
 * engine's own code (vtimer.c, hk.c) runs on one pinned core:
 *   re-arm       vt_arm of an armed timer to a new far deadline (heap move)
 *   arm+cancel   vt_disarm then vt_arm (heap remove, insert)
 *   arm+expire   a due deadline armed, then the housekeeping pass that pops
 *                it, reads `pending` and injects (vt_expire)
 *   scan idle    hk_scan_all over N pages none of which changed
 *   scan changed hk_scan_all over N pages each with a new `pending`
 * Injection is a counting stub: KVM_SIGNAL_MSI's cost is not in these
 * figures. The event-driven paths should cost O(log N) per event; a scan
 * costs O(N) per pass whatever changed, which is what the table shows.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_bench.h"
#include "../machine/machine.h"
#include "../timer/timer.h"
#include "../util.h"

static const int sizes[] = { 1, 4, 16, 64, 256, 1024 };

struct sim {
	struct vm vm;
	struct timer_engine e;
	struct vtimer_pv_page *pages;
	uint64_t injected, rng;
};

static int stub_msi(struct vcpu_timer *vt, struct kvm_msi *msi)
{
	struct sim *s = (struct sim *)vt->vcpu->vm;	/* vm is the first member */

	(void)msi;
	s->injected++;
	return 0;
}

static uint64_t rnd(struct sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static void sim_free(struct sim *s)
{
	if (s->e.hk)
		hk_free(s->e.hk);
	free(s->e.vt);
	free(s->vm.vcpus);
	free(s->pages);
	free(s);
}

static struct sim *sim_new(int n, uint64_t khz)
{
	struct sim *s = calloc(1, sizeof(*s));
	uint64_t far;

	if (!s)
		return NULL;
	s->rng = 0x9e3779b97f4a7c15ULL;
	s->vm.fd = s->vm.kvm_fd = -1;
	s->vm.nr_vcpus = n;
	s->vm.vcpus = calloc(n, sizeof(*s->vm.vcpus));
	s->pages = aligned_alloc(64, n * sizeof(*s->pages));
	s->e = (struct timer_engine){ .vm = &s->vm, .host_khz = khz, .hk_cpu = -1,
				      .signal_msi = stub_msi,
				      .mode = { .program = PROGRAM_PV, .discover = DISCOVER_SCAN,
						.deliver = DELIVER_HOUSEKEEPING } };
	s->e.vt = calloc(n, sizeof(*s->e.vt));
	if (!s->vm.vcpus || !s->pages || !s->e.vt || !(s->e.hk = hk_create(&s->e))) {
		sim_free(s);
		return NULL;
	}
	memset(s->pages, 0, n * sizeof(*s->pages));
	far = rdtsc() + 3600 * khz * 1000;	/* an hour away: never due here */
	for (int i = 0; i < n; i++) {
		struct vcpu_timer *vt = &s->e.vt[i];

		s->vm.vcpus[i] = (struct vcpu){ .vm = &s->vm, .id = i, .fd = -1 };
		s->pages[i].lvtt = 0xec | (2u << 17);	/* vector 0xec, TSC-deadline mode */
		*vt = (struct vcpu_timer){ .eng = &s->e, .vcpu = &s->vm.vcpus[i], .heap_idx = -1,
					   .page = &s->pages[i],
					   .tsc = { .guest_khz = khz, .host_khz = khz,
						    .tsc0 = rdtsc(), .mono0 = now_ns() } };
		pthread_mutex_init(&vt->lock, NULL);
		vt->seen = s->pages[i].pending = far + (uint64_t)i * 1000;
		vt_arm(vt, vt->seen);
	}
	return s;
}

static struct vcpu_timer *pick(struct sim *s)
{
	return &s->e.vt[rnd(s) % (uint64_t)s->vm.nr_vcpus];
}

static uint64_t far_deadline(struct sim *s)
{
	return rdtsc() + 3600 * s->e.host_khz * 1000 + rnd(s) % (1ULL << 32);
}

struct row {
	int n;
	double rearm, cancel, expire;	/* ns per operation */
	double scan_idle, scan_changed;	/* ns per pass */
};

static int measure(int n, uint64_t khz, uint32_t ops, struct row *r)
{
	struct sim *s = sim_new(n, khz);
	uint32_t passes = ops / (uint32_t)n + 8;
	uint64_t t, scan_ns = 0;

	if (!s)
		return -1;
	r->n = n;
	t = now_ns();
	for (uint32_t k = 0; k < ops; k++) {
		struct vcpu_timer *vt = pick(s);

		pthread_mutex_lock(&vt->lock);
		vt_arm(vt, far_deadline(s));
		pthread_mutex_unlock(&vt->lock);
	}
	r->rearm = (double)(now_ns() - t) / ops;

	t = now_ns();
	for (uint32_t k = 0; k < ops; k++) {
		struct vcpu_timer *vt = pick(s);

		pthread_mutex_lock(&vt->lock);
		vt_disarm(vt);
		vt_arm(vt, far_deadline(s));
		pthread_mutex_unlock(&vt->lock);
	}
	r->cancel = (double)(now_ns() - t) / ops;

	t = now_ns();
	for (uint32_t k = 0; k < ops; k++) {
		struct vcpu_timer *vt = pick(s);
		uint64_t due = host_to_guest_tsc(&vt->tsc, rdtsc()) - 1;

		pthread_mutex_lock(&vt->lock);
		vt->page->pending = due;
		vt_arm(vt, due);
		pthread_mutex_unlock(&vt->lock);
		hk_expire_due(s->e.hk);
		/* back to a far timer, outside the timed part's meaning but inside its time */
		pthread_mutex_lock(&vt->lock);
		vt->seen = vt->page->pending = far_deadline(s);
		vt_arm(vt, vt->seen);
		pthread_mutex_unlock(&vt->lock);
	}
	r->expire = (double)(now_ns() - t) / ops;

	t = now_ns();
	for (uint32_t k = 0; k < passes; k++)
		hk_scan_all(s->e.hk, rdtsc());
	r->scan_idle = (double)(now_ns() - t) / passes;

	for (uint32_t k = 0; k < passes; k++) {
		for (int i = 0; i < n; i++)
			s->pages[i].pending = far_deadline(s);
		t = now_ns();
		hk_scan_all(s->e.hk, rdtsc());
		scan_ns += now_ns() - t;
	}
	r->scan_changed = (double)scan_ns / passes;

	/* Every due deadline was injected once: the stub saw exactly ops. */
	uint64_t injected = s->injected;

	sim_free(s);
	if (injected != ops) {
		vt_err("bench engine: %d vCPUs: %llu injections for %u due deadlines", n,
		       (unsigned long long)injected, ops);
		return -1;
	}
	return 0;
}

#define REPEATS 5

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, REPEATS, sizeof(*v), cmp_double);
	return v[REPEATS / 2];
}

/* Each column is the median of REPEATS fresh measurements. */
static int measure_median(int n, uint64_t khz, uint32_t ops, struct row *out)
{
	double col[5][REPEATS];
	struct row r;

	for (int k = 0; k < REPEATS; k++) {
		if (measure(n, khz, ops, &r) < 0)
			return -1;
		col[0][k] = r.rearm;
		col[1][k] = r.cancel;
		col[2][k] = r.expire;
		col[3][k] = r.scan_idle;
		col[4][k] = r.scan_changed;
	}
	*out = (struct row){ n, median(col[0]), median(col[1]), median(col[2]), median(col[3]),
			     median(col[4]) };
	return 0;
}

int bench_engine(FILE *f, bool quick)
{
	uint32_t ops = quick ? 20000 : 200000;
	uint64_t khz = tsc_calibrate_khz(20);
	struct row rows[sizeof(sizes) / sizeof(sizes[0])];
	cpu_set_t one;
	int cpu = sched_getcpu();

	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0)
		cpu = -1;
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (measure_median(sizes[i], khz, ops, &rows[i]) < 0)
			return -1;
	fprintf(f, "vtimer bench engine: the host timer engine alone (no KVM, injection stubbed), %u ops per size, median of %d, %s\n",
		ops, REPEATS, cpu >= 0 ? "one pinned CPU" : "unpinned");
	fprintf(f, "| vCPUs | re-arm ns | arm+cancel ns | arm+expire ns | scan idle ns/pass | scan idle ns/vCPU | scan changed ns/vCPU | arm+expire vs 1 vCPU | scan pass vs 1 vCPU |\n");
	fprintf(f, "|---|---|---|---|---|---|---|---|---|\n");
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const struct row *r = &rows[i];

		fprintf(f, "| %d | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f | %.2fx | %.1fx |\n", r->n,
			r->rearm, r->cancel, r->expire, r->scan_idle, r->scan_idle / r->n,
			r->scan_changed / r->n, r->expire / rows[0].expire,
			r->scan_idle / rows[0].scan_idle);
	}
	fprintf(f, "one core, 1 vCPU: %.2f M re-arms/s, %.2f M arm+cancel/s, %.2f M arm+expire/s\n",
		1e3 / rows[0].rearm, 1e3 / rows[0].cancel, 1e3 / rows[0].expire);
	return 0;
}
