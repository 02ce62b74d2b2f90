/* SPDX-License-Identifier: MIT */
/*
 * The host floor: rt-tests' cyclictest run on the host at the bench's
 * interval and event count, in the same vtimer bench invocation as the
 * guests. A vCPU's timer wake-up is a host thread's wake-up with the
 * virtualization on top, so cyclictest's latency is the floor no guest
 * can beat. Latencies in ns, as the guests' (stats.h).
 */
#ifndef VTIMER_HOSTFLOOR_H
#define VTIMER_HOSTFLOOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

#define HOST_FLOOR_MAX_RUNS	16
#define HOST_FLOOR_PRIO		80	/* rt-tests' usual; below the kernel's own RT threads at 99 */

struct host_floor_run {
	struct lat_stats lat;		/* ns, over every sample cyclictest printed */
	int64_t quantile_ns[101];	/* the sample at (n - 1) * q / 100 of the sorted
					 * samples, q = 0..100: the plots' curve */
	uint64_t lost;			/* loops without a sample line */
	double wall_s;
	char error[200];		/* "" when the run gave samples */
};

enum host_floor_mode { HOST_FLOOR_AUTO, HOST_FLOOR_OFF };

struct host_floor {
	enum host_floor_mode mode;
	char path[512];			/* cyclictest on PATH, "" when not installed */
	bool rt;			/* -p HOST_FLOOR_PRIO -m: root only */
	uint64_t interval_ns;
	uint32_t loops;
	uint64_t limit_ns;
	const char *placement;		/* when it ran, against the guests, for the reader */		/* a run past it is killed: 2 x interval x loops + 5 s */
	int n;				/* runs done */
	struct host_floor_run runs[HOST_FLOOR_MAX_RUNS];
};

/*
 * The streaming parser of `cyclictest -t1 -N -v` output: every line
 * "THREAD: CYCLE: NS" of thread 0 is a sample; other lines (CPU counts,
 * "Thread 0 Interval:", '#' notes) are skipped. Cycles must rise; a gap
 * (cyclictest's sample buffer wrapped) counts as lost. v holds cap samples.
 */
struct host_floor_parser {
	int64_t *v;
	size_t n, cap;
	uint64_t next_cycle, lost;
	char line[128];
	size_t len;
	char error[160];		/* the first malformed or excess line */
};

void host_floor_parse_init(struct host_floor_parser *p, int64_t *v, size_t cap);
/* Feeds len bytes, lines may be split anywhere; -1 once p->error is set. */
int host_floor_parse_feed(struct host_floor_parser *p, const char *buf, size_t len);
/* Flushes a last line without '\n'; -1 if p->error is set. */
int host_floor_parse_end(struct host_floor_parser *p);

/* Path of name on $PATH (executable) into out; 0 or -1 when absent. */
int host_floor_which(const char *name, char *out, size_t len);

/* Fills hf: mode, cyclictest's path if installed, rt if root, the limit. */
void host_floor_init(struct host_floor *hf, enum host_floor_mode mode, uint64_t interval_ns,
		     uint32_t loops);
/* Ready to run: on and cyclictest installed. */
bool host_floor_enabled(const struct host_floor *hf);
/*
 * One cyclictest run into hf->runs[hf->n++]: fork/exec, no shell, its
 * output parsed as it comes; killed past hf->limit_ns or on SIGINT/SIGTERM
 * (vm_stop_signal), always reaped. 0, or -1 with the run's
 * error set.
 */
int host_floor_run(struct host_floor *hf);
/* The command line it runs, "cyclictest -t1 -i 1000 ...", into out. */
void host_floor_command(const struct host_floor *hf, char *out, size_t len);
/* "SCHED_FIFO 80, mlockall" or "SCHED_OTHER (not root)". */
const char *host_floor_policy(const struct host_floor *hf);
/* Why there is no floor ("cyclictest not installed (...)"), NULL if there is one. */
const char *host_floor_missing(const struct host_floor *hf);
/* The median over the runs with samples of each figure; false if none. */
bool host_floor_median(const struct host_floor *hf, struct lat_stats *st);
/* results.json's "host_floor" object. */
json_t *host_floor_json(const struct host_floor *hf);

#endif
