// SPDX-License-Identifier: MIT
/* vtimer run: option parsing for one run; the work is in bench/runner.c. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "../bench/runner.h"
#include "../outfile.h"
#include "../util.h"

static const char run_help[] =
"usage: vtimer run [options]\n"
"  --timer=PRESET        kvm (default), exitless, pvtimer, lazy, apicv-model, hybrid\n"
"  --program=msr|lazy|pv|hybrid|direct  --discover=exit|scan:US|spin\n"
"  --deliver=kernel|vcpu|housekeeping    override one axis of the preset\n"
"  --housekeeping-cpu=N  pin the housekeeping thread to host CPU N\n"
"  --timer-floor=US      storm floor: one vCPU's host timer expires at most once\n"
"                        per US (default 20, 0 = none; later, never earlier)\n"
"  --timer-share=PCT     storm share: one vCPU's host timer expiries take at most\n"
"                        PCT% of a host CPU (default 50, 0.001..100, 0 = none)\n"
"  --timer-advance=auto|US  housekeeping wakes US ahead of each deadline and waits\n"
"                        out the rest, injecting at the deadline (auto: self-tuned\n"
"                        from its wake-up lateness, at most 100; 0 = off)\n"
"  --timer-prewake=on|off  housekeeping kicks a halted vCPU awake ahead of its\n"
"                        injection, so that it need not be woken at the deadline\n"
"                        (default on where KVM's `blocking` stat tells halted vCPUs)\n"
"  --timer-scan=auto|fixed  discover=scan: the period shrinks while deadlines come\n"
"                        nearer than the next scan, within the housekeeping\n"
"                        thread's CPU budget, and grows back (default auto)\n"
"  --timer-predict=on|off  discover=scan: also scan just ahead of each vCPU's\n"
"                        next deadline as its last period predicts (default on)\n"
"  --timer-idle-look=on|off  discover=scan: a guest that owes a deadline write\n"
"                        on its way to idle makes it with its hlt, one exit\n"
"                        (docs/pv-abi.md 4.1; default on)\n"
"  --timer-look=auto|on  look:L: after an injection, look at the page only\n"
"                        while looking saves exits (auto, the default), or\n"
"                        after every injection (on)\n"
"  --sched=fair|fifo     the VMM's threads in the host's fair class (default)\n"
"                        or SCHED_FIFO priority 1 (needs root or CAP_SYS_NICE)\n"
"  --pin=auto|on|off     pin vCPUs to CPUs 0..n-2 and housekeeping to CPU n-1\n"
"                        (auto: when there is housekeeping and a CPU to spare)\n"
"  --workload=NAME       cyclic (default), latency, rr (request/response between\n"
"                        vCPU pairs: even --vcpus), tick (nohz tick, busy then\n"
"                        idle: needs --tick), throughput (CPL3 work under a\n"
"                        timer load), masked, switch, abi, hostile, crash (the\n"
"                        BSP triple-faults: the run exits 71)\n"
"  --attack=A,B,...      hostile workload: deadline, page, enable, lvtt, records,\n"
"                        tsc, all (default all; docs/security.md)\n"
"  --vcpus=N             1..64 (default 1)\n"
"  --count=N             timer events per vCPU (default 1000)\n"
"  --interval=US         cyclic period / latency delta in microseconds (default 1000)\n"
"  --lapic=MODE          tsc-deadline (default), oneshot, periodic\n"
"  --wait=hlt|busy       how the latency workload waits (default hlt)\n"
"  --tick=US             guest nohz tick period, 0 = none, else >= 1000 (default 4000)\n"
"  --phase=US            cyclic: first deadline US past a tick grid point (the\n"
"                        interval's without a tick); default: an interval after\n"
"                        the task starts, wherever that falls\n"
"  --mem=MIB             guest memory (default 128)\n"
"  --timeout=SEC         stop the run after SEC seconds (exit 73); default: from\n"
"                        count and interval, none with --kernel\n"
"  --ktrace=auto|on|off|buffer  count exits a second way, with the kernel's kvm\n"
"                        tracepoints in a private tracefs instance (root; auto:\n"
"                        when available, else the report says why not; on: refuse\n"
"                        the run without them; buffer: parse the trace buffer even\n"
"                        where hist triggers could count in the kernel)\n"
"  --json=FILE           write results as JSON\n"
"  --console=FILE        guest serial console to FILE instead of stdout\n"
"  --guest=FILE          vtimer guest image (default: guest.elf next to this binary)\n"
"  --kernel=FILE         boot a multiboot kernel instead (QEMU -kernel style); runs\n"
"                        every --timer needing no guest support: kvm, exitless,\n"
"                        --program=msr with any --discover/--deliver\n"
"  --smp=N               vCPUs for --kernel (same as --vcpus)\n"
"  --append=CMDLINE      multiboot command line for --kernel\n"
"  --cpu=+F,-F,...       turn CPUID features on or off, as QEMU's -cpu (x2apic,\n"
"                        tsc-deadline, kvm-pv-eoi, ...; --cpu=help lists them)\n"
"  -v, --verbose\n";

enum { O_TIMER = 256, O_PROGRAM, O_DISCOVER, O_DELIVER, O_WORKLOAD, O_VCPUS, O_COUNT,
       O_INTERVAL, O_LAPIC, O_WAIT, O_TICK, O_PHASE, O_MEM, O_TIMEOUT, O_JSON, O_CONSOLE, O_GUEST,
       O_KERNEL, O_APPEND, O_HKCPU, O_PIN, O_FLOOR, O_SHARE, O_ADVANCE, O_PREWAKE, O_SCAN, O_PREDICT, O_IDLE, O_LOOK, O_SCHED, O_ATTACK, O_CPU, O_KTRACE, O_HELP };

static const struct option run_opts[] = {
	{ "timer", 1, 0, O_TIMER }, { "program", 1, 0, O_PROGRAM },
	{ "discover", 1, 0, O_DISCOVER }, { "deliver", 1, 0, O_DELIVER },
	{ "workload", 1, 0, O_WORKLOAD }, { "vcpus", 1, 0, O_VCPUS }, { "smp", 1, 0, O_VCPUS },
	{ "count", 1, 0, O_COUNT }, { "interval", 1, 0, O_INTERVAL }, { "lapic", 1, 0, O_LAPIC },
	{ "wait", 1, 0, O_WAIT }, { "tick", 1, 0, O_TICK }, { "phase", 1, 0, O_PHASE },
	{ "mem", 1, 0, O_MEM },
	{ "timeout", 1, 0, O_TIMEOUT }, { "json", 1, 0, O_JSON }, { "console", 1, 0, O_CONSOLE },
	{ "guest", 1, 0, O_GUEST }, { "kernel", 1, 0, O_KERNEL }, { "append", 1, 0, O_APPEND },
	{ "housekeeping-cpu", 1, 0, O_HKCPU }, { "pin", 1, 0, O_PIN },
	{ "timer-floor", 1, 0, O_FLOOR }, { "timer-share", 1, 0, O_SHARE }, { "timer-advance", 1, 0, O_ADVANCE },
	{ "timer-prewake", 1, 0, O_PREWAKE }, { "timer-scan", 1, 0, O_SCAN },
	{ "timer-predict", 1, 0, O_PREDICT }, { "timer-idle-look", 1, 0, O_IDLE },
	{ "timer-look", 1, 0, O_LOOK },
	{ "sched", 1, 0, O_SCHED }, { "attack", 1, 0, O_ATTACK }, { "cpu", 1, 0, O_CPU },
	{ "ktrace", 1, 0, O_KTRACE },
	{ "verbose", 0, 0, 'v' }, { "help", 0, 0, O_HELP }, { 0 },
};

static int pick(const char *opt, const char *val, const char *const *names, int n, int *out)
{
	for (int i = 0; i < n; i++)
		if (names[i] && !strcmp(val, names[i])) {
			*out = i;
			return 0;
		}
	vt_err("bad --%s=%s", opt, val);
	return -1;
}

/* --attack=deadline,page,...: enum vtimer_attack bits, "all" for every one. */
/* --NAME=A|B: *second is whether B was given; 0, or -1 with a one-line error. */
static int parse_pair(const char *name, const char *val, const char *a, const char *b,
		      bool *second)
{
	if (strcmp(val, a) && strcmp(val, b)) {
		vt_err("bad --%s=%s: %s or %s", name, val, a, b);
		return -1;
	}
	*second = !strcmp(val, b);
	return 0;
}

