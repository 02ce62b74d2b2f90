// SPDX-License-Identifier: MIT
/*
 * One run: create the machine, lay out the guest's boot record and result
 * areas (results.c), run it, then read back and validate what the guest wrote.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eoiwatch.h"
#include "runner.h"
#include "../outfile.h"
#include "../util.h"

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

/*
 * CPU placement. With a housekeeping thread and fewer vCPUs than host CPUs
 * (or --pin), the vCPUs are pinned to CPUs 0..n-2 and the housekeeping thread
 * to CPU n-1, so it has a CPU of its own; --housekeeping-cpu overrides.
 * Returns the housekeeping CPU (-1 = none) and sets *vcpu_cpus (0 = unpinned).
 */
static int placement(const struct run_config *cfg, int *vcpu_cpus)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	bool hk = timer_mode_needs_hk(&cfg->mode);
	bool pin = cfg->pin > 0 || (cfg->pin < 0 && hk && cfg->vcpus < n);

	*vcpu_cpus = 0;
	if (!pin || n < 2)
		return cfg->hk_cpu;
	*vcpu_cpus = hk ? n - 1 : n;
	if (cfg->hk_cpu >= 0)
		return cfg->hk_cpu;
	return hk ? (int)(n - 1) : -1;
}

/* Seconds; 0 = none. */
static unsigned int default_timeout(const struct run_config *cfg)
{
	uint64_t ns;

	/*
	 * A multiboot kernel's run time is its own (kvm-unit-tests'
	 * tscdeadline_latency takes a minute or more): no timeout unless
	 * --timeout asks for one, as with QEMU.
	 */
	if (cfg->kernel)
		return 0;
	/* Emulated CPL0 costs ~1 ms per timer event on a PVM host: be generous. */
	ns = (uint64_t)cfg->count * (2 * (cfg->workload == VTIMER_WL_TICK ? cfg->tick_ns :
					   cfg->interval_ns) + 2000000);

	return 30 + ns / 1000000000ULL;
}

