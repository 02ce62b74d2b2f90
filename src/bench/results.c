// SPDX-License-Identifier: MIT
/*
 * The vtimer guest's boot record and result areas. The host lays them out
 * and keeps its own copy of the boot record; after the run it reads the
 * guest's result records and samples only where that copy says, never where
 * guest memory (which the guest may have rewritten) says. Every count read
 * from guest memory is bounded by the host's copy; every address is computed
 * with overflow checks and looked up with vm_gpa_elem(). The ucall port
 * (ucall_io) reads only the calling vCPU's own slot.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"
#include "../util.h"

/* a * b + c without wrapping; false if it would. */
static bool mul_add(uint64_t a, uint64_t b, uint64_t c, uint64_t *out)
{
	uint64_t p;

	return !__builtin_mul_overflow(a, b, &p) && !__builtin_add_overflow(p, c, out);
}

int boot_layout_check(const struct vtimer_boot *b, uint64_t mem_size)
{
	uint64_t res_end, row, smp_end;

	if (!b->nr_cpus || b->nr_cpus > VTIMER_MAX_VCPUS || !b->samples_per_cpu)
		return -1;
	if (!mul_add(b->nr_cpus, sizeof(struct vtimer_result), b->results_gpa, &res_end) ||
	    !mul_add(b->samples_per_cpu, sizeof(int64_t), 0, &row) ||
	    !mul_add(b->nr_cpus, row, b->samples_gpa, &smp_end))
		return -1;
	if (res_end > mem_size || smp_end > mem_size)
		return -1;
	if (res_end > b->samples_gpa && smp_end > b->results_gpa)
		return -1;	/* the two areas overlap */
	return 0;
}

int boot_layout(struct vm *vm, const struct run_config *cfg, struct vtimer_boot *b)
{
	/* tick: one or two ticks per event (workloads.c), each a sample;
	 * cyclic: each wake-up and its interrupt (abi.h, VTIMER_NO_IRQ_SAMPLE) */
	uint64_t per = (cfg->count ? cfg->count : 1) *
		       (cfg->workload == VTIMER_WL_TICK || cfg->workload == VTIMER_WL_CYCLIC ? 2 : 1);
	uint64_t res = (vm->image_end + 4095) & ~4095ULL;
	uint64_t smp = (res + vm->nr_vcpus * sizeof(struct vtimer_result) + 4095) & ~4095ULL;
	struct vtimer_boot *gb = vm_gpa(vm, VTIMER_GPA_BOOT, sizeof(*gb));

	*b = (struct vtimer_boot){
		.magic = VTIMER_BOOT_MAGIC, .version = VTIMER_ABI_VERSION,
		.nr_cpus = vm->nr_vcpus, .mem_size = vm->mem_size, .tsc_khz = vm->tsc_khz,
		.apic_bus_hz = 1000000000,	/* KVM's default APIC bus: 1 ns per cycle */
		.workload = cfg->workload, .lapic_mode = cfg->lapic, .wait = cfg->wait,
		.count = cfg->count, .interval_ns = cfg->interval_ns, .tick_ns = cfg->tick_ns,
		.phase_ns = cfg->phase_ns,
		.results_gpa = res, .samples_gpa = smp, .samples_per_cpu = per,
		.attacks = cfg->attacks ? cfg->attacks : VTIMER_ATTACK_ALL,
		/* the engine's MSR filter sends both to user space (engine_host.c) */
		.user_msrs = timer_deliver_ops[cfg->mode.deliver].vm_ops ?
			     VTIMER_USER_DEADLINE | VTIMER_USER_PV : 0,
		.pv_window_ns = timer_discover_ops[cfg->mode.discover].window_ns(&cfg->mode),
	};
	if (!gb || boot_layout_check(b, vm->mem_size) < 0) {
		vt_err("--count=%u with %d vCPUs needs more guest memory than --mem=%llu MiB",
		       cfg->count, vm->nr_vcpus, (unsigned long long)vm->mem_size >> 20);
		return -1;
	}
	memcpy(gb, b, sizeof(*b));
	return 0;
}

/* Where a row's interrupt samples start (cyclic: its second half), else its length. */
static uint64_t irq_row(const struct vtimer_boot *b)
{
	return b->workload == VTIMER_WL_CYCLIC ? b->samples_per_cpu / 2 : b->samples_per_cpu;
}

