// SPDX-License-Identifier: MIT
/* Human table and JSON (jansson) from the same run_report. The JSON field
 * names are a contract read by tests and users' scripts (README.md). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ktrace_report.h"
#include "report.h"
#include "../outfile.h"
#include "../util.h"

const char *workload_name(enum vtimer_workload w)
{
	switch (w) {
	case VTIMER_WL_CYCLIC: return "cyclic";
	case VTIMER_WL_LATENCY: return "latency";
	case VTIMER_WL_MASKED: return "masked";
	case VTIMER_WL_SWITCH: return "switch";
	case VTIMER_WL_ABI: return "abi";
	case VTIMER_WL_HOSTILE: return "hostile";
	case VTIMER_WL_CRASH: return "crash";
	case VTIMER_WL_RR: return "rr";
	case VTIMER_WL_TICK: return "tick";
	case VTIMER_WL_THROUGHPUT: return "throughput";
	}
	return "?";
}

const char *lapic_mode_name(enum vtimer_lapic_mode m)
{
	switch (m) {
	case VTIMER_LAPIC_DEADLINE: return "tsc-deadline";
	case VTIMER_LAPIC_ONESHOT: return "oneshot";
	case VTIMER_LAPIC_PERIODIC: return "periodic";
	}
	return "?";
}

/* Exits by reasons without a name of their own, all reported as "other". */
static uint64_t exits_other(const struct vcpu_report *v)
{
	uint64_t n = v->exits[VM_EXIT_REASONS];

	for (int i = 0; i < VM_EXIT_REASONS; i++)
		if (!strcmp(exit_reason_name(i), "other"))
			n += v->exits[i];
	return n;
}

static void row(FILE *f, const char *who, const struct vcpu_report *v)
{
	fprintf(f, "%-6s %9llu %9llu %9llu %6llu %5llu %9llu %9lld %9lld %9lld %9lld\n", who,
		(unsigned long long)v->c.deadlines, (unsigned long long)v->c.msr_writes,
		(unsigned long long)v->c.interrupts, (unsigned long long)v->c.early,
		(unsigned long long)v->c.lost, (unsigned long long)v->exits_total,
		(long long)v->lat.min, (long long)v->lat.p50, (long long)v->lat.p99,
		(long long)v->lat.max);
}

uint64_t stat_total(const struct run_report *r, const char *name)
{
	for (int i = 0; i < r->nr_stats; i++)
		if (!strcmp(r->stat_names[i], name))
			return r->total.kvm_stats[i];
	return 0;
}

static void report_host(const struct run_report *r, FILE *f);

/* " cpu=+a,-b" when --cpu changed anything, else "". */
static const char *cpu_note(const struct run_config *c, char *buf, size_t len)
{
	char flags[256];

	cpu_flags_format(&c->cpu, flags, sizeof(flags));
	snprintf(buf, len, "%s%s", flags[0] ? " cpu=" : "", flags);
	return buf;
}

/* What the kernel printed in kvm-unit-tests' shape (kout.h), if it did. */
static void report_kout(const struct kout_result *k, uint64_t tsc_khz, FILE *f)
{
	const struct kout_summary *s = &k->summary;

	if (k->lat.n || k->dropped)
		fprintf(f, "kernel latency: %llu lines (TSC cycles at %llu kHz, as ns): min %lld avg %.0f p50 %lld p99 %lld max %lld ns, early %llu, dropped %llu\n",
			(unsigned long long)k->lat.n, (unsigned long long)tsc_khz,
			(long long)k->lat.min, k->lat.avg, (long long)k->lat.p50,
			(long long)k->lat.p99, (long long)k->lat.max,
			(unsigned long long)k->early, (unsigned long long)k->dropped);
	if (s->seen)
		fprintf(f, "kernel summary: %u tests, %u unexpected failures, %u expected failures, %u skipped\n",
			s->tests, s->failures, s->xfailures, s->skipped);
}