int run_once(const struct run_config *cfg, struct run_report *r)
{
	struct vm_config vc = { cfg->vcpus, cfg->mem_size, NULL, 0, cfg->cpu };
	int hk_cpu = placement(cfg, &vc.pin_cpus);
	struct ucall_state rs = { 0 };
	struct vtimer_boot b;
	struct outfile con;
	bool ran = false;
	struct timer_engine eng = { 0 };
	struct kout kout = { 0 };
	struct ktrace kt = { 0 };
	struct eoi_watch ew = { 0 };
	struct vm vm;
	uint64_t t0, timeout_s;
	struct sched_param sp_old = { 0 }, sp_fifo = { .sched_priority = 1 };
	int pol_old = -1;

	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	r->status = VT_EXIT_SETUP;
	/*
	 * --sched=fifo: this thread, and so every thread the run starts (vCPUs,
	 * housekeeping: they inherit it), runs SCHED_FIFO at priority 1 until
	 * the run ends. On the PVM host, in the fair class, a vCPU of 2 on 2
	 * CPUs stalled for milliseconds, and not under FIFO (docs/benchmarks.md);
	 * the kernel's RT throttling still leaves other tasks their share if a
	 * guest spins.
	 */
	if (cfg->sched_fifo) {
		pol_old = sched_getscheduler(0);
		if (pol_old < 0 || sched_getparam(0, &sp_old) < 0 ||
		    sched_setscheduler(0, SCHED_FIFO, &sp_fifo) < 0) {
			vt_err("--sched=fifo: cannot run SCHED_FIFO (%s): it needs root or CAP_SYS_NICE",
			       strerror(errno));
			return r->status;
		}
	}
	memset(&con, 0, sizeof(con));
	if (cfg->console && outfile_open(&con, "console", cfg->console) < 0)
		goto sched_back;
	vc.console = con.f;
	if (vm_create(&vm, &vc) < 0 || serial_init(&vm) < 0 || debug_exit_init(&vm) < 0 ||
	    vm_add_pio(&vm, VTIMER_PORT_UCALL, 4, ucall_io, &rs) < 0 || load_guest(&vm, cfg) < 0)
		goto out;
	if (cfg->kernel) {
		vm.console_line = kout_line;
		vm.console_arg = &kout;
		if (fwcfg_init(&vm) < 0 || acpi_init(&vm) < 0 || vm_cpuid_timing_leaf(&vm) < 0)
			goto out;
	} else if (boot_layout(&vm, cfg, &b) < 0) {
		goto out;
	}
	if ((cfg->kernel && timer_mode_check_kernel(&cfg->mode) < 0) ||
	    timer_engine_init(&eng, &vm, &cfg->mode, hk_cpu, &cfg->tuning) < 0)
		goto out;
	/* Before any vCPU thread starts: the instance follows them from their fork. */
	if (ktrace_start(&kt, cfg->ktrace) < 0)
		goto out;	/* --ktrace=on without them: said, exit 64 */
	r->engine = eng.vt != NULL;
	r->look_ns = eng.look_ns;
	r->hk_cpu = eng.hk ? hk_cpu : -1;
	r->tsc_khz = vm.tsc_khz;
	r->nr = vm.nr_vcpus;
	r->v = calloc(r->nr, sizeof(*r->v));
	if (!r->v) {
		r->nr = 0;
		goto out;
	}
	t0 = now_ns();
	timeout_s = cfg->timeout_s ? cfg->timeout_s : default_timeout(cfg);
	vm.deadline_ns = timeout_s ? t0 + timeout_s * 1000000000ULL : 0;
	ran = true;
	if (cfg->watch_pv_eoi && !cfg->kernel &&
	    eoi_watch_start(&ew, &vm, b.results_gpa, vm.nr_vcpus) < 0)
		vt_err("cannot start the PV EOI watcher; the run goes on without it");
	if (timer_engine_start(&eng) == 0)
		vm_run(&vm);
	else
		vm_fail(&vm, VT_FAIL_SETUP, "timer engine did not start");
	r->pv_eoi_watched = ew.started;
	eoi_watch_stop(&ew);
	r->pv_eoi_sets = ew.sets;
	r->pv_eoi_polls = ew.polls;
	r->pv_eoi_words = ew.words;
	/* Before the engine stops: its timers are part of the picture. */
	if (vm.timed_out)
		r->postmortem = vm_postmortem(&vm, cfg->kernel ? NULL : guest_live_describe, &b);
	timer_engine_stop(&eng);
	r->wall_s = (now_ns() - t0) / 1e9;
	ktrace_finish(&kt, &r->ktrace);
	r->hk_cpu_ns = hk_cpu_ns(eng.hk);
	r->hk_scans = hk_scans(eng.hk);
	r->hk_advance_ns = hk_advance_ns(eng.hk);
	r->hk_spin_ns = hk_spin_ns(eng.hk);
	r->hk_vwake_ns = hk_vwake_ns(eng.hk);
	hk_scan_period(eng.hk, &r->hk_scan_ns, &r->hk_scan_low_ns, &r->hk_scan_floor_ns);
	r->scan_auto = eng.scan_auto;
	hk_predicted(eng.hk, &r->hk_pred_scans, &r->hk_pred_found);
	r->prewake = eng.prewake;
	r->sched_fifo = vm.nr_vcpus > 0;
	for (int i = 0; i < vm.nr_vcpus; i++)
		r->sched_fifo &= vm.vcpus[i].sched_policy == SCHED_FIFO;
	r->status = vm.exit_status;
	snprintf(r->error, sizeof(r->error), "%s", vm.error);
	if (cfg->kernel) {
		collect_kernel(r, &vm, &eng);
		kout_finish(&kout, vm.tsc_khz, &r->kout);
	}
	else
		collect(r, &vm, &eng, &b);
out:
	ktrace_remove(&kt);	/* a run that did not finish */
	free(kout.lat);
	timer_engine_free(&eng);
	vm_destroy(&vm);
	/* The console of a run that ran replaces the old file; of one that did not, not. */
	if (ran) {
		if (outfile_commit(&con) < 0 && !r->status)
			r->status = VT_EXIT_SETUP;
	}
	outfile_discard(&con);
sched_back:
	if (pol_old >= 0)
		sched_setscheduler(0, pol_old, &sp_old);
	return r->status;
}
