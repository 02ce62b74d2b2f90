// SPDX-License-Identifier: MIT
/*
 * vtimer probe: what this host's KVM offers for timer virtualization. Static
 * facts come from kvm/probe.c; whether guest CPL0 code is emulated is measured
 * here by running a few instructions in a throwaway VM, because the module
 * name says nothing certain about it (and a new host may surprise us).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "../kvm/kvm.h"
#include "../kvm/probe.h"
#include "../bench/runner.h"
#include "../machine/machine.h"
#include "../util.h"
#include "vtimer/abi.h"

static const char probe_help[] =
"usage: vtimer probe [options]\n"
"  Reports the KVM API version and capabilities, the KVM flavour, the host CPU,\n"
"  whether guest CPL0 code runs emulated (measured in a small VM), the cost of a\n"
"  userspace exit, the vCPU TSC rate, the timer-related module parameters and\n"
"  whether KVM's PV EOI engages (measured by running the vtimer guest).\n"
"  --json=FILE           also write the facts as JSON\n"
"  -h, --help\n";

/*
 * Natively a dec/jnz pair retires in well under a nanosecond; an emulator
 * needs hundreds. Anything between means something odd, called emulated.
 */
#define CPL0_EMULATED_NS	20.0
#define PROBE_PORT	0x5e0	/* +0 time mark, +1 no-op, +2 stop */
#define PROBE_EXITS	256	/* no-op exits timed for the exit cost */
#define PROBE_LOOPS	20000	/* dec/jnz iterations timed for CPL0 speed */
#define PROBE_TIMEOUT_S	20

#define LE16(x)	((x) & 0xff), (((x) >> 8) & 0xff)
#define LE32(x)	LE16(x), LE16((x) >> 16)

/*
 *	mov	$PROBE_PORT, %edx
 *	xor	%eax, %eax
 *	out	%al, (%dx)		# mark 0
 *	inc	%edx			# the no-op port
 *	.rept PROBE_EXITS		# unrolled: a loop would add emulated
 *	out	%al, (%dx)		#   instructions to each exit
 *	.endr
 *	dec	%edx
 *	inc	%eax
 *	out	%al, (%dx)		# mark 1
 *	mov	$PROBE_LOOPS, %ecx
 * 1:	dec	%ecx
 *	jnz	1b
 *	inc	%eax
 *	out	%al, (%dx)		# mark 2
 *	add	$2, %edx		# the stop port
 *	out	%al, (%dx)
 * 2:	hlt
 *	jmp	2b
 */
static const uint8_t blob_head[] = {
	0xba, LE32(PROBE_PORT), 0x31, 0xc0, 0xee, 0xff, 0xc2,
};
static const uint8_t blob_tail[] = {
	0xff, 0xca, 0xff, 0xc0, 0xee, 0xb9, LE32(PROBE_LOOPS), 0xff, 0xc9, 0x75, 0xfc,
	0xff, 0xc0, 0xee, 0x83, 0xc2, 0x02, 0xee, 0xf4, 0xeb, 0xfd,
};

struct cpl0_probe {
	bool ok;
	double insn_ns;		/* per CPL0 instruction */
	double exit_ns;		/* per userspace exit round trip */
	uint64_t mark[3];
	int nr_marks;
	char error[320];
};

static int probe_pio(struct vcpu *vcpu, uint16_t port, bool out, int size, uint8_t *data,
		     void *opaque)
{
	struct cpl0_probe *m = opaque;
	uint64_t t = now_ns();

	if (port == PROBE_PORT && data[0] < ARRAY_SIZE(m->mark)) {
		m->mark[data[0]] = t;
		m->nr_marks++;
	} else if (port == PROBE_PORT + 2) {
		vm_stop(vcpu->vm, 0, NULL);
	}
	return 0;
}