static int parse_attacks(const char *opt, const char *val, uint32_t *out)
{
	static const char *const names[] = { "deadline", "page", "enable", "lvtt", "records", "tsc" };
	const char *p = val;

	*out = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		uint32_t bit = 0;

		if (n == 3 && !strncmp(p, "all", 3))
			bit = VTIMER_ATTACK_ALL;
		for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
			if (strlen(names[i]) == n && !strncmp(p, names[i], n))
				bit = 1u << i;
		if (!bit) {
			vt_err("bad --%s=%s: '%.*s' is not one of deadline, page, enable, lvtt, records, tsc, all",
			       opt, val, (int)n, p);
			return -1;
		}
		*out |= bit;
		p += n + (p[n] == ',');
	}
	if (!*out) {
		vt_err("bad --%s=%s: no attack named", opt, val);
		return -1;
	}
	return 0;
}

static void cpu_help(void)
{
	puts("--cpu=+F,-F,... features (CPUID leaf, register, bits):");
	for (unsigned int i = 0; i < nr_cpu_features; i++) {
		const struct cpu_feature *f = &cpu_features[i];

		printf("  %-20s %#10x %s %#010x  %s%s\n", f->name, f->leaf,
		       (const char *[]){ "eax", "ebx", "ecx", "edx" }[f->reg], f->mask, f->what,
		       f->emulated ? " (KVM emulates it)" : "");
	}
}