bool guest_result_read(struct vm *vm, const struct vtimer_boot *b, uint32_t cpu,
		       struct vtimer_result *res, const int64_t **samples)
{
	const struct vtimer_result *gr;

	memset(res, 0, sizeof(*res));
	*samples = NULL;
	if (cpu >= b->nr_cpus)
		return false;
	gr = vm_gpa_elem(vm, b->results_gpa, cpu, sizeof(*res), sizeof(*res));
	*samples = vm_gpa_elem(vm, b->samples_gpa, cpu, b->samples_per_cpu * sizeof(int64_t),
			       b->samples_per_cpu * sizeof(int64_t));
	if (!gr || !*samples)
		return false;
	memcpy(res, gr, sizeof(*res));	/* one snapshot: the guest may keep writing */
	if (res->version != VTIMER_ABI_VERSION || res->cpu != cpu) {
		memset(res, 0, sizeof(*res));
		return false;
	}
	if (res->nr_samples > irq_row(b))
		res->nr_samples = irq_row(b);
	return true;
}

/* A guest TSC value d relative to now, for the post-mortem. */
static void live_tsc(FILE *f, const char *name, uint64_t d, uint64_t now, uint64_t khz)
{
	fprintf(f, ", %s ", name);
	if (!d)
		fprintf(f, "none");
	else if (now && khz)
		fprintf(f, "%" PRIu64 " (%+.1f us)", d, tsc_to_ns((int64_t)(d - now), khz) / 1e3);
	else
		fprintf(f, "%" PRIu64, d);
}

void guest_live_describe(struct vcpu *v, uint64_t guest_tsc, FILE *f, void *arg)
{
	const struct vtimer_boot *b = arg;
	static const char *const states[] = { "not started", "running", "done", "failed" };
	struct vtimer_result res;
	const int64_t *s;
	uint64_t khz = v->vm->tsc_khz;

	fprintf(f, "  vCPU %d guest: ", v->id);
	if (!guest_result_read(v->vm, b, v->id, &res, &s)) {
		fprintf(f, "no result record\n");
		return;
	}
	fprintf(f, "%s, %" PRIu64 " interrupts, %" PRIu64 " events",
		res.state < 4 ? states[res.state] : "state ?", res.c.interrupts, res.c.events);
	live_tsc(f, "last timer interrupt", res.live.last_irq, guest_tsc, khz);
	fprintf(f, "; as it last went idle");
	live_tsc(f, "programmed", res.live.programmed, guest_tsc, khz);
	live_tsc(f, "queue head", res.live.head, guest_tsc, khz);
	fprintf(f, ", stale owed %" PRIu64 "\n", res.live.stale_owed);
}