static void measure_cpl0(struct cpl0_probe *m)
{
	struct vm_config cfg = { .nr_vcpus = 1, .mem_size = 16 << 20, .console = stderr };
	struct vm vm;
	uint8_t *code;
	size_t len = sizeof(blob_head) + PROBE_EXITS + sizeof(blob_tail);
	double loop_ns;

	memset(m, 0, sizeof(*m));
	if (vm_create(&vm, &cfg) < 0) {
		snprintf(m->error, sizeof(m->error), "cannot create the probe VM");
		goto out;
	}
	code = vm_gpa(&vm, VTIMER_GPA_KERNEL, len);
	memcpy(code, blob_head, sizeof(blob_head));
	memset(code + sizeof(blob_head), 0xee, PROBE_EXITS);
	memcpy(code + sizeof(blob_head) + PROBE_EXITS, blob_tail, sizeof(blob_tail));
	vm.entry = (struct boot_entry){ .mode = BOOT_LONG64, .rip = VTIMER_GPA_KERNEL };
	vm.image_end = VTIMER_GPA_KERNEL + len;
	vm.deadline_ns = now_ns() + PROBE_TIMEOUT_S * 1000000000ULL;
	vm_add_pio(&vm, PROBE_PORT, 3, probe_pio, m);
	if (vm_run(&vm) < 0) {
		snprintf(m->error, sizeof(m->error), "cannot start the probe VM");
		goto out;
	}
	if (vm.timed_out) {
		snprintf(m->error, sizeof(m->error), "probe VM did not finish in %d s",
			 PROBE_TIMEOUT_S);
		goto out;
	}
	if (vm.exit_status || m->nr_marks != 3) {
		snprintf(m->error, sizeof(m->error), "probe VM failed: %.256s",
			 vm.error[0] ? vm.error : "time marks missing");
		goto out;
	}
	/* Mark 1 is itself an exit; mark 2's exit is taken off the loop's time. */
	m->exit_ns = (double)(m->mark[1] - m->mark[0]) / (PROBE_EXITS + 1);
	loop_ns = (double)(m->mark[2] - m->mark[1]) - m->exit_ns;
	m->insn_ns = (loop_ns > 0 ? loop_ns : 0) / (2.0 * PROBE_LOOPS + 2);
	m->ok = true;
out:
	vm_destroy(&vm);
}

/*
 * KVM PV EOI (guest/pv/pv_eoi.c): whether it engages here can only be seen
 * by running interrupts through it, so the vtimer guest takes PV_EOI_EVENTS
 * one-shot timers under stock KVM (timer=kvm, waiting in hlt) and counts the
 * EOIs KVM completed without a write. It engages when at least half did;
 * under nested SVM all do. Meanwhile a host thread polls the guest's PV EOI
 * words (bench/eoiwatch.c) and counts the times it saw KVM set the bit: a
 * host where it never engages either never sets it, or sets it and clears
 * it again before the guest's handler reads it (docs/design.md).
 */
#define PV_EOI_EVENTS	40

struct pv_eoi_probe {
	bool ok, enabled, engages, watched;
	uint64_t eois, elided;
	uint64_t sets, polls;		/* the watcher: bit sets it saw, its rounds */
	char error[320];
};

static void measure_pv_eoi(struct pv_eoi_probe *e)
{
	struct run_config cfg;
	struct run_report r;
	const struct vtimer_counters *k;

	memset(e, 0, sizeof(*e));
	run_config_defaults(&cfg);
	cfg.workload = VTIMER_WL_LATENCY;
	cfg.count = PV_EOI_EVENTS;
	cfg.timeout_s = 60;
	cfg.guest = default_guest_path();
	cfg.console = "/dev/null";
	cfg.ktrace = KTRACE_OFF;
	cfg.watch_pv_eoi = true;
	if (run_once(&cfg, &r)) {
		snprintf(e->error, sizeof(e->error), "the guest run failed (status %d%s%.256s)",
			 r.status, r.error[0] ? ": " : "", r.error);
	} else {
		k = &r.total.c;
		e->ok = true;
		e->enabled = k->pv_eoi_cpus > 0;
		e->elided = k->pv_eoi;
		e->eois = k->pv_eoi + k->op_wrmsr_eoi;
		e->engages = e->eois && 2 * e->elided >= e->eois;
		e->watched = r.pv_eoi_watched && r.pv_eoi_words > 0;
		e->sets = r.pv_eoi_sets;
		e->polls = r.pv_eoi_polls;
	}
	report_free(&r);
}

