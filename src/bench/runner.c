// SPDX-License-Identifier: MIT
/*
 * One run: create the machine, lay out the guest's boot record and result
 * areas, run it, then read back and validate what the guest wrote.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"
#include "../util.h"

struct run_state {
	int done;
	int guest_status;
};

/* Ucall port: the guest names its own slot; anything else is refused. */
static int ucall_io(struct vcpu *vcpu, uint16_t port, bool out, int size, uint8_t *data,
		    void *opaque)
{
	struct vm *vm = vcpu->vm;
	struct run_state *rs = opaque;
	struct vtimer_ucall u, *gu;
	uint32_t slot = 0;

	(void)port;
	if (!out || size != 4) {
		memset(data, 0xff, size);
		return 0;
	}
	memcpy(&slot, data, 4);
	gu = vm_gpa(vm, VTIMER_GPA_UCALL + (uint64_t)slot * sizeof(u), sizeof(u));
	if (slot != (uint32_t)vcpu->id || !gu) {
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
	case VTIMER_UCALL_DONE:
		pthread_mutex_lock(&vm->lock);
		if (!vcpu->done) {
			vcpu->done = true;
			rs->done++;
			if (u.arg[0] > (uint64_t)rs->guest_status)
				rs->guest_status = u.arg[0] > 63 ? 63 : (int)u.arg[0];
		}
		pthread_mutex_unlock(&vm->lock);
		if (rs->done == vm->nr_vcpus)
			vm_stop(vm, rs->guest_status, NULL);
		return 0;
	case VTIMER_UCALL_SYNC:
		return 0;
	case VTIMER_UCALL_ABORT:
		vm_fail(vm, VT_FAIL_GUEST_ABORT, "guest vCPU %d aborted: %s", vcpu->id, u.msg);
		return -1;
	}
	vm_fail(vm, VT_FAIL_GUEST_ABORT, "vCPU %d: unknown ucall %u", vcpu->id, u.cmd);
	return -1;
}

static int layout(struct vm *vm, const struct run_config *cfg, struct vtimer_boot *b)
{
	uint64_t per = cfg->count ? cfg->count : 1;
	uint64_t res = (vm->image_end + 4095) & ~4095ULL;
	uint64_t smp = (res + vm->nr_vcpus * sizeof(struct vtimer_result) + 4095) & ~4095ULL;
	uint64_t end = smp + (uint64_t)vm->nr_vcpus * per * sizeof(int64_t);
	struct vtimer_boot *gb = vm_gpa(vm, VTIMER_GPA_BOOT, sizeof(*gb));

	if (end > vm->mem_size) {
		vt_err("--count=%u with %d vCPUs needs %llu MiB of guest memory: raise --mem",
		       cfg->count, vm->nr_vcpus, (unsigned long long)(end >> 20) + 1);
		return -1;
	}
	*b = (struct vtimer_boot){
		.magic = VTIMER_BOOT_MAGIC, .version = VTIMER_ABI_VERSION,
		.nr_cpus = vm->nr_vcpus, .mem_size = vm->mem_size, .tsc_khz = vm->tsc_khz,
		.apic_bus_hz = 1000000000,	/* KVM's default APIC bus: 1 ns per cycle */
		.workload = cfg->workload, .lapic_mode = cfg->lapic, .wait = cfg->wait,
		.count = cfg->count, .interval_ns = cfg->interval_ns, .tick_ns = cfg->tick_ns,
		.results_gpa = res, .samples_gpa = smp, .samples_per_cpu = per,
	};
	memcpy(gb, b, sizeof(*b));
	return 0;
}

static int load_guest(struct vm *vm, const struct run_config *cfg)
{
	const char *path = cfg->kernel ? cfg->kernel : cfg->guest;
	size_t size;
	void *img = read_file(path, &size);
	int r;

	if (!img)
		return -1;
	if (cfg->kernel)
		r = load_multiboot(vm, img, size, path, cfg->append ? cfg->append : "");
	else
		r = load_vtimer_image(vm, img, size, path);
	free(img);
	return r;
}