/* Ucall port: the guest names its own slot; anything else is refused. */
int ucall_io(struct vcpu *vcpu, uint16_t port, bool out, int size, uint8_t *data,
		    void *opaque)
{
	struct vm *vm = vcpu->vm;
	struct ucall_state *rs = opaque;
	struct vtimer_ucall u, *gu;
	uint32_t slot = 0;

	(void)port;
	if (!out || size != 4) {
		memset(data, 0xff, size);
		return 0;
	}
	memcpy(&slot, data, 4);
	gu = vm_gpa_elem(vm, VTIMER_GPA_UCALL, slot, sizeof(u), sizeof(u));
	if (slot != (uint32_t)vcpu->id || slot >= VTIMER_MAX_VCPUS || !gu) {
		vm_fail(vm, VT_FAIL_GUEST_ABORT, "vCPU %d: ucall names slot %u", vcpu->id, slot);
		return -1;
	}
	memcpy(&u, gu, sizeof(u));	/* one snapshot: the guest may keep writing */
	u.msg[VTIMER_UCALL_MSG - 1] = 0;
	for (char *p = u.msg; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	if (u.version != VTIMER_ABI_VERSION) {
		vm_fail(vm, VT_FAIL_GUEST_ABORT, "vCPU %d: ucall ABI version %u, want %u", vcpu->id,
			u.version, VTIMER_ABI_VERSION);
		return -1;
	}
	switch (u.cmd) {
	case VTIMER_UCALL_DONE: {
		bool all;
		int status;

		pthread_mutex_lock(&vm->lock);
		if (!vcpu->done) {
			vcpu->done = true;
			rs->done++;
			if (u.arg[0] > (uint64_t)rs->guest_status)
				rs->guest_status = u.arg[0] > 63 ? 63 : (int)u.arg[0];
		}
		all = rs->done == vm->nr_vcpus;
		status = rs->guest_status;
		pthread_mutex_unlock(&vm->lock);
		if (all)
			vm_stop(vm, status, NULL);
		return 0;
	}
	case VTIMER_UCALL_SYNC:
		return 0;
	case VTIMER_UCALL_ABORT:
		vm_fail(vm, VT_FAIL_GUEST_ABORT, "guest vCPU %d aborted: %s", vcpu->id, u.msg);
		return -1;
	}
	vm_fail(vm, VT_FAIL_GUEST_ABORT, "vCPU %d: unknown ucall %u", vcpu->id, u.cmd);
	return -1;
}

/* What the host saw of vCPU i: exits by reason, KVM's stats, the timer engine. */
static void collect_host(struct run_report *r, struct vm *vm, const struct timer_engine *eng,
			 int i)
{
	struct vcpu_report *v = &r->v[i];

	memcpy(v->exits, vm->vcpus[i].exits, sizeof(v->exits));
	v->exits_total = vm->vcpus[i].exits_total;
	v->guard_kicks = vm->vcpus[i].guard_kicks;
	/* Always allocated: a vCPU whose stats fd failed reports zeros. */
	v->kvm_stats = calloc(r->nr_stats + 1, sizeof(uint64_t));
	if (v->kvm_stats && vm->vcpus[i].stats.fd >= 0 && vm->vcpus[i].stats.n == r->nr_stats)
		kvm_stats_read(&vm->vcpus[i].stats, v->kvm_stats);
	if (eng->vt)
		v->host = eng->vt[i].st;
}

/*
 * cyclic: the interrupt's lateness beside each wake-up's, and the guest's
 * path from one to the other. Only pairs where the interrupt came at or
 * after the deadline and before the wake count (guest data: anything else
 * is not the interrupt that woke the task). *n counts the pairs.
 */
static void collect_irq(const int64_t *wake, const int64_t *irq, uint64_t nr, uint64_t khz,
			int64_t *irq_ns, int64_t *path_ns, size_t *n)
{
	for (uint64_t k = 0; k < nr; k++) {
		if (irq[k] == VTIMER_NO_IRQ_SAMPLE || irq[k] < 0 || irq[k] > wake[k])
			continue;
		irq_ns[*n] = tsc_to_ns(irq[k], khz);
		path_ns[*n] = tsc_to_ns(wake[k] - irq[k], khz);
		(*n)++;
	}
}

static void collect_vcpu(struct run_report *r, const struct vtimer_boot *b, struct vm *vm,
			 int i, int64_t *all, size_t *nall, int64_t *irq, int64_t *path,
			 size_t *nirq)
{
	struct vcpu_report *v = &r->v[i];
	struct vtimer_result res;
	const int64_t *s;
	size_t n0 = *nirq;

	guest_result_read(vm, b, i, &res, &s);
	v->c = res.c;
	v->state = res.state;
	v->anomaly = res.anomaly;
	/* The measured window, as the guest stamped it (bounded: guest data). */
	if (res.tsc_end > res.tsc_start && vm->tsc_khz)
		v->window_s = (double)(res.tsc_end - res.tsc_start) / (vm->tsc_khz * 1e3);
	v->due_margin_ns = tsc_to_ns(res.due_margin > INT64_MAX ? INT64_MAX : res.due_margin,
				     vm->tsc_khz);
	if (r->cfg.workload != VTIMER_WL_MASKED) {
		if (v->c.events < r->cfg.count)
			v->c.lost += r->cfg.count - v->c.events;
		for (uint64_t k = 0; k < res.nr_samples; k++) {
			all[*nall + k] = tsc_to_ns(s[k], vm->tsc_khz);
			if (s[k] < 0)
				v->c.early++;
		}
		if (b->workload == VTIMER_WL_CYCLIC && s) {
			collect_irq(s, s + irq_row(b), res.nr_samples, vm->tsc_khz, irq, path, nirq);
			stats_compute(irq + n0, *nirq - n0, &v->irq);
			stats_compute(path + n0, *nirq - n0, &v->path);
		}
		stats_compute(all + *nall, res.nr_samples, &v->lat);
		*nall += res.nr_samples;
	}
}

/* Counter structs are all-uint64_t: totals are element-wise sums. */
static void add_u64s(void *dst, const void *src, size_t size)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

	for (size_t k = 0; k < size / sizeof(uint64_t); k++)
		d[k] += s[k];
}

