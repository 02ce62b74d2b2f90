// SPDX-License-Identifier: MIT
/*
 * vtimer bench: the timer modes side by side in one run, one fresh VM per
 * (preset, workload) cell, same guest, same counts. Prints one table (also
 * as Markdown with --markdown) and writes every run to --json.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../bench/engine_bench.h"
#include "../bench/runner.h"
#include "../outfile.h"
#include "../util.h"

#define MAX_CELLS 64

static const char bench_help[] =
"usage: vtimer bench [options]\n"
"       vtimer bench engine [--quick]   the timer engine alone, no KVM: cost per\n"
"                                       operation for 1..1024 simulated vCPUs\n"
"  --timers=A,B,...      presets (default: kvm,exitless,lazy,pvtimer,hybrid,apicv-model)\n"
"  --workloads=A,B,...   workloads (default: cyclic,latency)\n"
"  --vcpus=N --count=N --interval=US --tick=US   as for vtimer run\n"
"  --json=FILE           every run, in vtimer run's JSON format\n"
"  --markdown=FILE       the table as Markdown\n";

static const struct option bench_opts[] = {
	{ "timers", 1, 0, 't' }, { "workloads", 1, 0, 'w' }, { "vcpus", 1, 0, 'v' },
	{ "count", 1, 0, 'c' }, { "interval", 1, 0, 'i' }, { "tick", 1, 0, 'k' },
	{ "json", 1, 0, 'j' }, { "markdown", 1, 0, 'm' }, { "help", 0, 0, 'h' }, { 0 },
};

static double per(uint64_t a, uint64_t b)
{
	return b ? (double)a / b : 0;
}

static void table(const struct run_report *r, int n, FILE *f, bool md)
{
	const char *sep = md ? " | " : "  ";

	if (md)
		fprintf(f, "| timer | workload | events | user exits/ev | kvm exits/ev | msr writes/deadline | p50 us | p99 us | max us | hk cpu %% | status |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
	else
		fprintf(f, "%-12s %-8s %7s %10s %10s %10s %8s %8s %8s %7s %s\n", "timer", "workload",
			"events", "uexit/ev", "kvmexit/ev", "msr/dl", "p50_us", "p99_us", "max_us",
			"hk_cpu%", "status");
	for (int i = 0; i < n; i++) {
		const struct run_report *x = &r[i];
		const struct vcpu_report *t = &x->total;
		double hk = x->wall_s > 0 ? x->hk_cpu_ns / 1e7 / x->wall_s : 0;

		if (md)
			fprintf(f, "| %s | %s | %llu | %.3f | %.3f | %.4f | %.1f | %.1f | %.1f | %.1f | %d |\n",
				x->cfg.mode.preset, workload_name(x->cfg.workload),
				(unsigned long long)t->c.events, per(t->exits_total, t->c.events),
				per(stat_total(x, "exits"), t->c.events),
				per(t->c.msr_writes, t->c.deadlines), t->lat.p50 / 1e3,
				t->lat.p99 / 1e3, t->lat.max / 1e3, hk, x->status);
		else
			fprintf(f, "%-12s %-8s %7llu %10.3f %10.3f %10.4f %8.1f %8.1f %8.1f %7.1f %d%s%s\n",
				x->cfg.mode.preset, workload_name(x->cfg.workload),
				(unsigned long long)t->c.events, per(t->exits_total, t->c.events),
				per(stat_total(x, "exits"), t->c.events),
				per(t->c.msr_writes, t->c.deadlines), t->lat.p50 / 1e3,
				t->lat.p99 / 1e3, t->lat.max / 1e3, hk, x->status,
				x->error[0] ? sep : "", x->error);
	}
}

/* Splits a comma list into at most max items (pointers into s). */
static int split(char *s, char **out, int max)
{
	int n = 0;

	for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
		out[n++] = tok;
	return n;
}

static int cmd_bench_engine(int argc, char **argv)
{
	bool quick = false;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			quick = true;
		} else {
			vt_err("bench engine: unknown argument '%s' (only --quick)", argv[i]);
			return VT_EXIT_SETUP;
		}
	}
	return bench_engine(stdout, quick) < 0 ? VT_EXIT_SETUP : 0;
}

