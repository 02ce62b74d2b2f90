// SPDX-License-Identifier: MIT
/*
 * The host floor (hostfloor.h): cyclictest on the host, beside the guests.
 *
 * It runs as `cyclictest -t1 -i US -l N -N -v --default-system`, plus
 * `-p 80 -m` as root. -v -N prints every sample in ns, so the percentiles
 * are computed here as for the guests (stats_compute, nearest rank) instead
 * of read off cyclictest's 1 us histogram or its integer-us summary.
 * --default-system leaves /dev/cpu_dma_latency alone: cyclictest would
 * otherwise hold it at 0 (no deep C-states) while it runs, a state the
 * guests' runs never get, and the floor would not be one measured on the
 * same machine. Without root cyclictest still needs RLIMIT_RTPRIO or
 * CAP_SYS_NICE (it checks it can use SCHED_FIFO even when told not to):
 * then it fails, and its own message says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostfloor.h"
#include "../machine/machine.h"
#include "../util.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* Parser */

void host_floor_parse_init(struct host_floor_parser *p, int64_t *v, size_t cap)
{
	*p = (struct host_floor_parser){ .v = v, .cap = cap };
}

static void parse_fail(struct host_floor_parser *p, const char *why)
{
	snprintf(p->error, sizeof(p->error), "%s: '%.60s'", why, p->line);
}

/* One complete line in p->line. */
static void parse_line(struct host_floor_parser *p)
{
	unsigned int thread;
	unsigned long long cycle;
	long long ns;
	int end = -1;

	if (sscanf(p->line, " %u: %llu: %lld %n", &thread, &cycle, &ns, &end) < 3 || end < 0 ||
	    p->line[end])
		return;		/* not a sample line: a header or a note */
	if (thread != 0)
		return parse_fail(p, "a sample of another thread than -t1's");
	if (cycle < p->next_cycle)
		return parse_fail(p, "cycle numbers going backwards");
	if (p->n == p->cap)
		return parse_fail(p, "more samples than loops");
	p->lost += cycle - p->next_cycle;
	p->next_cycle = cycle + 1;
	p->v[p->n++] = ns;
}

int host_floor_parse_feed(struct host_floor_parser *p, const char *buf, size_t len)
{
	for (size_t i = 0; i < len && !p->error[0]; i++) {
		if (buf[i] != '\n') {
			/* a sample line is ~30 bytes; longer ones are not samples */
			if (p->len < sizeof(p->line) - 1)
				p->line[p->len++] = buf[i];
			continue;
		}
		p->line[p->len] = 0;
		parse_line(p);
		p->len = 0;
	}
	return p->error[0] ? -1 : 0;
}

int host_floor_parse_end(struct host_floor_parser *p)
{
	if (p->len && !p->error[0]) {
		p->line[p->len] = 0;
		parse_line(p);
		p->len = 0;
	}
	return p->error[0] ? -1 : 0;
}

/* Finding and describing it */

int host_floor_which(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char dirs[4096];

	snprintf(dirs, sizeof(dirs), "%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if ((size_t)snprintf(out, len, "%s/%s", d, name) >= len)
			continue;
		if (!access(out, X_OK))
			return 0;
	}
	out[0] = 0;
	return -1;
}

void host_floor_init(struct host_floor *hf, enum host_floor_mode mode, uint64_t interval_ns,
		     uint32_t loops)
{
	memset(hf, 0, sizeof(*hf));
	hf->mode = mode;
	hf->interval_ns = interval_ns;
	hf->loops = loops;
	hf->rt = geteuid() == 0;
	/* twice the run, plus start-up (mlockall of a fresh process) and a loaded host */
	hf->limit_ns = 2 * interval_ns * loops + 5000000000ULL;
	if (mode != HOST_FLOOR_OFF)
		host_floor_which("cyclictest", hf->path, sizeof(hf->path));
}

bool host_floor_enabled(const struct host_floor *hf)
{
	return hf->mode != HOST_FLOOR_OFF && hf->path[0];
}

const char *host_floor_policy(const struct host_floor *hf)
{
	return hf->rt ? "SCHED_FIFO " STR(HOST_FLOOR_PRIO) ", mlockall" : "SCHED_OTHER (not root: no -p, no -m)";
}

const char *host_floor_missing(const struct host_floor *hf)
{
	if (hf->mode == HOST_FLOOR_OFF)
		return "off (--host-floor=off)";
	if (!hf->path[0])
		return "cyclictest not installed (apt-get install rt-tests)";
	if (!hf->n)
		return "not run (no cyclic or latency workload in this bench)";
	for (int i = 0; i < hf->n; i++)
		if (!hf->runs[i].error[0])
			return NULL;
	return hf->runs[0].error;
}

