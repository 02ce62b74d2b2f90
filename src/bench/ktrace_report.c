// SPDX-License-Identifier: MIT
/*
 * The kvm tracepoint count (kvm/ktrace.h) in the report: one line of counts,
 * one cross-check line, and the JSON's "ktrace" object.
 *
 * The sources do not cover the same span. The guest counts its
 * exit-causing operations inside its measured window only; the VMM and the
 * tracepoints count the whole run (boot, the window, the end), so the
 * guest's figure is at most the tracepoints' unless an operation did not
 * exit at all (x2APIC EOI/ICR virtualized by APICv, an MSR KVM hands to user
 * space, which kvm_msr does not see). Only the VMM's user-space exits and
 * kvm_userspace_exit cover the same events and must agree.
 */
#include <string.h>

#include "ktrace_report.h"

static const char *const msr_names[KT_MSRS] = { "0x6e0", "0x80b", "0x830", "other" };

static unsigned long long u(uint64_t v)
{
	return v;
}

static bool has(const struct ktrace_result *k, enum ktrace_event ev)
{
	return k->events & (1u << ev);
}

static void counts_line(const struct ktrace_result *k, FILE *f)
{
	const struct ktrace_counts *c = &k->c;

	fprintf(f, "kvm tracepoints (%s, whole run): msr_write", k->hist ? "hist" : "trace buffer");
	for (int i = 0; i < KT_MSRS; i++)
		fprintf(f, " %s=%llu", msr_names[i], u(c->msr_write[i]));
	fprintf(f, ", msr_read=%llu, userspace_exit=%llu (io=%llu wrmsr=%llu rdmsr=%llu other=%llu; interrupted=%llu), pio=%llu, inj_virq=%llu (+%llu soft int)",
		u(c->msr_read), u(ktrace_uexits(c)), u(c->uexit[KT_UX_IO]),
		u(c->uexit[KT_UX_WRMSR]), u(c->uexit[KT_UX_RDMSR]), u(c->uexit[KT_UX_OTHER]),
		u(c->uexit[KT_UX_INTR]), u(c->pio), u(c->inj_virq), u(c->inj_soft));
	if (has(k, KT_EV_EXIT))
		fprintf(f, ", exit=%llu (hlt=%llu)", u(c->exit), u(c->exit_hlt));
	if (has(k, KT_EV_PV_EOI))
		fprintf(f, ", pv_eoi=%llu", u(c->pv_eoi));
	fprintf(f, ", lost=%llu%s\n", u(c->lost), c->lost ? " (the buffer overran: counts low)" : "");
}

/* Guest (window) / tracepoints (run), and the VMM's exits against kvm_userspace_exit. */
static void cross_line(const struct run_report *r, FILE *f)
{
	const struct ktrace_counts *c = &r->ktrace.c;
	const struct vtimer_counters *g = &r->total.c;
	uint64_t ux = ktrace_uexits(c);

	fprintf(f, "cross-check");
	if (!r->cfg.kernel) {
		fprintf(f, " guest (window) / tracepoints (run): wrmsr 0x6e0 %llu/%llu 0x80b %llu/%llu 0x830 %llu/%llu other %llu/%llu (+%llu wrmsr exits to user space), hlt %llu/",
			u(g->op_wrmsr_deadline), u(c->msr_write[KT_MSR_DEADLINE]),
			u(g->op_wrmsr_eoi), u(c->msr_write[KT_MSR_EOI]),
			u(g->op_wrmsr_icr), u(c->msr_write[KT_MSR_ICR]),
			u(g->op_wrmsr_other), u(c->msr_write[KT_MSR_OTHER]),
			u(c->uexit[KT_UX_WRMSR]), u(g->op_hlt));
		if (has(&r->ktrace, KT_EV_EXIT))
			fprintf(f, "%llu", u(c->exit_hlt));
		else
			fprintf(f, "-");
		fprintf(f, " (kvm halt_exits %llu), pio %llu/%llu;", u(stat_total(r, "halt_exits")),
			u(g->op_pio), u(c->pio));
	}
	fprintf(f, " userspace exits VMM/tracepoints %llu/%llu (%s)\n", u(r->total.exits_total),
		u(ux), ux == r->total.exits_total ? "agree" : c->lost ? "differ: events lost" :
		"DIFFER");
}

void report_ktrace(const struct run_report *r, FILE *f)
{
	const struct ktrace_result *k = &r->ktrace;

	if (k->state == KTRACE_STATE_OFF)
		return;
	if (k->state == KTRACE_STATE_UNAVAILABLE) {
		fprintf(f, "kvm tracepoints: unavailable (%s)\n", k->why);
		return;
	}
	counts_line(k, f);
	cross_line(r, f);
}

static json_t *msr_json(const struct ktrace_counts *c)
{
	json_t *o = json_object();

	for (int i = 0; i < KT_MSRS; i++)
		json_object_set_new(o, msr_names[i], json_integer(c->msr_write[i]));
	return o;
}

static json_t *uexit_json(const struct ktrace_counts *c)
{
	return json_pack("{sI sI sI sI sI sI}", "total", (json_int_t)ktrace_uexits(c),
			 "io", (json_int_t)c->uexit[KT_UX_IO],
			 "wrmsr", (json_int_t)c->uexit[KT_UX_WRMSR],
			 "rdmsr", (json_int_t)c->uexit[KT_UX_RDMSR],
			 "other", (json_int_t)c->uexit[KT_UX_OTHER],
			 "interrupted", (json_int_t)c->uexit[KT_UX_INTR]);
}

/* Events this kernel lacks are null, not 0. */
static json_t *opt_int(const struct ktrace_result *k, enum ktrace_event ev, uint64_t v)
{
	return has(k, ev) ? json_integer(v) : json_null();
}

json_t *ktrace_json(const struct run_report *r)
{
	static const char *const states[] = { "off", "unavailable", "ok" };
	const struct ktrace_result *k = &r->ktrace;
	const struct ktrace_counts *c = &k->c;
	json_t *o = json_pack("{ss}", "state", states[k->state]);

	if (k->state == KTRACE_STATE_UNAVAILABLE)
		json_object_set_new(o, "reason", json_string(k->why));
	if (k->state != KTRACE_STATE_OK)
		return o;
	json_object_set_new(o, "method", json_string(k->hist ? "hist" : "trace"));
	json_object_set_new(o, "scope", json_string("run"));
	json_object_set_new(o, "msr_write", msr_json(c));
	json_object_set_new(o, "msr_read", json_integer(c->msr_read));
	json_object_set_new(o, "userspace_exit", uexit_json(c));
	json_object_set_new(o, "pio", json_integer(c->pio));
	json_object_set_new(o, "inj_virq", json_integer(c->inj_virq));
	json_object_set_new(o, "inj_soft", json_integer(c->inj_soft));
	json_object_set_new(o, "exit", opt_int(k, KT_EV_EXIT, c->exit));
	json_object_set_new(o, "exit_hlt", opt_int(k, KT_EV_EXIT, c->exit_hlt));
	json_object_set_new(o, "pv_eoi", opt_int(k, KT_EV_PV_EOI, c->pv_eoi));
	json_object_set_new(o, "lost", json_integer(c->lost));
	return o;
}