static json_t *kout_json(const struct kout_result *k)
{
	const struct kout_summary *s = &k->summary;
	json_t *o = json_object();

	if (k->lat.n || k->dropped)
		json_object_set_new(o, "latency", json_pack("{s:I,s:I,s:f,s:I,s:I,s:I,s:I,s:I}",
			"n", (json_int_t)k->lat.n, "min_ns", (json_int_t)k->lat.min,
			"avg_ns", k->lat.avg, "p50_ns", (json_int_t)k->lat.p50,
			"p99_ns", (json_int_t)k->lat.p99, "max_ns", (json_int_t)k->lat.max,
			"early", (json_int_t)k->early, "dropped", (json_int_t)k->dropped));
	if (s->seen)
		json_object_set_new(o, "summary", json_pack("{s:I,s:I,s:I,s:I}",
			"tests", (json_int_t)s->tests, "failures", (json_int_t)s->failures,
			"expected_failures", (json_int_t)s->xfailures,
			"skipped", (json_int_t)s->skipped));
	return o;
}

/* A multiboot kernel: no guest counters, only what the host saw. */
static void report_kernel_table(const struct run_report *r, FILE *f)
{
	const struct run_config *c = &r->cfg;

	char cpu[272];

	fprintf(f, "timer=%s (program=%s discover=%s deliver=%s) kernel=%s vcpus=%d%s\n",
		c->mode.preset, timer_program_name(c->mode.program),
		timer_discover_name(c->mode.discover), timer_deliver_name(c->mode.deliver),
		c->kernel, c->vcpus, cpu_note(c, cpu, sizeof(cpu)));
	report_kout(&r->kout, r->tsc_khz, f);
	report_host(r, f);
}

/* The guest's exit-causing operations (abi.h op_*), in its measured window. */
static void report_ops(const struct run_report *r, FILE *f)
{
	const struct vtimer_counters *k = &r->total.c;
	uint64_t all = k->op_wrmsr_deadline + k->op_wrmsr_eoi + k->op_wrmsr_icr +
		       k->op_wrmsr_other + k->op_hlt + k->op_pio;

	fprintf(f, "exit-causing ops (guest): wrmsr tsc-deadline=%llu eoi=%llu icr=%llu other=%llu hlt=%llu pio=%llu, of them in user space %llu; %.3f per event\n",
		(unsigned long long)k->op_wrmsr_deadline, (unsigned long long)k->op_wrmsr_eoi,
		(unsigned long long)k->op_wrmsr_icr, (unsigned long long)k->op_wrmsr_other,
		(unsigned long long)k->op_hlt, (unsigned long long)k->op_pio,
		(unsigned long long)k->op_user, k->events ? (double)all / k->events : 0.0);
	if (k->pv_eoi_cpus)
		fprintf(f, "KVM PV EOI: on in %llu of %d vCPUs; %llu of %llu EOIs without a write\n",
			(unsigned long long)k->pv_eoi_cpus, r->nr, (unsigned long long)k->pv_eoi,
			(unsigned long long)(k->pv_eoi + k->op_wrmsr_eoi));
	else
		fprintf(f, "KVM PV EOI: off (not offered in CPUID, or --cpu=-kvm-pv-eoi)\n");
}

