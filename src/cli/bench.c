// SPDX-License-Identifier: MIT
/*
 * vtimer bench: the timer modes side by side in one run, one fresh VM per
 * (preset, workload, repeat), same guest, same counts, interleaved so that
 * machine drift hits every mode alike (bench/bench.h). Prints the series'
 * tables (bench/tables.c); --out=DIR gets results.json (every run, in
 * vtimer run's JSON format), tables.md and the plots (bench/plots.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "../bench/bench.h"
#include "../bench/engine_bench.h"
#include "../bench/runner.h"
#include "../kvm/kvm.h"
#include "../outfile.h"
#include "../util.h"

#define MAX_CELLS 64
#define MAX_REPEAT 15

static const char bench_help[] =
"usage: vtimer bench [options]\n"
"       vtimer bench engine [--quick]   the timer engine alone, no KVM: cost per\n"
"                                       operation for 1..1024 simulated vCPUs\n"
"       vtimer bench host-floor [--interval=US] [--count=N] [--json=FILE]\n"
"                                       the host floor alone, no KVM: cyclictest\n"
"  --quick               every preset on every workload, short counts, 1 repeat\n"
"  --timers=A,B,...      presets (default: kvm,exitless,lazy,pvtimer,hybrid,apicv-model)\n"
"  --workloads=A,B,...   cyclic, latency, latency-busy, rr, tick, throughput\n"
"                        (default: all; rr needs an even --vcpus)\n"
"  --repeat=N            runs per cell, interleaved; medians reported (default 3,\n"
"                        1 with --quick)\n"
"  --vcpus=N --count=N --interval=US --tick=US   as for vtimer run (default\n"
"                        2 vCPUs, 500 events, 100 with --quick; tick runs count/4)\n"
"  --ktrace=auto|on|off|buffer   kvm tracepoint counts, as for vtimer run\n"
"  --sched=fair|fifo     every run's threads in the fair class (default) or\n"
"                        SCHED_FIFO 1, as for vtimer run\n"
"  --out=DIR             results.json, tables.md, plot data and SVG/PNG plots\n"
"  --json=FILE           every run, in vtimer run's JSON format\n"
"  --markdown=FILE       the tables as Markdown\n"
"  --host-floor=auto|off auto (default): when rt-tests' cyclictest is installed,\n"
"                        run it on the host at --interval for --count loops once\n"
"                        per repeat, before that repeat's guests, and show it\n"
"                        in the latency table as \"host (cyclictest)\"\n";

enum { O_QUICK = 256, O_REPEAT, O_OUT, O_FLOOR, O_KTRACE, O_SCHED };

static const struct option bench_opts[] = {
	{ "timers", 1, 0, 't' }, { "workloads", 1, 0, 'w' }, { "vcpus", 1, 0, 'v' },
	{ "count", 1, 0, 'c' }, { "interval", 1, 0, 'i' }, { "tick", 1, 0, 'k' },
	{ "json", 1, 0, 'j' }, { "markdown", 1, 0, 'm' }, { "quick", 0, 0, O_QUICK },
	{ "repeat", 1, 0, O_REPEAT }, { "out", 1, 0, O_OUT }, { "help", 0, 0, 'h' },
	{ "host-floor", 1, 0, O_FLOOR }, { "ktrace", 1, 0, O_KTRACE },
	{ "sched", 1, 0, O_SCHED }, { 0 },
};

static const struct {
	const char *name;
	enum vtimer_workload wl;
	enum vtimer_wait wait;
} bench_workloads[] = {
	{ "cyclic", VTIMER_WL_CYCLIC, VTIMER_WAIT_HLT },
	{ "latency", VTIMER_WL_LATENCY, VTIMER_WAIT_HLT },
	{ "latency-busy", VTIMER_WL_LATENCY, VTIMER_WAIT_BUSY },
	{ "rr", VTIMER_WL_RR, VTIMER_WAIT_HLT },
	{ "tick", VTIMER_WL_TICK, VTIMER_WAIT_HLT },
	{ "throughput", VTIMER_WL_THROUGHPUT, VTIMER_WAIT_HLT },
};

#define NR_WL (int)(sizeof(bench_workloads) / sizeof(bench_workloads[0]))

/* Splits a comma list into at most max items (pointers into s). */
static int split(char *s, char **out, int max)
{
	int n = 0;

	for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
		out[n++] = tok;
	return n;
}