int cmd_bench(int argc, char **argv)
{
	char timers_buf[256] = "kvm,exitless,lazy,pvtimer,hybrid,apicv-model";
	char wl_buf[128] = "cyclic,latency";
	const char *json = NULL, *md = NULL;
	struct run_config base = {
		.vcpus = 2, .count = 500, .interval_ns = 1000000, .tick_ns = 4000000,
		.mem_size = 128 << 20, .lapic = VTIMER_LAPIC_DEADLINE, .hk_cpu = -1, .pin = -1,
		.timer_floor_ns = TIMER_FLOOR_DEFAULT_NS,
	};
	char *timers[16], *wls[8];
	struct run_report *r;
	struct outfile jf = { 0 }, mf = { 0 };
	unsigned long long v;
	int o, nt, nw, n = 0, status = 0;

	if (argc > 1 && !strcmp(argv[1], "engine"))
		return cmd_bench_engine(argc, argv);
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", bench_opts, NULL)) != -1) {
		int e = 0;

		switch (o) {
		case 't': snprintf(timers_buf, sizeof(timers_buf), "%s", optarg); break;
		case 'w': snprintf(wl_buf, sizeof(wl_buf), "%s", optarg); break;
		case 'v': e = parse_u64("vcpus", optarg, 1, VTIMER_MAX_VCPUS, &v); base.vcpus = v; break;
		case 'c': e = parse_u64("count", optarg, 1, 1000000, &v); base.count = v; break;
		case 'i': e = parse_u64("interval", optarg, 10, 10000000, &v); base.interval_ns = v * 1000; break;
		case 'k': e = parse_u64("tick", optarg, 0, 1000000, &v); base.tick_ns = v * 1000; break;
		case 'j': json = optarg; break;
		case 'm': md = optarg; break;
		case 'h': fputs(bench_help, stdout); return 0;
		case ':': vt_err("option %s needs a value", argv[optind - 1]); return VT_EXIT_SETUP;
		default:
			vt_err("unknown option '%s' (try: vtimer bench --help)", argv[optind - 1]);
			return VT_EXIT_SETUP;
		}
		if (e < 0)
			return VT_EXIT_SETUP;
	}
	if (optind < argc) {
		vt_err("unexpected argument '%s'", argv[optind]);
		return VT_EXIT_SETUP;
	}
	nt = split(timers_buf, timers, 16);
	nw = split(wl_buf, wls, 8);
	for (int i = 0; i < nt; i++)
		if (timer_mode_preset(timers[i], &base.mode) < 0)
			return VT_EXIT_SETUP;
	for (int k = 0; k < nw; k++)
		if (strcmp(wls[k], "cyclic") && strcmp(wls[k], "latency")) {
			vt_err("--workloads: bench runs cyclic and latency, not '%s'", wls[k]);
			return VT_EXIT_SETUP;
		}
	if (!nt || !nw || nt * nw > MAX_CELLS) {
		vt_err("bench needs 1..%d (timer, workload) cells", MAX_CELLS);
		return VT_EXIT_SETUP;
	}
	base.guest = default_guest_path();
	base.console = "/dev/null";
	r = calloc(nt * nw, sizeof(*r));
	if (!r || (json && outfile_open(&jf, "json", json) < 0) ||
	    (md && outfile_open(&mf, "markdown", md) < 0)) {
		outfile_discard(&jf);
		free(r);
		return VT_EXIT_SETUP;	/* refused before any run, the files untouched */
	}
	vm_catch_stop_signals();
	for (int k = 0; k < nw && !vm_stop_signal(); k++)
		for (int i = 0; i < nt && !vm_stop_signal(); i++) {
			struct run_config c = base;

			timer_mode_preset(timers[i], &c.mode);
			c.workload = strcmp(wls[k], "cyclic") ? VTIMER_WL_LATENCY : VTIMER_WL_CYCLIC;
			fprintf(stderr, "vtimer: bench %s %s ...\n", timers[i], wls[k]);
			if (run_once(&c, &r[n]) && !status)
				status = r[n].status;
			n++;
		}
	if (vm_stop_signal())
		status = VT_EXIT_SIGNAL;	/* the table has the runs done so far */
	printf("vtimer bench: vcpus=%d count=%u interval=%lluus tick=%lluus (host: see vtimer probe)\n",
	       base.vcpus, base.count, (unsigned long long)base.interval_ns / 1000,
	       (unsigned long long)base.tick_ns / 1000);
	table(r, n, stdout, false);
	if (mf.f)
		table(r, n, mf.f, true);
	if (outfile_commit(&mf) < 0 ||
	    (jf.f && (report_json_write(r, n, jf.f) < 0 || outfile_commit(&jf) < 0)))
		status = VT_EXIT_SETUP;
	outfile_discard(&jf);
	for (int i = 0; i < n; i++)
		report_free(&r[i]);
	free(r);
	return status;
}