void report_table(const struct run_report *r, FILE *f)
{
	const struct run_config *c = &r->cfg;
	char name[16], cpu[272];

	if (c->kernel) {
		report_kernel_table(r, f);
		return;
	}
	fprintf(f, "timer=%s (program=%s discover=%s deliver=%s) workload=%s lapic=%s vcpus=%d count=%u interval=%lluus%s%s\n",
		c->mode.preset, timer_program_name(c->mode.program),
		timer_discover_name(c->mode.discover), timer_deliver_name(c->mode.deliver),
		workload_name(c->workload), lapic_mode_name(c->lapic), c->vcpus, c->count,
		(unsigned long long)c->interval_ns / 1000, cpu_note(c, cpu, sizeof(cpu)),
		c->sched_fifo ? " sched=fifo" : "");
	fprintf(f, "%-6s %9s %9s %9s %6s %5s %9s %9s %9s %9s %9s\n", "vcpu", "deadlines",
		"msr_wr", "irqs", "early", "lost", "uexits", "min_ns", "p50_ns", "p99_ns",
		"max_ns");
	for (int i = 0; i < r->nr; i++) {
		snprintf(name, sizeof(name), "%d", i);
		row(f, name, &r->v[i]);
	}
	row(f, "total", &r->total);
	fprintf(f, "guest: due at program (no write)=%llu stale=%llu unexpected=%llu expired sleeps=%llu due margin=%.1f us\n",
		(unsigned long long)r->total.c.due_at_program,
		(unsigned long long)r->total.c.stale, (unsigned long long)r->total.c.unexpected,
		(unsigned long long)r->total.c.expired_sleeps, r->total.due_margin_ns / 1e3);
	if (r->total.c.halt_shadow_breaks)
		fprintf(f, "host broke sti's interrupt shadow %llu times: an interrupt came between sti and hlt (the guest skipped that hlt)\n",
			(unsigned long long)r->total.c.halt_shadow_breaks);
	report_ops(r, f);
	if (c->workload == VTIMER_WL_RR)
		fprintf(f, "rr: %llu transactions, %.0f/s (samples above: round-trip times), %llu retransmits, %llu wake-up IPIs\n",
			(unsigned long long)r->total.c.transactions, r->transactions_per_s,
			(unsigned long long)r->total.c.retransmits,
			(unsigned long long)r->total.c.ipis);
	if (c->workload == VTIMER_WL_CYCLIC && r->total.lat.n)
		fprintf(f, "cyclic wake-up, split at the interrupt (%llu of %llu wake-ups had theirs): interrupt p50 %.1f us, then the guest's path to the task p50 %.1f us\n",
			(unsigned long long)r->total.irq.n, (unsigned long long)r->total.lat.n,
			r->total.irq.p50 / 1e3, r->total.path.p50 / 1e3);
	if (c->workload == VTIMER_WL_THROUGHPUT)
		fprintf(f, "throughput: %llu work units, %.0f/s at CPL3 under the timer load\n",
			(unsigned long long)r->total.c.work_units, r->work_units_per_s);
	if (r->total.c.hostile_writes)
		fprintf(f, "hostile: %llu adversarial writes, %llu #GP, %llu timer interrupts meanwhile; host: pv #GP=%llu bad lvtt=%llu dropped=%llu inject errors=%llu\n",
			(unsigned long long)r->total.c.hostile_writes,
			(unsigned long long)r->total.c.hostile_gp,
			(unsigned long long)r->total.c.hostile_irqs,
			(unsigned long long)r->total.host.pv_gp,
			(unsigned long long)r->total.host.bad_lvtt,
			(unsigned long long)r->total.host.dropped,
			(unsigned long long)r->total.host.inject_errors);
	report_host(r, f);
}