static int workload_index(const char *name)
{
	for (int i = 0; i < NR_WL; i++)
		if (!strcmp(bench_workloads[i].name, name))
			return i;
	return -1;
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

/* DIR made if missing, and writable; -1 with one line. */
static int out_dir(const char *dir)
{
	char probe[4200];
	FILE *f;

	if (strchr(dir, '\'') || strlen(dir) > 4000) {
		vt_err("--out=%s: a quote in the path or a path that long is not supported", dir);
		return -1;
	}
	if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
		vt_err("--out=%s: cannot create: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(probe, sizeof(probe), "%s/.vtimer-write-test", dir);
	if (!(f = fopen(probe, "w"))) {
		vt_err("--out=%s: cannot write there: %s", dir, strerror(errno));
		return -1;
	}
	fclose(f);
	unlink(probe);
	return 0;
}

/* A named output file that cannot be written is refused before any run. */
static int check_file(const char *opt, const char *path)
{
	struct outfile t = { 0 };

	if (!path)
		return 0;
	if (outfile_open(&t, opt, path) < 0)
		return -1;
	outfile_discard(&t);
	return 0;
}

struct opts {
	char timers[256], wls[128];
	const char *json, *md, *out;
	bool quick, wls_given, count_given;
	int repeat;
	enum host_floor_mode floor;
	struct run_config base;
};

static int parse(int argc, char **argv, struct opts *o)
{
	unsigned long long v;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", bench_opts, NULL)) != -1) {
		int e = 0;

		switch (c) {
		case 't': snprintf(o->timers, sizeof(o->timers), "%s", optarg); break;
		case 'w':
			snprintf(o->wls, sizeof(o->wls), "%s", optarg);
			o->wls_given = true;
			break;
		case 'v': e = parse_u64("vcpus", optarg, 1, VTIMER_MAX_VCPUS, &v); o->base.vcpus = v; break;
		case 'c':
			e = parse_u64("count", optarg, 1, 1000000, &v);
			o->base.count = v;
			o->count_given = true;
			break;
		case 'i': e = parse_u64("interval", optarg, 10, 10000000, &v); o->base.interval_ns = v * 1000; break;
		case 'k':
			e = parse_u64("tick", optarg, 0, 1000000, &v);
			if (!e && v && v < 1000) {
				vt_err("--tick=%s: under 1000 us (HZ above 1000) is refused, as by vtimer run", optarg);
				e = -1;
			}
			o->base.tick_ns = v * 1000;
			break;
		case O_REPEAT: e = parse_u64("repeat", optarg, 1, MAX_REPEAT, &v); o->repeat = v; break;
		case O_QUICK: o->quick = true; break;
		case O_OUT: o->out = optarg; break;
		case O_FLOOR:
			if (!strcmp(optarg, "auto") || !strcmp(optarg, "off")) {
				o->floor = optarg[0] == 'o' ? HOST_FLOOR_OFF : HOST_FLOOR_AUTO;
			} else {
				vt_err("--host-floor=%s: auto or off", optarg);
				e = -1;
			}
			break;
		case O_KTRACE:
			e = ktrace_mode_parse(optarg, &o->base.ktrace);
			if (e < 0)
				vt_err("bad --ktrace=%s: one of auto, on, off, buffer", optarg);
			break;
		case O_SCHED:
			if (!strcmp(optarg, "fair") || !strcmp(optarg, "fifo")) {
				o->base.sched_fifo = optarg[1] == 'i';
			} else {
				vt_err("--sched=%s: fair or fifo", optarg);
				e = -1;
			}
			break;
		case 'j': o->json = optarg; break;
		case 'm': o->md = optarg; break;
		case 'h': fputs(bench_help, stdout); return 1;
		case ':': vt_err("option %s needs a value", argv[optind - 1]); return -1;
		default:
			vt_err("unknown option '%s' (try: vtimer bench --help)", argv[optind - 1]);
			return -1;
		}
		if (e < 0)
			return -1;
	}
	if (optind < argc) {
		vt_err("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (!o->repeat)
		o->repeat = o->quick ? 1 : 3;
	if (!o->count_given)
		o->base.count = o->quick ? 100 : 500;
	return 0;
}

/* The matrix: timers x workloads, rr dropped (with a note) for an odd --vcpus unless asked. */
static int build_cells(struct opts *o, struct bench *b)
{
	char *timers[16], *wls[NR_WL + 8];
	int nt = split(o->timers, timers, 16), nw = split(o->wls, wls, NR_WL + 8);
	struct timer_mode m;

	for (int i = 0; i < nt; i++)
		if (timer_mode_preset(timers[i], &m) < 0)
			return -1;
	for (int k = 0; k < nw; k++) {
		if (workload_index(wls[k]) < 0) {
			vt_err("--workloads: '%s' is not one of cyclic, latency, latency-busy, rr, tick, throughput",
			       wls[k]);
			return -1;
		}
		if (!strcmp(wls[k], "rr") && o->base.vcpus % 2) {
			if (o->wls_given) {
				vt_err("--workloads=rr pairs vCPUs: it needs an even --vcpus, not %d",
				       o->base.vcpus);
				return -1;
			}
			fprintf(stderr, "vtimer: bench: rr left out: it pairs vCPUs and --vcpus=%d is odd\n",
				o->base.vcpus);
			memmove(&wls[k], &wls[k + 1], (nw - k - 1) * sizeof(wls[0]));
			nw--;
			k--;
		}
	}
	if (!nt || !nw || nt * nw > MAX_CELLS) {
		vt_err("bench needs 1..%d (timer, workload) cells", MAX_CELLS);
		return -1;
	}
	b->cells = calloc(nt * nw, sizeof(*b->cells));
	if (!b->cells)
		return -1;
	/* Workload-major: a table's cells sit together, kvm (if listed) first in each. */
	for (int k = 0; k < nw; k++)
		for (int i = 0; i < nt; i++) {
			struct bench_cell *c = &b->cells[b->nr_cells++];

			c->timer = timers[i];
			c->workload = bench_workloads[workload_index(wls[k])].name;
			c->runs = calloc(o->repeat, sizeof(*c->runs));
			if (!c->runs)
				return -1;
		}
	b->repeat = o->repeat;
	return 0;
}

/*
 * One repeat's cells share the cyclic workload's phase against the tick
 * grid (guest/workloads/workloads.c), and the repeats spread it evenly over
 * one interval (the deadlines recur every interval): where the tick falls
 * decides whether it interrupts between a wake-up and the next sleep, and
 * every mode compared gets the same draw.
 */
static struct run_config cell_config(const struct opts *o, const struct bench_cell *c,
				     int rep, int repeat)
{
	struct run_config cfg = o->base;
	int w = workload_index(c->workload);

	cfg.phase_ns = cfg.interval_ns * (2 * rep + 1) / (2 * repeat);

	timer_mode_preset(c->timer, &cfg.mode);
	cfg.workload = bench_workloads[w].wl;
	cfg.wait = bench_workloads[w].wait;
	/* A tick event is two tick periods (busy, then idle): fewer of them. */
	if (cfg.workload == VTIMER_WL_TICK) {
		cfg.count = cfg.count / 4 ? cfg.count / 4 : 1;
		if (!cfg.tick_ns)
			cfg.tick_ns = 4000000;
	}
	return cfg;
}

/* Every run, and the host floor's top-level "host_floor" object when asked. */
static int json_write(const struct bench *b, const struct run_report *flat, int n, FILE *f)
{
	return report_json_write_extra(flat, n, "host_floor",
				       b->floor ? host_floor_json(b->floor) : NULL, f);
}

/* The guests' latency workloads are in the matrix: the floor has a row to join. */
static bool has_latency_cell(const struct bench *b)
{
	for (int i = 0; i < b->nr_cells; i++)
		if (!strcmp(b->cells[i].workload, "cyclic") ||
		    !strncmp(b->cells[i].workload, "latency", 7))
			return true;
	return false;
}

/* One host floor run at the start of a repeat, unless the last one failed. */
static void floor_run(struct host_floor *hf, bool tty, int rep, int repeat)
{
	if (!host_floor_enabled(hf) || (hf->n && hf->runs[hf->n - 1].error[0]))
		return;
	if (tty)
		fprintf(stderr, "\r\033[Kvtimer bench host floor: cyclictest (repeat %d/%d)",
			rep + 1, repeat);
	else
		fprintf(stderr, "vtimer: bench host floor: cyclictest (repeat %d/%d)\n", rep + 1,
			repeat);
	if (host_floor_run(hf) < 0)
		fprintf(stderr, "%svtimer: bench: host floor: %s\n", tty ? "\r\033[K" : "",
			hf->runs[hf->n - 1].error);
}

/*
 * vtimer bench host-floor: the floor alone, once, with no guest: what the
 * latency table's "host (cyclictest)" row would show. Needs no KVM.
 */
static int cmd_bench_floor(int argc, char **argv, struct opts *o)
{
	struct bench b = { .title = "vtimer bench host-floor" };
	struct host_floor hf;
	struct outfile jf = { 0 };
	int p = parse(argc - 1, argv + 1, o);

	if (p)
		return p > 0 ? 0 : VT_EXIT_SETUP;
	if (check_file("json", o->json) < 0)
		return VT_EXIT_SETUP;
	host_floor_init(&hf, o->floor, o->base.interval_ns, o->base.count);
	hf.placement = "alone (vtimer bench host-floor), no guest run";
	b.floor = &hf;
	vm_catch_stop_signals();
	host_floor_run(&hf);
	printf("%s: interval=%lluus count=%u\n", b.title,
	       (unsigned long long)o->base.interval_ns / 1000, o->base.count);
	bench_latency_table(&b, stdout, false);
	if (o->json && (outfile_open(&jf, "json", o->json) < 0 || json_write(&b, NULL, 0, jf.f) < 0 ||
			outfile_commit(&jf) < 0)) {
		outfile_discard(&jf);
		return VT_EXIT_SETUP;
	}
	if (host_floor_missing(&hf)) {
		vt_err("host floor: %s", host_floor_missing(&hf));
		return vm_stop_signal() ? VT_EXIT_SIGNAL : VT_EXIT_SETUP;
	}
	return 0;
}

static int write_outputs(const struct opts *o, const struct bench *b, struct run_report *flat,
			 int n)
{
	struct outfile jf = { 0 }, mf = { 0 }, dj = { 0 }, dm = { 0 };
	char path[4200];
	int bad = 0;

	if (o->out) {
		snprintf(path, sizeof(path), "%s/results.json", o->out);
		bad |= outfile_open(&dj, "out", path) < 0 || json_write(b, flat, n, dj.f) < 0 ||
		       outfile_commit(&dj) < 0;
		snprintf(path, sizeof(path), "%s/tables.md", o->out);
		if (!outfile_open(&dm, "out", path)) {
			bench_tables(b, dm.f, true);
			bad |= outfile_commit(&dm) < 0;
		} else {
			bad = 1;
		}
		bad |= bench_plots(b, o->out) < 0;
	}
	if (o->json) {
		bad |= outfile_open(&jf, "json", o->json) < 0 ||
		       json_write(b, flat, n, jf.f) < 0 || outfile_commit(&jf) < 0;
	}
	if (o->md && !outfile_open(&mf, "markdown", o->md)) {
		bench_tables(b, mf.f, true);
		bad |= outfile_commit(&mf) < 0;
	}
	outfile_discard(&dj);
	outfile_discard(&dm);
	outfile_discard(&jf);
	outfile_discard(&mf);
	return bad ? -1 : 0;
}

int cmd_bench(int argc, char **argv)
{
	struct opts o = {
		.timers = "kvm,exitless,lazy,pvtimer,hybrid,apicv-model",
		.wls = "cyclic,latency,latency-busy,rr,tick,throughput",
	};
	struct bench b = { 0 };
	struct host_floor hf;
	struct run_report *flat;
	bool tty = isatty(fileno(stderr));
	char title[256];
	int p, status = 0, n = 0, total;

	run_config_defaults(&o.base);
	o.base.vcpus = 2;
	if (argc > 1 && !strcmp(argv[1], "engine"))
		return cmd_bench_engine(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "host-floor"))
		return cmd_bench_floor(argc, argv, &o);
	p = parse(argc, argv, &o);
	if (p)
		return p > 0 ? 0 : VT_EXIT_SETUP;
	/* Without KVM every run would fail alike: say it once, before any run. */
	p = kvm_open();
	if (p < 0)
		return VT_EXIT_SETUP;
	close(p);
	if (build_cells(&o, &b) < 0 || (o.out && out_dir(o.out) < 0))
		return VT_EXIT_SETUP;
	/* Refused before any run: the named files are checked now, written at the end. */
	if (check_file("json", o.json) < 0 || check_file("markdown", o.md) < 0)
		return VT_EXIT_SETUP;
	o.base.guest = default_guest_path();
	o.base.console = "/dev/null";
	total = b.nr_cells * b.repeat;
	host_floor_init(&hf, o.floor, o.base.interval_ns, o.base.count);
	hf.placement = "once per repeat, before that repeat's guest runs, in this vtimer bench invocation";
	b.floor = &hf;
	vm_catch_stop_signals();
	for (int rep = 0; rep < b.repeat && !vm_stop_signal(); rep++) {
		if (has_latency_cell(&b))
			floor_run(&hf, tty, rep, b.repeat);
		for (int i = 0; i < b.nr_cells && !vm_stop_signal(); i++) {
			struct bench_cell *c = &b.cells[i];
			struct run_config cfg = cell_config(&o, c, rep, b.repeat);

			n++;
			if (tty)
				fprintf(stderr, "\r\033[Kvtimer bench [%d/%d] %s %s (repeat %d/%d)", n,
					total, c->timer, c->workload, rep + 1, b.repeat);
			else
				fprintf(stderr, "vtimer: bench [%d/%d] %s %s (repeat %d/%d)\n", n, total,
					c->timer, c->workload, rep + 1, b.repeat);
			if (run_once(&cfg, &c->runs[c->n]) && !status)
				status = c->runs[c->n].status;
			c->n++;
		}
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	if (vm_stop_signal())
		status = VT_EXIT_SIGNAL;	/* the tables have the runs done so far */
	snprintf(title, sizeof(title),
		 "vtimer bench: vcpus=%d count=%u interval=%lluus tick=%lluus repeat=%d (medians; host: vtimer probe)",
		 o.base.vcpus, o.base.count, (unsigned long long)o.base.interval_ns / 1000,
		 (unsigned long long)o.base.tick_ns / 1000, b.repeat);
	b.title = title;
	bench_tables(&b, stdout, false);
	/* Every run, cell by cell, for the JSON. */
	flat = calloc(total ? total : 1, sizeof(*flat));
	n = 0;
	for (int i = 0; flat && i < b.nr_cells; i++)
		for (int k = 0; k < b.cells[i].n; k++)
			flat[n++] = b.cells[i].runs[k];
	if (!flat || write_outputs(&o, &b, flat, n) < 0)
		status = VT_EXIT_SETUP;
	if (o.out)
		printf("\nresults, tables and plots: %s/ (results.json, tables.md, latency-*.svg/png, exits-*.svg/png)\n",
		       o.out);
	free(flat);
	for (int i = 0; i < b.nr_cells; i++) {
		for (int k = 0; k < b.cells[i].n; k++)
			report_free(&b.cells[i].runs[k]);
		free(b.cells[i].runs);
	}
	free(b.cells);
	return status;
}
