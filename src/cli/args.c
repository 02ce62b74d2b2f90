// SPDX-License-Identifier: MIT
/* Option-value parsing and defaults shared by the commands. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "../bench/report.h"
#include "../util.h"

int parse_u64(const char *opt, const char *s, unsigned long long lo, unsigned long long hi,
	      unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !isdigit((unsigned char)*s) || *end || v < lo || v > hi) {
		vt_err("--%s=%s: expected a whole number from %llu to %llu", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* --timer-share=PCT: 0 (none), or 0.001 to 100 percent of a CPU, in ppm. */
int parse_share(const char *opt, const char *val, uint32_t *ppm)
{
	size_t digits = strspn(val, "0123456789"), frac = 0;
	double v;

	if (val[digits] == '.')
		frac = strspn(val + digits + 1, "0123456789");
	if (!digits || val[digits + (val[digits] == '.' ? 1 + frac : 0)] || frac > 3 ||
	    (v = strtod(val, NULL)) > 100 || (v > 0 && v < 0.001)) {
		vt_err("--%s=%s: expected a percentage from 0.001 to 100 (at most 3 decimals), or 0",
		       opt, val);
		return -1;
	}
	*ppm = (uint32_t)(v * 10000 + 0.5);
	return 0;
}

const char *default_guest_path(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n;

	if (getenv("VTIMER_GUEST"))
		return getenv("VTIMER_GUEST");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return "build/guest.elf";
	exe[n] = 0;
	snprintf(path, sizeof(path), "%s/guest.elf", dirname(exe));
	return path;
}

void run_config_defaults(struct run_config *c)
{
	*c = (struct run_config){
		.workload = VTIMER_WL_CYCLIC, .vcpus = 1, .count = 1000,
		.interval_ns = 1000000, .tick_ns = 4000000, .phase_ns = VTIMER_PHASE_NONE,
		.mem_size = 128 << 20,
		.lapic = VTIMER_LAPIC_DEADLINE, .wait = VTIMER_WAIT_HLT, .hk_cpu = -1, .pin = -1,
		.tuning = { .floor_ns = TIMER_FLOOR_DEFAULT_NS, .share_ppm = TIMER_SHARE_DEFAULT_PPM,
			    .advance_ns = HK_ADVANCE_AUTO },
	};
	timer_mode_preset("kvm", &c->mode);
}