static void stat_names_copy(struct run_report *r, struct vm *vm)
{
	struct kvm_stats *st = &vm->vcpus[0].stats;

	r->nr_stats = st->fd >= 0 ? st->n : 0;
	r->stat_names = calloc(r->nr_stats + 1, sizeof(char *));
	for (int i = 0; r->stat_names && i < r->nr_stats; i++)
		r->stat_names[i] = strdup(st->names[i]);
	r->total.kvm_stats = calloc(r->nr_stats + 1, sizeof(uint64_t));
}

static void add_total(struct run_report *r, const struct vcpu_report *v)
{
	add_u64s(&r->total.host, &v->host, sizeof(v->host));
	add_u64s(&r->total.c, &v->c, sizeof(v->c));
	if (v->due_margin_ns > r->total.due_margin_ns)
		r->total.due_margin_ns = v->due_margin_ns;
	add_u64s(r->total.exits, v->exits, sizeof(v->exits));
	r->total.exits_total += v->exits_total;
	r->total.guard_kicks += v->guard_kicks;
	for (int k = 0; v->kvm_stats && r->total.kvm_stats && k < r->nr_stats; k++)
		r->total.kvm_stats[k] += v->kvm_stats[k];
}

/*
 * Workload rates: the vCPUs' completed transactions (rr) and work units
 * (throughput) over the longest measured window among the vCPUs that did
 * them (the pair or the CPUs ran side by side).
 */
static void rates(struct run_report *r)
{
	double wt = 0, ww = 0;

	for (int i = 0; i < r->nr; i++) {
		const struct vcpu_report *v = &r->v[i];

		if (v->c.transactions && v->window_s > wt)
			wt = v->window_s;
		if (v->c.work_units && v->window_s > ww)
			ww = v->window_s;
	}
	r->transactions_per_s = wt > 0 ? r->total.c.transactions / wt : 0;
	r->work_units_per_s = ww > 0 ? r->total.c.work_units / ww : 0;
}

void collect(struct run_report *r, struct vm *vm, const struct timer_engine *eng,
	     const struct vtimer_boot *b)
{
	uint64_t nr_all;
	int64_t *all = NULL, *irq, *path;
	size_t nall = 0, nirq = 0;

	if (r->nr > (int)b->nr_cpus || boot_layout_check(b, vm->mem_size) < 0 ||
	    !mul_add(b->nr_cpus, b->samples_per_cpu, 1, &nr_all) || nr_all > SIZE_MAX)
		return;		/* not a layout the host made: read nothing */
	all = calloc(nr_all, sizeof(int64_t));
	irq = calloc(nr_all, sizeof(int64_t));
	path = calloc(nr_all, sizeof(int64_t));
	if (!all || !irq || !path) {
		free(all);
		free(irq);
		free(path);
		return;
	}
	stat_names_copy(r, vm);
	for (int i = 0; i < r->nr; i++) {
		collect_vcpu(r, b, vm, i, all, &nall, irq, path, &nirq);
		collect_host(r, vm, eng, i);
		add_total(r, &r->v[i]);
	}
	stats_compute(all, nall, &r->total.lat);
	stats_compute(irq, nirq, &r->total.irq);
	stats_compute(path, nirq, &r->total.path);
	free(irq);
	free(path);
	r->samples_ns = all;	/* sorted: the plots' distribution */
	r->nr_samples = nall;
	rates(r);
}

void collect_kernel(struct run_report *r, struct vm *vm, const struct timer_engine *eng)
{
	stat_names_copy(r, vm);
	for (int i = 0; i < r->nr; i++) {
		collect_host(r, vm, eng, i);
		add_total(r, &r->v[i]);
	}
}
