// SPDX-License-Identifier: MIT
/*
 * Timer-mode presets, axis parsing, and the rules that refuse combinations
 * which cannot work (each with a one-line reason).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../util.h"

static const char *const program_names[] = { "msr", "lazy", "pv", "hybrid", "direct" };
static const char *const discover_names[] = { "exit", "scan", "spin" };
static const char *const deliver_names[] = { "kernel", "vcpu", "housekeeping" };

static const struct timer_mode presets[] = {
	{ "kvm", PROGRAM_MSR, DISCOVER_EXIT, DELIVER_KERNEL, 0, 0 },
	{ "exitless", PROGRAM_MSR, DISCOVER_EXIT, DELIVER_HOUSEKEEPING, 0, 0 },
	{ "pvtimer", PROGRAM_PV, DISCOVER_SCAN, DELIVER_HOUSEKEEPING, 500000, 0 },
	{ "lazy", PROGRAM_LAZY, DISCOVER_EXIT, DELIVER_VCPU, 0, 0 },
	{ "apicv-model", PROGRAM_DIRECT, DISCOVER_SPIN, DELIVER_HOUSEKEEPING, 0, 0 },
	{ "hybrid", PROGRAM_HYBRID, DISCOVER_SCAN, DELIVER_HOUSEKEEPING, 500000, 20000 },
};

const char *timer_program_name(enum timer_program p) { return program_names[p]; }
const char *timer_discover_name(enum timer_discover d) { return discover_names[d]; }
const char *timer_deliver_name(enum timer_deliver d) { return deliver_names[d]; }

int timer_mode_preset(const char *name, struct timer_mode *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(presets); i++)
		if (!strcmp(name, presets[i].preset)) {
			*m = presets[i];
			return 0;
		}
	vt_err("unknown --timer=%s (presets: kvm exitless pvtimer lazy apicv-model hybrid)", name);
	return -1;
}

static int lookup(const char *const *names, int n, const char *val)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(val, names[i]))
			return i;
	return -1;
}

/* The optional ",look:US" after scan:PERIOD; 0 or -1. */
static int parse_look(const char *s, struct timer_mode *m)
{
	uint64_t us;
	char *end;

	if (!*s)
		return 0;
	if (strncmp(s, ",look:", 6) || !isdigit((unsigned char)s[6]))
		return -1;
	errno = 0;
	us = strtoull(s + 6, &end, 10);
	if (errno || *end || !us || us * 1000 >= m->scan_ns)
		return -1;	/* a look interval must be shorter than the scan period */
	m->look_ns = us * 1000;
	return 0;
}

int timer_axis_parse(const char *axis, const char *val, struct timer_mode *m)
{
	int i;

	m->preset = "custom";
	if (!strcmp(axis, "program")) {
		i = lookup(program_names, ARRAY_SIZE(program_names), val);
		if (i >= 0)
			m->program = i;
	} else if (!strcmp(axis, "deliver")) {
		i = lookup(deliver_names, ARRAY_SIZE(deliver_names), val);
		if (i >= 0)
			m->deliver = i;
	} else {
		char *end;

		i = -1;
		if (!strncmp(val, "scan:", 5)) {
			uint64_t us;

			errno = 0;
			us = strtoull(val + 5, &end, 10);
			if (isdigit((unsigned char)val[5]) && !errno && us > 0 &&
			    us <= UINT64_MAX / 1000) {
				struct timer_mode t = *m;

				t.discover = DISCOVER_SCAN;
				t.scan_ns = us * 1000;
				t.look_ns = 0;
				i = parse_look(end, &t);
				if (i == 0)
					*m = t;
			}
		} else {
			i = lookup(discover_names, ARRAY_SIZE(discover_names), val);
			if (i == DISCOVER_SCAN)
				i = -1;	/* needs a period */
			else if (i >= 0)
				m->discover = i;
		}
	}
	if (i < 0) {
		vt_err("bad --%s=%s", axis, val);
		return -1;
	}
	return 0;
}

int timer_mode_check(const struct timer_mode *m)
{
	const char *p = timer_program_name(m->program);

	if (m->deliver == DELIVER_KERNEL && m->program != PROGRAM_MSR) {
		vt_err("--program=%s needs host-side delivery: KVM's in-kernel timer (deliver=kernel) only sees MSR writes", p);
		return -1;
	}
	if (m->deliver == DELIVER_KERNEL && m->discover != DISCOVER_EXIT) {
		vt_err("--discover=%s needs host-side delivery: deliver=kernel cannot arm timers the VMM discovers",
		       timer_discover_name(m->discover));
		return -1;
	}
	if (m->discover == DISCOVER_EXIT &&
	    (m->program == PROGRAM_PV || m->program == PROGRAM_HYBRID ||
	     m->program == PROGRAM_DIRECT)) {
		vt_err("--program=%s hands deadlines over without exits: it needs --discover=scan:US or spin", p);
		return -1;
	}
	return 0;
}

int timer_mode_check_kernel(const struct timer_mode *m)
{
	if (m->program != PROGRAM_MSR) {
		vt_err("--program=%s needs a guest that uses vtimer's PV interface: --kernel runs kvm, exitless and --program=msr modes only",
		       timer_program_name(m->program));
		return -1;
	}
	return 0;
}