/* Running it */

/* Child side of the fork: only async-signal-safe calls until exec. */
static void exec_child(const char *path, char *const argv[], int out, int err, pid_t parent)
{
	/* dies with vtimer, so that no cyclictest is ever left behind */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
		_exit(127);
	execv(path, argv);
	_exit(127);
}

/* Kills pid past deadline (or at once if deadline is 0), always reaps it. */
static int reap(pid_t pid, uint64_t deadline, bool *killed)
{
	int st;

	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			return st;
		if (w < 0 && errno != EINTR)
			return -1;
		if (!*killed && now_ns() >= deadline) {
			kill(pid, SIGKILL);
			*killed = true;
		}
		usleep(1000);
	}
}

/* Reads the child's stdout into the parser until EOF or the deadline. */
static const char *pump(int fd, struct host_floor_parser *p, uint64_t deadline)
{
	char buf[4096];

	for (;;) {
		uint64_t now = now_ns();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t got;

		if (now >= deadline)
			return "ran past its time limit: killed";
		if (vm_stop_signal())
			return "stopped by a signal: killed";
		if (poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1) < 0 && errno != EINTR)
			return "poll failed";
		if (!pfd.revents)
			continue;
		got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return NULL;
		if (host_floor_parse_feed(p, buf, got) < 0)
			return "output not understood: killed";
	}
}

/* cyclictest's stderr, its lines joined, without the notes it always prints. */
static void stderr_text(int fd, char *out, size_t len)
{
	char buf[1024], *save;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	size_t at = 0;

	buf[n > 0 ? n : 0] = 0;
	out[0] = 0;
	for (char *l = strtok_r(buf, "\n", &save); l && at < len; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "WARN: not setting cpu_dma_latency", 33))
			continue;
		at += snprintf(out + at, len - at, "%s%s", at ? "; " : "", l);
	}
}

/* cyclictest's arguments, NULL-terminated, in argv[13]; iv and lv hold the numbers. */
static void build_argv(const struct host_floor *hf, char *argv[], char iv[24], char lv[24])
{
	/* without root the list ends before "-p": no SCHED_FIFO, no mlockall */
	char *const a[] = { "cyclictest", "-t1", "-i", iv, "-l", lv, "-N", "-v",
			    "--default-system", hf->rt ? "-p" : NULL, STR(HOST_FLOOR_PRIO), "-m",
			    NULL };
	uint64_t us = hf->interval_ns / 1000;

	snprintf(iv, 24, "%llu", (unsigned long long)(us ? us : 1));
	snprintf(lv, 24, "%u", hf->loops);
	memcpy(argv, a, sizeof(a));
}

void host_floor_command(const struct host_floor *hf, char *out, size_t len)
{
	char iv[24], lv[24], *argv[13];
	size_t at = 0;

	build_argv(hf, argv, iv, lv);
	out[0] = 0;
	for (int i = 0; argv[i] && at < len; i++)
		at += snprintf(out + at, len - at, "%s%s", i ? " " : "", argv[i]);
}

/* One run into r: spawn, parse, reap. */
static void run_into(const struct host_floor *hf, struct host_floor_run *r,
		     struct host_floor_parser *p)
{
	char iv[24], lv[24], why[160] = "", *argv[13];
	uint64_t t0 = now_ns();
	uint64_t deadline = t0 + hf->limit_ns;
	int out[2], err = memfd_create("cyclictest-stderr", MFD_CLOEXEC), st;
	const char *fail = NULL;
	bool killed = false;
	pid_t pid, self = getpid();

	build_argv(hf, argv, iv, lv);
	if (err < 0 || pipe2(out, O_CLOEXEC) < 0) {
		snprintf(r->error, sizeof(r->error), "cannot make pipes: %s", strerror(errno));
		if (err >= 0)
			close(err);
		return;
	}
	pid = fork();
	if (pid == 0)
		exec_child(hf->path, argv, out[1], err, self);
	close(out[1]);
	if (pid < 0) {
		snprintf(r->error, sizeof(r->error), "fork: %s", strerror(errno));
		close(out[0]);
		close(err);
		return;
	}
	fail = pump(out[0], p, deadline);
	close(out[0]);
	st = reap(pid, fail ? 0 : deadline, &killed);
	r->wall_s = (now_ns() - t0) / 1e9;
	stderr_text(err, why, sizeof(why));
	close(err);
	if (!fail && killed)
		fail = "ran past its time limit: killed";
	if (!fail && host_floor_parse_end(p) < 0)
		fail = "output not understood";
	if (fail)
		snprintf(r->error, sizeof(r->error), "cyclictest %s%s%s", fail,
			 p->error[0] ? ": " : "", p->error);
	else if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		snprintf(r->error, sizeof(r->error), "cyclictest failed (%s %d)%s%s",
			 WIFSIGNALED(st) ? "signal" : "exit status",
			 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), why[0] ? ": " : "", why);
	else if (!p->n)
		snprintf(r->error, sizeof(r->error), "cyclictest printed no samples%s%s",
			 why[0] ? ": " : "", why);
}