/* Exits, KVM's stats and the engine's counters: the same for every guest. */
static void report_host(const struct run_report *r, FILE *f)
{
	if (r->total.guard_kicks)
		fprintf(f, "wake guard: %llu kicks of a vCPU %.0f ms in KVM_RUN (machine.h: a host may lose a halted vCPU's wake-up)\n",
			(unsigned long long)r->total.guard_kicks, VM_WAKE_GUARD_NS / 1e6);
	fprintf(f, "userspace exits by reason:");
	for (int i = 0; i < VM_EXIT_REASONS; i++)
		if (r->total.exits[i] && strcmp(exit_reason_name(i), "other"))
			fprintf(f, " %s=%llu", exit_reason_name(i),
				(unsigned long long)r->total.exits[i]);
	if (exits_other(&r->total))
		fprintf(f, " other=%llu", (unsigned long long)exits_other(&r->total));
	fprintf(f, "\n");
	for (int i = 0; i < r->nr_stats; i++)
		if (!strcmp(r->stat_names[i], "exits") || !strcmp(r->stat_names[i], "halt_exits") ||
		    !strcmp(r->stat_names[i], "irq_exits"))
			fprintf(f, "kvm %s=%llu ", r->stat_names[i],
				(unsigned long long)r->total.kvm_stats[i]);
	if (r->engine) {
		const struct timer_stats *h = &r->total.host;

		fprintf(f, "\nhost engine: msr exits=%llu injections=%llu timer expiries=%llu (floored %llu) re-armed without exit=%llu dropped=%llu discovered=%llu looks=%llu kicks=%llu scans=%llu housekeeping cpu=%.1f ms (%.1f%% of wall)",
			(unsigned long long)h->msr_exits, (unsigned long long)h->injections,
			(unsigned long long)h->fired, (unsigned long long)h->floored,
			(unsigned long long)h->rearms, (unsigned long long)h->dropped,
			(unsigned long long)h->discovered, (unsigned long long)h->looks,
			(unsigned long long)h->kicks,
			(unsigned long long)r->hk_scans, r->hk_cpu_ns / 1e6,
			r->wall_s > 0 ? r->hk_cpu_ns / 1e7 / r->wall_s : 0.0);
		if (r->hk_cpu_ns)
			fprintf(f, "\nhousekeeping timer advance=%.1f us (%s), spent waiting it out=%.1f ms",
				r->hk_advance_ns / 1e3,
				r->cfg.tuning.advance_ns < 0 ? "self-tuned" : "fixed",
				r->hk_spin_ns / 1e6);
		if (r->scan_auto)
			fprintf(f, "\nscan period (auto): %.0f us at the end, lowest %.0f us, floor %.0f us (preset %.0f us); near-horizon exits=%llu",
				r->hk_scan_ns / 1e3, r->hk_scan_low_ns / 1e3,
				r->hk_scan_floor_ns / 1e3, r->cfg.mode.scan_ns / 1e3,
				(unsigned long long)h->near_exits);
		if (r->look_ns) {
			fprintf(f, "\nlook-ahead (%s): %llu looks, %llu found a deadline before the horizon + margin",
				r->cfg.tuning.look_fixed ? "on" : "auto",
				(unsigned long long)h->looks, (unsigned long long)h->look_saves);
			if (!r->cfg.tuning.look_fixed)
				fprintf(f, "; on in %llu of %llu windows of %d injections",
					(unsigned long long)h->look_windows_on,
					(unsigned long long)h->look_windows, LOOK_DECIDE);
		}
		if (!r->cfg.tuning.predict_off && r->cfg.mode.discover == DISCOVER_SCAN)
			fprintf(f, "\npredicted scans: %llu predicted after injections, %llu made, %llu deadlines found new there",
				(unsigned long long)h->predicted, (unsigned long long)r->hk_pred_scans,
				(unsigned long long)r->hk_pred_found);
		if (h->idle_looks || h->idle_halt_errors)
			fprintf(f, "\nidle looks: %llu deadline writes made with the hlt (one exit for two)%s",
				(unsigned long long)h->idle_looks,
				h->idle_halt_errors ? ", KVM_SET_MP_STATE failed for some: not halted" : "");
		if (h->prewakes)
			fprintf(f, "\npre-wake: %llu halted vCPUs kicked ahead of their injection, vCPU wake-up %.1f us (tuned); %llu injected by the kicked vCPU thread, which waited %.1f ms for the deadlines",
				(unsigned long long)h->prewakes, r->hk_vwake_ns / 1e3,
				(unsigned long long)h->prewake_injections, h->prewake_wait_ns / 1e6);
		fprintf(f, "\nstorm limits: floor %.0f us, share %s%.3g%% of a CPU per vCPU; expiry time %.2f ms (%.1f us per expiry), throttled %llu",
			r->cfg.tuning.floor_ns / 1e3, r->cfg.tuning.share_ppm ? "" : "none, ",
			r->cfg.tuning.share_ppm / 1e4, h->expire_ns / 1e6,
			h->fired ? h->expire_ns / 1e3 / h->fired : 0.0,
			(unsigned long long)h->throttled);
		if (!r->cfg.kernel)
			fprintf(f, "\nguest pv writes (no exit)=%llu; deadline writes with the page on: fell due while programming=%llu, before horizon + margin=%llu (of both, made as idle looks: %llu)",
				(unsigned long long)r->total.c.pv_writes,
				(unsigned long long)r->total.c.pv_exit_passed,
				(unsigned long long)r->total.c.pv_exit_near,
				(unsigned long long)r->total.c.pv_idle_looks);
		if (h->tsc_writes)
			fprintf(f, "\nguest writes of IA32_TSC/IA32_TSC_ADJUST (offset re-read)=%llu",
				(unsigned long long)h->tsc_writes);
		if (h->tsc_moves)
			fprintf(f, "\nTSC offset moved by KVM itself (unstable host TSC; re-read, timers re-armed)=%llu",
				(unsigned long long)h->tsc_moves);
		if (h->inject_errors)
			fprintf(f, "\nhost engine: %llu interrupt injections FAILED (KVM_SIGNAL_MSI): the guest lost them",
				(unsigned long long)h->inject_errors);
	}
	fprintf(f, "\n");
	report_ktrace(r, f);
	if (r->total.c.events)
		fprintf(f, "per timer event: userspace exits %.3f, kvm exits %.3f, msr writes %.3f",
			(double)r->total.exits_total / r->total.c.events,
			(double)stat_total(r, "exits") / r->total.c.events,
			(double)r->total.c.msr_writes / r->total.c.events);
	fprintf(f, "%swall %.2f s, exit status %d%s%s\n", r->total.c.events ? "\n" : "",
		r->wall_s, r->status,
		r->error[0] ? ": " : "", r->error);
}