static void print_pv_eoi(const struct pv_eoi_probe *e, FILE *f)
{
	fputs("KVM PV EOI: ", f);
	if (!e->ok)
		fprintf(f, "unknown (%s)\n", e->error);
	else if (!e->enabled)
		fputs("not offered (CPUID 0x40000001 bit 6 clear, or the enable MSR refused)\n", f);
	else
		fprintf(f, "%s: %llu of %llu EOIs without a write (measured: %d timers, timer=kvm)\n",
			e->engages ? "engages" : e->elided ? "rarely engages" : "does not engage",
			(unsigned long long)e->elided, (unsigned long long)e->eois, PV_EOI_EVENTS);
	if (!e->ok || !e->enabled)
		return;
	if (!e->watched)
		fputs("  KVM setting the bit: not watched (the watcher found no PV EOI word)\n", f);
	else
		fprintf(f, "  KVM set the bit %llu times in the run (a host thread polled the word %llu times)%s\n",
			(unsigned long long)e->sets, (unsigned long long)e->polls,
			e->engages ? "" : !e->sets ? ": KVM never set it" :
			e->elided ? ": KVM mostly clears it again before the handler reads it" :
			": KVM clears it again before the handler reads it");
}

static json_t *pv_eoi_json(const struct pv_eoi_probe *e)
{
	if (!e->ok)
		return json_pack("{ss}", "error", e->error);
	json_t *o = json_pack("{sb sb sI sI}", "enabled", e->enabled, "engages", e->engages,
			      "eois", (json_int_t)e->eois, "elided", (json_int_t)e->elided);

	/* bit_sets: how often a host thread saw KVM set the bit, null unwatched */
	if (o)
		json_object_set_new(o, "bit_sets", e->watched ? json_integer((json_int_t)e->sets)
							     : json_null());
	return o;
}

static const char *param_value(const struct probe_param *pp)
{
	return pp->present ? pp->value : "not present";
}

static void print_report(const struct kvm_host_probe *p, const struct cpl0_probe *m, FILE *f)
{
	fprintf(f, "KVM API version: %d\n", p->api_version);
	fprintf(f, "KVM flavour: %s (%s)\n", p->flavour,
		p->modules[0] ? p->modules : "no kvm_intel, kvm_amd or kvm_pvm module");
	fprintf(f, "host CPU: %s, %s\n", p->cpu_vendor,
		p->host_is_guest ? "itself a guest (cpuinfo flag hypervisor)" : "bare metal");
	if (m->ok)
		fprintf(f, "guest CPL0: %s, ~%.*f ns/instruction (measured)\n",
			m->insn_ns > CPL0_EMULATED_NS ? "emulated" : "native",
			m->insn_ns < 10 ? 2 : 0, m->insn_ns);
	else
		fprintf(f, "guest CPL0: unknown (%s)\n", m->error);
	if (m->ok)
		fprintf(f, "userspace exit: ~%.0f ns round trip (measured)\n", m->exit_ns);
	if (p->tsc_khz > 0)
		fprintf(f, "TSC: %lld kHz (KVM_GET_TSC_KHZ)\n", (long long)p->tsc_khz);
	else
		fprintf(f, "TSC: unknown (KVM_GET_TSC_KHZ: %s)\n", strerror((int)-p->tsc_khz));

	fprintf(f, "capabilities (KVM_CHECK_EXTENSION on /dev/kvm, on a VM%s):\n",
		p->vm_caps ? "" : " (no KVM_CAP_CHECK_EXTENSION_VM: same)");
	for (int i = 0; i < p->nr_caps; i++)
		fprintf(f, "  %-32s %6d %6d\n", p->caps[i].name, p->caps[i].sys, p->caps[i].vm);

	fprintf(f, "timer and interrupt parameters:\n");
	for (int i = 0; i < p->nr_params; i++)
		fprintf(f, "  %-32s %s\n", p->params[i].name, param_value(&p->params[i]));

	for (int i = 0; i < p->nr_timer_virt; i++)
		fprintf(f, "  %-32s %s\n", p->timer_virt[i].name, param_value(&p->timer_virt[i]));
	fputs("hardware APIC-timer virtualization: ", f);
	if (!p->nr_timer_virt)
		fprintf(f, "no (no such parameter; searched: %s)\n",
			p->timer_virt_searched[0] ? p->timer_virt_searched : "no vendor module");
	else
		fprintf(f, "%s (parameters above)\n", kvm_probe_timer_virt(p) ? "yes" : "no");
}