int host_floor_run(struct host_floor *hf)
{
	struct host_floor_run *r;
	struct host_floor_parser p;
	int64_t *v;

	if (!host_floor_enabled(hf) || hf->n == HOST_FLOOR_MAX_RUNS || !hf->loops)
		return -1;
	r = &hf->runs[hf->n++];
	memset(r, 0, sizeof(*r));
	v = malloc(hf->loops * sizeof(*v));
	if (!v) {
		snprintf(r->error, sizeof(r->error), "out of memory for %u samples", hf->loops);
		return -1;
	}
	host_floor_parse_init(&p, v, hf->loops);
	run_into(hf, r, &p);
	if (!r->error[0]) {
		stats_compute(v, p.n, &r->lat);	/* sorts v */
		for (int q = 0; q <= 100 && p.n; q++)
			r->quantile_ns[q] = v[(p.n - 1) * (size_t)q / 100];
		r->lost = p.lost + (hf->loops - p.n - p.lost);
	}
	free(v);
	return r->error[0] ? -1 : 0;
}

/* Results */

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of n values, the mean of the middle two when n is even (as bench_median). */
static double median_dbl(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool host_floor_median(const struct host_floor *hf, struct lat_stats *st)
{
	enum { N, MIN, AVG, P50, P99, MAX, FIELDS };
	double v[FIELDS][HOST_FLOOR_MAX_RUNS];
	int n = 0;

	*st = (struct lat_stats){ 0 };
	for (int i = 0; i < hf->n; i++) {
		const struct lat_stats *l = &hf->runs[i].lat;

		if (hf->runs[i].error[0])
			continue;
		v[N][n] = l->n;
		v[MIN][n] = l->min;
		v[AVG][n] = l->avg;
		v[P50][n] = l->p50;
		v[P99][n] = l->p99;
		v[MAX][n++] = l->max;
	}
	if (!n)
		return false;
	*st = (struct lat_stats){
		.n = median_dbl(v[N], n), .min = median_dbl(v[MIN], n), .avg = median_dbl(v[AVG], n),
		.p50 = median_dbl(v[P50], n), .p99 = median_dbl(v[P99], n), .max = median_dbl(v[MAX], n),
	};
	return true;
}

static json_t *lat_json(const struct lat_stats *l)
{
	return json_pack("{sI sI sf sI sI sI}", "samples", (json_int_t)l->n,
			 "min", (json_int_t)l->min, "avg", l->avg, "p50", (json_int_t)l->p50,
			 "p99", (json_int_t)l->p99, "max", (json_int_t)l->max);
}

json_t *host_floor_json(const struct host_floor *hf)
{
	const char *missing = host_floor_missing(hf);
	json_t *runs = json_array(), *j;
	struct lat_stats med;
	char cmd[256];

	for (int i = 0; i < hf->n; i++) {
		const struct host_floor_run *r = &hf->runs[i];
		json_t *o = json_pack("{sf sI}", "wall_s", r->wall_s, "lost", (json_int_t)r->lost);

		if (r->error[0])
			json_object_set_new(o, "error", json_string(r->error));
		else
			json_object_set_new(o, "latency_ns", lat_json(&r->lat));
		json_array_append_new(runs, o);
	}
	host_floor_command(hf, cmd, sizeof(cmd));
	j = json_pack("{ss ss ss* ss ss sb sI sI ss* so}", "tool", "cyclictest",
		      "state", hf->mode == HOST_FLOOR_OFF ? "off" : !hf->path[0] ? "absent" :
			       missing ? "failed" : "ok",
		      "path", hf->path[0] ? hf->path : NULL, "command", cmd,
		      "policy", host_floor_policy(hf),
		      "mlockall", hf->rt, "interval_ns", (json_int_t)hf->interval_ns,
		      "loops", (json_int_t)hf->loops, "placement", hf->placement, "runs", runs);
	if (missing)
		json_object_set_new(j, "error", json_string(missing));
	if (host_floor_median(hf, &med))
		json_object_set_new(j, "latency_ns", lat_json(&med));
	return j;
}