static json_t *counters_json(const struct vtimer_counters *c)
{
	json_t *o = json_object();

#define COUNTER_JSON(f, name) json_object_set_new(o, name, json_integer((json_int_t)c->f));
	if (o) {
		VTIMER_COUNTERS(COUNTER_JSON)
	}
#undef COUNTER_JSON
	return o;
}

static json_t *host_json(const struct timer_stats *h)
{
	return json_pack("{sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI sI}",
			 "msr_exits", (json_int_t)h->msr_exits,
			 "pv_msr_writes", (json_int_t)h->pv_msr_writes,
			 "pv_gp", (json_int_t)h->pv_gp,
			 "injections", (json_int_t)h->injections,
			 "inject_errors", (json_int_t)h->inject_errors,
			 "rearms_without_exit", (json_int_t)h->rearms,
			 "dropped", (json_int_t)h->dropped,
			 "discovered", (json_int_t)h->discovered,
			 "kicks", (json_int_t)h->kicks,
			 "looks", (json_int_t)h->looks,
			 "look_saves", (json_int_t)h->look_saves,
			 "look_windows", (json_int_t)h->look_windows,
			 "look_windows_on", (json_int_t)h->look_windows_on,
			 "prewakes", (json_int_t)h->prewakes,
			 "prewake_injections", (json_int_t)h->prewake_injections,
			 "prewake_wait_ns", (json_int_t)h->prewake_wait_ns,
			 "near_exits", (json_int_t)h->near_exits,
			 "predicted", (json_int_t)h->predicted,
			 "idle_looks", (json_int_t)h->idle_looks,
			 "idle_halt_errors", (json_int_t)h->idle_halt_errors,
			 "bad_lvtt", (json_int_t)h->bad_lvtt,
			 "fired", (json_int_t)h->fired,
			 "floored", (json_int_t)h->floored,
			 "throttled", (json_int_t)h->throttled,
			 "expire_ns", (json_int_t)h->expire_ns,
			 "tsc_writes", (json_int_t)h->tsc_writes,
			 "tsc_moves", (json_int_t)h->tsc_moves);
}

/* A guest TSC value as ns relative to the anomaly's interrupt, null for none. */
static json_t *anomaly_rel(uint64_t t, uint64_t at, uint64_t khz)
{
	return t && khz ? json_integer(tsc_to_ns((int64_t)(t - at), khz)) : json_null();
}

/* The guest's record of its first early or unexpected interrupt (abi.h). */
static json_t *anomaly_json(const struct vtimer_anomaly *a, uint64_t khz)
{
	return json_pack("{ss so so so so sI sI}",
			 "kind", a->kind == VTIMER_ANOMALY_EARLY ? "early" :
				 a->kind == VTIMER_ANOMALY_UNEXPECTED ? "unexpected" : "?",
			 "programmed_ns", anomaly_rel(a->programmed, a->tsc, khz),
			 "replaced_ns", anomaly_rel(a->prev_programmed, a->tsc, khz),
			 "last_replace_ns", anomaly_rel(a->program_tsc, a->tsc, khz),
			 "prev_irq_ns", anomaly_rel(a->prev_irq, a->tsc, khz),
			 "stale_owed", (json_int_t)a->stale_owed,
			 "interrupts_before", (json_int_t)a->interrupts);
}

static json_t *lat_json(const struct lat_stats *l)
{
	return json_pack("{sI sI sf sI sI sI}", "samples", (json_int_t)l->n,
			 "min", (json_int_t)l->min, "avg", l->avg, "p50", (json_int_t)l->p50,
			 "p99", (json_int_t)l->p99, "max", (json_int_t)l->max);
}