/* Measurements vary by far more than a tenth; more digits only mislead. */
static double round1(double x)
{
	return (double)(int64_t)(x * 10 + 0.5) / 10;
}

static json_t *param_json(const struct probe_param *pp, int n)
{
	json_t *o = json_object();

	for (int i = 0; i < n; i++)
		json_object_set_new(o, pp[i].name,
				    pp[i].present ? json_string(pp[i].value) : json_null());
	return o;
}

static int write_json(const struct kvm_host_probe *p, const struct cpl0_probe *m,
		      const struct pv_eoi_probe *e, const char *path)
{
	json_t *caps = json_object(), *root;
	int ret;

	for (int i = 0; i < p->nr_caps; i++)
		json_object_set_new(caps, p->caps[i].name, json_pack("{si si}",
				    "system", p->caps[i].sys, "vm", p->caps[i].vm));
	root = json_pack("{ss si so ss ss ss sb so so so so so so so sb so}",
			 "vtimer_version", VTIMER_VERSION,
			 "api_version", p->api_version,
			 "caps", caps,
			 "flavour", p->flavour,
			 "kvm_modules", p->modules,
			 "host_cpu_vendor", p->cpu_vendor,
			 "host_is_guest", p->host_is_guest,
			 "cpl0_emulated", m->ok ? json_boolean(m->insn_ns > CPL0_EMULATED_NS) :
						  json_null(),
			 "cpl0_ns_per_insn", m->ok ? json_real(round1(m->insn_ns)) : json_null(),
			 "cpl0_error", m->ok ? json_null() : json_string(m->error),
			 "userspace_exit_ns", m->ok ? json_real(round1(m->exit_ns)) : json_null(),
			 "tsc_khz", p->tsc_khz > 0 ? json_integer(p->tsc_khz) : json_null(),
			 "params", param_json(p->params, p->nr_params),
			 "timer_virt_params", param_json(p->timer_virt, p->nr_timer_virt),
			 "timer_virt", kvm_probe_timer_virt(p),
			 "pv_eoi", pv_eoi_json(e));
	if (!root) {
		vt_err("cannot build the probe's JSON");
		return -1;
	}
	ret = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (ret)
		vt_err("cannot write %s", path);
	return ret ? -1 : 0;
}

static const struct option probe_opts[] = {
	{ "json", 1, 0, 'j' }, { "help", 0, 0, 'h' }, { 0 },
};

/* 0 to run, 1 if help was printed, -1 after a one-line error. */
static int parse_probe(int argc, char **argv, const char **json)
{
	int o;

	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", probe_opts, NULL)) != -1) {
		switch (o) {
		case 'j': *json = optarg; break;
		case 'h': fputs(probe_help, stdout); return 1;
		case ':':
			vt_err("option %s needs a value", argv[optind - 1]);
			return -1;
		default:
			vt_err("unknown option '%s' (try: vtimer probe --help)", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		vt_err("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

int cmd_probe(int argc, char **argv)
{
	struct kvm_host_probe p;
	struct cpl0_probe m;
	struct pv_eoi_probe e;
	const char *json = NULL;
	int kvm_fd, r, status = 0;

	r = parse_probe(argc, argv, &json);
	if (r)
		return r > 0 ? VT_EXIT_OK : VT_EXIT_SETUP;
	kvm_fd = kvm_open();
	if (kvm_fd < 0)
		return VT_EXIT_SETUP;
	r = kvm_probe_host(kvm_fd, &p);
	close(kvm_fd);
	if (r < 0)
		return VT_EXIT_KVM;
	measure_cpl0(&m);
	print_report(&p, &m, stdout);
	measure_pv_eoi(&e);
	print_pv_eoi(&e, stdout);
	if (!m.ok)
		status = VT_EXIT_KVM;
	if (json && write_json(&p, &m, &e, json) < 0)
		status = VT_EXIT_SETUP;
	return status;
}