/* Reads one vCPU's record and samples; never trusts a guest count. */
static void collect_vcpu(struct run_report *r, const struct vtimer_boot *b, struct vm *vm,
			 int i, int64_t *all, size_t *nall)
{
	struct vcpu_report *v = &r->v[i];
	struct vtimer_result res;
	int64_t *s = vm_gpa(vm, b->samples_gpa + i * b->samples_per_cpu * 8,
			    b->samples_per_cpu * 8);
	uint64_t n;

	memcpy(&res, vm_gpa(vm, b->results_gpa + i * sizeof(res), sizeof(res)), sizeof(res));
	memcpy(v->exits, vm->vcpus[i].exits, sizeof(v->exits));
	v->exits_total = vm->vcpus[i].exits_total;
	if (res.version != VTIMER_ABI_VERSION || res.cpu != (uint32_t)i)
		memset(&res, 0, sizeof(res));
	v->c = res.c;
	v->state = res.state;
	v->due_margin_ns = tsc_to_ns(res.due_margin, vm->tsc_khz);
	n = res.nr_samples < b->samples_per_cpu ? res.nr_samples : b->samples_per_cpu;
	if (r->cfg.workload != VTIMER_WL_MASKED) {
		if (v->c.events < r->cfg.count)
			v->c.lost += r->cfg.count - v->c.events;
		for (uint64_t k = 0; k < n; k++) {
			all[*nall + k] = tsc_to_ns(s[k], vm->tsc_khz);
			if (s[k] < 0)
				v->c.early++;
		}
		stats_compute(all + *nall, n, &v->lat);
		*nall += n;
	}
	/* Always allocated: a vCPU whose stats fd failed reports zeros. */
	v->kvm_stats = calloc(r->nr_stats + 1, sizeof(uint64_t));
	if (v->kvm_stats && vm->vcpus[i].stats.fd >= 0 && vm->vcpus[i].stats.n == r->nr_stats)
		kvm_stats_read(&vm->vcpus[i].stats, v->kvm_stats);
}

/* Counter structs are all-uint64_t: totals are element-wise sums. */
static void add_u64s(void *dst, const void *src, size_t size)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

	for (size_t k = 0; k < size / sizeof(uint64_t); k++)
		d[k] += s[k];
}

static void collect(struct run_report *r, struct vm *vm, struct timer_engine *eng)
{
	struct vtimer_boot *b = vm_gpa(vm, VTIMER_GPA_BOOT, sizeof(*b));
	struct kvm_stats *st = &vm->vcpus[0].stats;
	int64_t *all = calloc((size_t)vm->nr_vcpus * b->samples_per_cpu + 1, sizeof(int64_t));
	size_t nall = 0;

	r->nr_stats = st->fd >= 0 ? st->n : 0;
	r->stat_names = calloc(r->nr_stats + 1, sizeof(char *));
	for (int i = 0; i < r->nr_stats; i++)
		r->stat_names[i] = strdup(st->names[i]);
	r->total.kvm_stats = calloc(r->nr_stats + 1, sizeof(uint64_t));
	for (int i = 0; i < r->nr; i++) {
		struct vcpu_report *v = &r->v[i];

		collect_vcpu(r, b, vm, i, all, &nall);
		if (eng->vt)
			v->host = eng->vt[i].st;
		add_u64s(&r->total.host, &v->host, sizeof(v->host));
		add_u64s(&r->total.c, &v->c, sizeof(v->c));
		if (v->due_margin_ns > r->total.due_margin_ns)
			r->total.due_margin_ns = v->due_margin_ns;
		add_u64s(r->total.exits, v->exits, sizeof(v->exits));
		r->total.exits_total += v->exits_total;
		for (int k = 0; v->kvm_stats && k < r->nr_stats; k++)
			r->total.kvm_stats[k] += v->kvm_stats[k];
	}
	stats_compute(all, nall, &r->total.lat);
	free(all);
}

