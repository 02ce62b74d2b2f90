// SPDX-License-Identifier: MIT
/* Option-value parsing shared by the commands. */
#include <errno.h>
#include <stdlib.h>

#include "cli.h"
#include "../util.h"

int parse_u64(const char *opt, const char *s, unsigned long long lo, unsigned long long hi,
	      unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi) {
		vt_err("--%s=%s: expected a whole number from %llu to %llu", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}