/*
 * The vtimer guest runs the local APIC in x2APIC mode and programs the
 * TSC-deadline MSR: without those it could only fault. --cpu=-x2apic and
 * --cpu=-tsc-deadline are for --kernel (or another --lapic mode).
 */
static int check_cpu(const struct run_config *c)
{
	const struct cpu_feature *x2 = cpu_feature_find("x2apic");
	const struct cpu_feature *dl = cpu_feature_find("tsc-deadline");

	if (c->kernel)
		return 0;
	if (c->cpu.off & (1u << (x2 - cpu_features))) {
		vt_err("--cpu=-x2apic: the vtimer guest needs x2APIC (it is for --kernel)");
		return -1;
	}
	if ((c->cpu.off & (1u << (dl - cpu_features))) && c->lapic == VTIMER_LAPIC_DEADLINE) {
		vt_err("--cpu=-tsc-deadline: the vtimer guest then needs --lapic=oneshot or periodic");
		return -1;
	}
	return 0;
}

static int parse_run(int argc, char **argv, struct run_config *c)
{
	static const char *const workloads[] = { [VTIMER_WL_CYCLIC] = "cyclic",
		[VTIMER_WL_LATENCY] = "latency", [VTIMER_WL_MASKED] = "masked",
		[VTIMER_WL_SWITCH] = "switch", [VTIMER_WL_ABI] = "abi",
		[VTIMER_WL_HOSTILE] = "hostile", [VTIMER_WL_CRASH] = "crash",
		[VTIMER_WL_RR] = "rr", [VTIMER_WL_TICK] = "tick",
		[VTIMER_WL_THROUGHPUT] = "throughput" };
	static const char *const lapics[] = { "tsc-deadline", "oneshot", "periodic" };
	static const char *const waits[] = { "hlt", "busy" };
	unsigned long long v;
	int o, i, li = -1;

	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":v", run_opts, &li)) != -1) {
		/* the option as typed: --vcpus and --smp share a case */
		const char *name = li >= 0 ? run_opts[li].name : "";
		int r = 0;

		li = -1;
		switch (o) {
		case O_TIMER: r = timer_mode_preset(optarg, &c->mode); break;
		case O_PROGRAM: case O_DISCOVER: case O_DELIVER:
			r = timer_axis_parse(name, optarg, &c->mode);
			break;
		case O_WORKLOAD:
			r = pick(name, optarg, workloads, ARRAY_SIZE(workloads), &i);
			c->workload = i;
			break;
		case O_LAPIC: r = pick(name, optarg, lapics, 3, &i); c->lapic = i; break;
		case O_WAIT: r = pick(name, optarg, waits, 2, &i); c->wait = i; break;
		case O_VCPUS: r = parse_u64(name, optarg, 1, VTIMER_MAX_VCPUS, &v); c->vcpus = v; break;
		case O_COUNT: r = parse_u64(name, optarg, 1, 10000000, &v); c->count = v; break;
		case O_INTERVAL:
			r = parse_u64(name, optarg, 10, 10000000, &v);
			c->interval_ns = v * 1000;
			break;
		case O_TICK:
			r = parse_u64(name, optarg, 0, 1000000, &v);
			if (!r && v && v < 1000) {
				/* HZ at most 1000, as Linux: faster ticks outrun an emulated handler */
				vt_err("--%s=%s: a tick under 1000 us (HZ above 1000) can keep the guest busy ticking (0 turns it off)",
				       name, optarg);
				r = -1;
			}
			c->tick_ns = v * 1000;
			break;
		case O_PHASE: r = parse_u64(name, optarg, 0, 10000000, &v); c->phase_ns = v * 1000; break;
		case O_MEM: r = parse_u64(name, optarg, 16, 1024, &v); c->mem_size = v << 20; break;
		case O_TIMEOUT: r = parse_u64(name, optarg, 1, 86400, &v); c->timeout_s = v; break;
		case O_JSON: c->json = optarg; break;
		case O_CONSOLE: c->console = optarg; break;
		case O_GUEST: c->guest = optarg; break;
		case O_KERNEL: c->kernel = optarg; break;
		case O_APPEND: c->append = optarg; break;
		case O_FLOOR:
			r = parse_u64(name, optarg, 0, 1000000, &v);
			c->tuning.floor_ns = v * 1000;
			break;
		case O_SHARE: r = parse_share(name, optarg, &c->tuning.share_ppm); break;
		case O_ADVANCE:
			if (!strcmp(optarg, "auto")) {
				c->tuning.advance_ns = HK_ADVANCE_AUTO;
				break;
			}
			r = parse_u64(name, optarg, 0, 1000, &v);
			c->tuning.advance_ns = (int64_t)v * 1000;
			break;
		case O_PREWAKE: r = parse_pair(name, optarg, "on", "off", &c->tuning.prewake_off); break;
		case O_SCAN: r = parse_pair(name, optarg, "auto", "fixed", &c->tuning.scan_fixed); break;
		case O_PREDICT: r = parse_pair(name, optarg, "on", "off", &c->tuning.predict_off); break;
		case O_IDLE: r = parse_pair(name, optarg, "on", "off", &c->tuning.idle_off); break;
		case O_LOOK: r = parse_pair(name, optarg, "auto", "on", &c->tuning.look_fixed); break;
		case O_SCHED: r = parse_pair(name, optarg, "fair", "fifo", &c->sched_fifo); break;
		case O_ATTACK: r = parse_attacks(name, optarg, &c->attacks); break;
		case O_KTRACE:
			r = ktrace_mode_parse(optarg, &c->ktrace);
			if (r < 0)
				vt_err("bad --%s=%s: one of auto, on, off, buffer", name, optarg);
			break;
		case O_CPU: {
			char err[200];

			if (!strcmp(optarg, "help")) {
				cpu_help();
				return 1;
			}
			r = cpu_flags_parse(optarg, &c->cpu, err, sizeof(err));
			if (r < 0)
				vt_err("%s", err);
			break;
		}
		case O_HKCPU:
			r = parse_u64(name, optarg, 0, sysconf(_SC_NPROCESSORS_ONLN) - 1, &v);
			c->hk_cpu = v;
			break;
		case O_PIN: {
			static const char *const pins[] = { "off", "on", "auto" };

			r = pick(name, optarg, pins, 3, &i);
			c->pin = i == 2 ? -1 : i;
			break;
		}
		case 'v': vt_verbose = 1; break;
		case O_HELP: fputs(run_help, stdout); return 1;
		case ':':
			vt_err("option %s needs a value", argv[optind - 1]);
			return -1;
		default:
			vt_err("unknown option '%s' (try: vtimer run --help)", argv[optind - 1]);
			return -1;
		}
		if (r < 0)
			return -1;
	}
	if (optind < argc) {
		vt_err("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (c->attacks && (c->kernel || c->workload != VTIMER_WL_HOSTILE)) {
		vt_err("--attack is for --workload=hostile");
		return -1;
	}
	if (!c->kernel && c->workload == VTIMER_WL_RR && (c->vcpus < 2 || c->vcpus % 2)) {
		vt_err("--workload=rr pairs vCPUs (client, server): it needs an even --vcpus, not %d",
		       c->vcpus);
		return -1;
	}
	if (!c->kernel && c->workload == VTIMER_WL_TICK && !c->tick_ns) {
		vt_err("--workload=tick runs the nohz tick: it needs --tick=US, not 0");
		return -1;
	}
	if (check_cpu(c) < 0 || timer_mode_check(&c->mode) < 0)
		return -1;
	return c->kernel ? timer_mode_check_kernel(&c->mode) : 0;
}

int cmd_run(int argc, char **argv)
{
	struct run_config cfg;
	struct run_report r;
	struct outfile json = { 0 };
	int status, p;

	run_config_defaults(&cfg);
	p = parse_run(argc, argv, &cfg);
	if (p)
		return p > 0 ? 0 : VT_EXIT_SETUP;
	if (!cfg.guest)
		cfg.guest = default_guest_path();
	if (cfg.json && outfile_open(&json, "json", cfg.json) < 0)
		return VT_EXIT_SETUP;	/* refused before the run, the file untouched */
	vm_catch_stop_signals();
	status = run_once(&cfg, &r);
	if (r.nr)
		report_table(&r, cfg.kernel ? stderr : stdout);
	if (r.error[0])
		vt_err("%s", r.error);
	if (r.postmortem)
		fprintf(stderr, "vtimer: post-mortem, as KVM and the timer engine left each vCPU:\n%s",
			r.postmortem);
	if (json.f && r.nr &&
	    (report_json_write(&r, 1, json.f) < 0 || outfile_commit(&json) < 0) && !status)
		status = VT_EXIT_SETUP;
	outfile_discard(&json);	/* no report: the old file stays */
	report_free(&r);
	return status;
}