/*
 * CPU placement. With a housekeeping thread and fewer vCPUs than host CPUs
 * (or --pin), the vCPUs are pinned to CPUs 0..n-2 and the housekeeping thread
 * to CPU n-1, so it has a CPU of its own; --housekeeping-cpu overrides.
 * Returns the housekeeping CPU (-1 = none) and sets *vcpu_cpus (0 = unpinned).
 */
static int placement(const struct run_config *cfg, int *vcpu_cpus)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	bool hk = cfg->mode.deliver == DELIVER_HOUSEKEEPING || cfg->mode.discover != DISCOVER_EXIT;
	bool pin = cfg->pin > 0 || (cfg->pin < 0 && hk && cfg->vcpus < n);

	*vcpu_cpus = 0;
	if (!pin || n < 2)
		return cfg->hk_cpu;
	*vcpu_cpus = hk ? n - 1 : n;
	if (cfg->hk_cpu >= 0)
		return cfg->hk_cpu;
	return hk ? (int)(n - 1) : -1;
}

static unsigned int default_timeout(const struct run_config *cfg)
{
	/* Emulated CPL0 costs ~1 ms per timer event on a PVM host: be generous. */
	uint64_t ns = (uint64_t)cfg->count * (2 * cfg->interval_ns + 2000000);

	return 30 + ns / 1000000000ULL;
}

int run_once(const struct run_config *cfg, struct run_report *r)
{
	struct vm_config vc = { cfg->vcpus, cfg->mem_size, NULL, 0 };
	int hk_cpu = placement(cfg, &vc.pin_cpus);
	struct run_state rs = { 0 };
	struct vtimer_boot b;
	FILE *con = NULL;
	struct timer_engine eng = { 0 };
	struct vm vm;
	uint64_t t0;

	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	r->status = VT_EXIT_SETUP;
	if (cfg->console && !(con = fopen(cfg->console, "w"))) {
		vt_err("--console=%s: cannot open for writing", cfg->console);
		return r->status;
	}
	vc.console = con;
	if (vm_create(&vm, &vc) < 0 || serial_init(&vm) < 0 || debug_exit_init(&vm) < 0 ||
	    vm_add_pio(&vm, VTIMER_PORT_UCALL, 4, ucall_io, &rs) < 0 || load_guest(&vm, cfg) < 0)
		goto out;
	if (cfg->kernel) {
		if (fwcfg_init(&vm) < 0)
			goto out;
	} else if (layout(&vm, cfg, &b) < 0) {
		goto out;
	}
	if (!cfg->kernel && timer_engine_init(&eng, &vm, &cfg->mode, hk_cpu) < 0)
		goto out;
	r->engine = eng.vt != NULL;
	r->look_ns = eng.look_ns;
	r->hk_cpu = eng.hk ? hk_cpu : -1;
	r->tsc_khz = vm.tsc_khz;
	r->nr = vm.nr_vcpus;
	r->v = calloc(r->nr, sizeof(*r->v));
	t0 = now_ns();
	vm.deadline_ns = t0 + (uint64_t)(cfg->timeout_s ? cfg->timeout_s :
					 default_timeout(cfg)) * 1000000000ULL;
	if (timer_engine_start(&eng) == 0)
		vm_run(&vm);
	else
		vm_fail(&vm, VT_FAIL_SETUP, "timer engine did not start");
	timer_engine_stop(&eng);
	r->wall_s = (now_ns() - t0) / 1e9;
	r->hk_cpu_ns = hk_cpu_ns(eng.hk);
	r->hk_scans = hk_scans(eng.hk);
	r->status = vm.exit_status;
	snprintf(r->error, sizeof(r->error), "%s", vm.error);
	if (!cfg->kernel)
		collect(r, &vm, &eng);
out:
	timer_engine_free(&eng);
	vm_destroy(&vm);
	if (con)
		fclose(con);
	return r->status;
}
