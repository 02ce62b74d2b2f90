// SPDX-License-Identifier: MIT
/* kvm-unit-tests-style "latency:" and "SUMMARY:" lines (kout.h). */
#include <stdlib.h>
#include <string.h>

#include "kout.h"

/* An optional '-' and 1..19 digits, the whole of [s, end): *v. */
static bool parse_i64(const char *s, const char *end, int64_t *v)
{
	bool neg = s < end && *s == '-';
	uint64_t x = 0;
	int digits = 0;

	for (s += neg; s < end; s++, digits++) {
		if (*s < '0' || *s > '9' || digits == 19)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (!digits || x > (uint64_t)INT64_MAX)
		return false;
	*v = neg ? -(int64_t)x : (int64_t)x;
	return true;
}

/* Consumes "N<word>" at *s (N decimal, < 2^32) when it is there. */
static bool take_count(const char **s, const char *end, const char *word, uint32_t *out)
{
	const char *p = *s;
	uint64_t x = 0;
	size_t w = strlen(word);

	if (p >= end || *p < '0' || *p > '9')
		return false;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		if ((x = x * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
			return false;
	if ((size_t)(end - p) < w || memcmp(p, word, w))
		return false;
	*out = (uint32_t)x;
	*s = p + w;
	return true;
}

static void summary(struct kout *k, const char *s, const char *end)
{
	struct kout_summary m = { .seen = true };

	if (!take_count(&s, end, " tests", &m.tests))
		return;
	if (end - s > 2 && !memcmp(s, ", ", 2)) {
		const char *t = s + 2;

		if (take_count(&t, end, " unexpected failures", &m.failures))
			s = t;
	}
	if (end - s > 2 && !memcmp(s, ", ", 2)) {
		const char *t = s + 2;

		if (take_count(&t, end, " expected failures", &m.xfailures))
			s = t;
	}
	if (end - s > 2 && !memcmp(s, ", ", 2)) {
		const char *t = s + 2;

		if (take_count(&t, end, " skipped", &m.skipped))
			s = t;
	}
	if (s == end)
		k->summary = m;
}

static void sample(struct kout *k, int64_t v)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 1024;
		int64_t *p;

		if (k->cap >= KOUT_MAX_SAMPLES || !(p = realloc(k->lat, cap * sizeof(*p)))) {
			k->dropped++;
			return;
		}
		k->lat = p;
		k->cap = cap;
	}
	k->lat[k->n++] = v;
}

void kout_line(void *arg, const char *line, size_t len)
{
	static const char lat[] = "latency: ", sum[] = "SUMMARY: ";
	struct kout *k = arg;
	const char *end = line + len;
	const char *p;
	int64_t v;

	if (len && end[-1] == '\r')
		end--;
	len = (size_t)(end - line);
	if (len >= sizeof(sum) - 1 && !memcmp(line, sum, sizeof(sum) - 1)) {
		summary(k, line + sizeof(sum) - 1, end);
		return;
	}
	/* "latency: N", or "hit max: B < latency: N" for the last one under breakmax. */
	p = memmem(line, len, lat, sizeof(lat) - 1);
	if (!p || (p != line && !(len > 9 && !memcmp(line, "hit max: ", 9))))
		return;
	if (parse_i64(p + sizeof(lat) - 1, end, &v))
		sample(k, v);
}

void kout_finish(struct kout *k, uint64_t tsc_khz, struct kout_result *out)
{
	memset(out, 0, sizeof(*out));
	out->summary = k->summary;
	out->dropped = k->dropped;
	for (size_t i = 0; i < k->n; i++) {
		out->early += k->lat[i] < 0;
		/* 2^53 cycles is months: beyond it a kernel's figure is noise, clamped. */
		if (k->lat[i] > (1LL << 53) || k->lat[i] < -(1LL << 53))
			k->lat[i] = k->lat[i] < 0 ? -(1LL << 53) : 1LL << 53;
		k->lat[i] = tsc_khz ? tsc_to_ns(k->lat[i], tsc_khz) : 0;
	}
	if (tsc_khz)
		stats_compute(k->lat, k->n, &out->lat);
	free(k->lat);
	k->lat = NULL;
	k->n = k->cap = 0;
}