static json_t *vcpu_json(const struct run_report *r, const struct vcpu_report *v)
{
	json_t *exits = json_object(), *stats = json_object(), *j;

	json_object_set_new(exits, "total", json_integer(v->exits_total));
	for (int i = 0; i < VM_EXIT_REASONS; i++)
		if (v->exits[i] && strcmp(exit_reason_name(i), "other"))
			json_object_set_new(exits, exit_reason_name(i), json_integer(v->exits[i]));
	if (exits_other(v))
		json_object_set_new(exits, "other", json_integer(exits_other(v)));
	for (int i = 0; i < r->nr_stats; i++)
		json_object_set_new(stats, r->stat_names[i], json_integer(v->kvm_stats[i]));
	j = json_pack("{so so so so sI so}",
			 "guest", counters_json(&v->c), "host", host_json(&v->host),
			 "exits", exits, "kvm_stats", stats,
			 "due_margin_ns", (json_int_t)v->due_margin_ns,
			 "latency_ns", lat_json(&v->lat));
	if (j)
		json_object_set_new(j, "wake_guard_kicks", json_integer((json_int_t)v->guard_kicks));
	/* cyclic: the wake-up split at the interrupt that woke the task (results.c) */
	if (j && !r->cfg.kernel && r->cfg.workload == VTIMER_WL_CYCLIC) {
		json_object_set_new(j, "irq_latency_ns", lat_json(&v->irq));
		json_object_set_new(j, "wake_path_ns", lat_json(&v->path));
	}
	if (j && v->anomaly.kind)
		json_object_set_new(j, "anomaly", anomaly_json(&v->anomaly, r->tsc_khz));
	if (j && r->cfg.kernel) {
		/* A multiboot kernel keeps no vtimer counters: none are reported. */
		json_object_del(j, "guest");
		json_object_del(j, "due_margin_ns");
		json_object_del(j, "latency_ns");
	}
	return j;
}

static json_t *run_json(const struct run_report *r)
{
	const struct run_config *c = &r->cfg;
	json_t *run = vcpu_json(r, &r->total), *per = json_array(), *hx;

	for (int i = 0; i < r->nr; i++) {
		json_t *v = vcpu_json(r, &r->v[i]);

		json_object_set_new(v, "vcpu", json_integer(i));
		json_array_append_new(per, v);
	}
	json_object_set_new(run, "timer", json_string(c->mode.preset));
	json_object_set_new(run, "program", json_string(timer_program_name(c->mode.program)));
	json_object_set_new(run, "discover", json_string(timer_discover_name(c->mode.discover)));
	json_object_set_new(run, "deliver", json_string(timer_deliver_name(c->mode.deliver)));
	if (c->kernel) {
		json_object_set_new(run, "workload", json_string("kernel"));
		json_object_set_new(run, "kernel", json_string(c->kernel));
		json_object_set_new(run, "kernel_output", kout_json(&r->kout));
		json_object_set_new(run, "vcpus", json_integer(c->vcpus));
	} else {
		json_object_set_new(run, "workload", json_string(workload_name(c->workload)));
		json_object_set_new(run, "lapic", json_string(lapic_mode_name(c->lapic)));
		json_object_set_new(run, "vcpus", json_integer(c->vcpus));
		json_object_set_new(run, "count", json_integer(c->count));
		json_object_set_new(run, "interval_ns", json_integer(c->interval_ns));
		json_object_set_new(run, "tick_ns", json_integer(c->tick_ns));
		if (c->workload == VTIMER_WL_CYCLIC && c->phase_ns != VTIMER_PHASE_NONE)
			json_object_set_new(run, "phase_ns", json_integer(c->phase_ns));
		if (c->workload == VTIMER_WL_LATENCY)	/* bench's latency-busy: "busy" */
			json_object_set_new(run, "wait", json_string(c->wait == VTIMER_WAIT_BUSY ?
								     "busy" : "hlt"));
		if (c->workload == VTIMER_WL_HOSTILE)	/* enum vtimer_attack bits */
			json_object_set_new(run, "attacks",
					    json_integer(c->attacks ? c->attacks : VTIMER_ATTACK_ALL));
	}
	{
		char cpu[256];

		cpu_flags_format(&c->cpu, cpu, sizeof(cpu));
		json_object_set_new(run, "cpu", json_string(cpu));
	}
	json_object_set_new(run, "tsc_khz", json_integer(r->tsc_khz));
	json_object_set_new(run, "status", json_integer(r->status));
	json_object_set_new(run, "error", json_string(r->error));
	if (r->postmortem)
		json_object_set_new(run, "postmortem", json_string(r->postmortem));
	json_object_set_new(run, "wall_s", json_real(r->wall_s));
	json_object_set_new(run, "transactions_per_s", json_real(r->transactions_per_s));
	json_object_set_new(run, "work_units_per_s", json_real(r->work_units_per_s));
	json_object_set_new(run, "scan_ns", json_integer(c->mode.scan_ns));
	json_object_set_new(run, "look_ns", json_integer(r->look_ns));
	json_object_set_new(run, "timer_floor_ns", json_integer(r->cfg.tuning.floor_ns));
	json_object_set_new(run, "timer_share_ppm", json_integer(r->cfg.tuning.share_ppm));
	json_object_set_new(run, "timer_prewake", json_boolean(!r->cfg.tuning.prewake_off));
	json_object_set_new(run, "timer_scan", json_string(r->cfg.tuning.scan_fixed ? "fixed" : "auto"));
	json_object_set_new(run, "timer_predict", json_boolean(!r->cfg.tuning.predict_off));
	json_object_set_new(run, "timer_idle_look", json_boolean(!r->cfg.tuning.idle_off));
	json_object_set_new(run, "timer_look", json_string(r->cfg.tuning.look_fixed ? "on" : "auto"));
	/* as the vCPU threads found it, not as asked */
	json_object_set_new(run, "sched", json_string(r->sched_fifo ? "fifo" : "fair"));
	json_object_set_new(run, "housekeeping_cpu", json_integer(r->hk_cpu));
	hx = json_pack("{sI sI sI sI sI sb sb sI sI sI sI sI}",
		       "housekeeping_cpu_ns", (json_int_t)r->hk_cpu_ns,
		       "scans", (json_int_t)r->hk_scans,
		       "advance_ns", (json_int_t)r->hk_advance_ns,
		       "advance_spin_ns", (json_int_t)r->hk_spin_ns,
		       "prewake_vcpu_wake_ns", (json_int_t)r->hk_vwake_ns,
		       "prewake_in_force", r->prewake,
		       "scan_auto", r->scan_auto,
		       "scan_period_ns", (json_int_t)r->hk_scan_ns,
		       "scan_period_low_ns", (json_int_t)r->hk_scan_low_ns,
		       "scan_period_floor_ns", (json_int_t)r->hk_scan_floor_ns,
		       "predicted_scans", (json_int_t)r->hk_pred_scans,
		       "predicted_scan_found", (json_int_t)r->hk_pred_found);
	json_object_update(json_object_get(run, "host"), hx);	/* copies: hx is ours */
	json_decref(hx);
	json_object_set_new(run, "timer_advance",
			    r->cfg.tuning.advance_ns < 0 ? json_string("auto")
							: json_integer(r->cfg.tuning.advance_ns));
	json_object_set_new(run, "housekeeping_cpu_pct",
			    json_real(r->wall_s > 0 ? r->hk_cpu_ns / 1e7 / r->wall_s : 0));
	json_object_set_new(run, "ktrace", ktrace_json(r));
	json_object_set_new(run, "per_vcpu", per);
	return run;
}

int report_json_write_extra(const struct run_report *r, int n, const char *key, json_t *extra,
			    FILE *f)
{
	json_t *root = json_pack("{si so}", "version", 1, "runs", json_array());
	json_t *runs = json_object_get(root, "runs");
	int ret;

	for (int i = 0; i < n; i++)
		json_array_append_new(runs, run_json(&r[i]));
	if (key && extra)
		json_object_set_new(root, key, extra);
	ret = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return ret ? -1 : 0;
}

int report_json_write(const struct run_report *r, int n, FILE *f)
{
	return report_json_write_extra(r, n, NULL, NULL, f);
}

int report_json(const struct run_report *r, int n, const char *path)
{
	struct outfile o;

	if (outfile_open(&o, "json", path) < 0)
		return -1;
	if (report_json_write(r, n, o.f) < 0) {
		vt_err("cannot write %s", path);
		outfile_discard(&o);
		return -1;
	}
	return outfile_commit(&o);
}

void report_free(struct run_report *r)
{
	for (int i = 0; i < r->nr; i++)
		free(r->v[i].kvm_stats);
	free(r->v);
	free(r->total.kvm_stats);
	for (int i = 0; i < r->nr_stats; i++)
		free(r->stat_names[i]);
	free(r->stat_names);
	free(r->samples_ns);
	free(r->postmortem);
	memset(r, 0, sizeof(*r));
}
