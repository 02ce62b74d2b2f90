// SPDX-License-Identifier: MIT
/*
 * The tracefs instance behind ktrace.h: instances/vtimer-<pid>, its own
 * buffer and event switches, so nothing another tracer set is touched.
 * Only this process is traced: set_event_pid holds its pid and
 * options/event-fork adds every thread it starts after that (the vCPU
 * threads, where KVM fires these events). The instance goes away at the end
 * of the run and on every error path; one left by a process that was killed
 * is removed by the next run (its pid no longer exists).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktrace.h"
#include "../util.h"

#define TRACEFS		"/sys/kernel/tracing"
#define TRACEFS_DEBUGFS	"/sys/kernel/debug/tracing"
/* The buffer when parsing it: per CPU, and at most this much in all. */
#define KT_BUFFER_KB		4096
#define KT_BUFFER_ALL_KB	(256 * 1024)
/* Events without which there is no count worth showing. */
#define KT_REQUIRED ((1u << KT_EV_MSR) | (1u << KT_EV_UEXIT) | (1u << KT_EV_PIO) | \
		     (1u << KT_EV_INJ_VIRQ))

/* dir/file := val; 0 or -errno. */
static int put(const char *dir, const char *file, const char *val)
{
	char path[512];
	ssize_t n;
	int fd, e = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		e = -errno;
	close(fd);
	return e;
}

/* The whole of dir/file, NUL-terminated (tracefs files have no size); NULL + errno. */
static char *slurp(const char *dir, const char *file)
{
	char path[512], *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n = 1;
	int fd, e;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	while (n > 0) {
		if (cap - len < 65536) {
			char *b = realloc(buf, cap = cap ? 2 * cap : 1 << 20);

			if (!b)
				break;
			buf = b;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n > 0)
			len += n;
	}
	e = n < 0 ? errno : ENOMEM;
	close(fd);
	if (n) {		/* a read error, or out of memory */
		free(buf);
		errno = e;
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

static bool writable(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/instances", dir);
	return !access(path, W_OK);
}

/* Where tracefs is, mounting it as root if it is not; NULL with the reason. */
static const char *tracefs_root(char *why, size_t len)
{
	if (writable(TRACEFS))
		return TRACEFS;
	if (writable(TRACEFS_DEBUGFS))
		return TRACEFS_DEBUGFS;
	if (geteuid()) {
		snprintf(why, len, "not root (tracefs instances not writable)");
		return NULL;
	}
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) < 0) {
		snprintf(why, len, "no tracefs: mounting it on %s: %s", TRACEFS, strerror(errno));
		return NULL;
	}
	if (writable(TRACEFS))
		return TRACEFS;
	snprintf(why, len, "tracefs on %s has no instances", TRACEFS);
	return NULL;
}

static bool has_file(const char *root, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return !access(path, F_OK);
}

/* The events this kernel has (bits), and whether it has hist triggers. */
static unsigned int kvm_events(const char *root, bool *hist)
{
	unsigned int have = 0;
	char rel[128];

	for (int ev = 0; ev < KT_EVENTS; ev++) {
		snprintf(rel, sizeof(rel), "events/kvm/%s/enable", ktrace_event_name(ev));
		if (has_file(root, rel))
			have |= 1u << ev;
	}
	snprintf(rel, sizeof(rel), "events/kvm/%s/hist", ktrace_event_name(KT_EV_MSR));
	*hist = has_file(root, rel);
	return have;
}

/* Instances vtimer-<pid> whose process is gone: left by a killed run. */
static void remove_stale(const char *root)
{
	char path[512];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/instances", root);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		char *end;
		long pid;

		if (strncmp(d->d_name, "vtimer-", 7))
			continue;
		pid = strtol(d->d_name + 7, &end, 10);
		if (*end || pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/instances/%s", root, d->d_name);
		if (!rmdir(path))
			vt_info("removed the tracefs instance of a vtimer that is gone: %s", path);
	}
	if (dir)
		closedir(dir);
}

static int buffer_kb(bool hist)
{
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	long kb = KT_BUFFER_ALL_KB / (cpus > 0 ? cpus : 1);

	if (hist)
		return 64;	/* counted in the kernel: the buffer only passes events on */
	return kb < KT_BUFFER_KB ? (kb < 64 ? 64 : kb) : KT_BUFFER_KB;
}

/* The instance's switches: this process, then the events; -errno and what failed. */
static int setup(struct ktrace *kt, const char **what)
{
	char val[128];
	int e;

	snprintf(val, sizeof(val), "%d", buffer_kb(kt->res.hist));
	if ((e = put(kt->dir, *what = "buffer_size_kb", val)) ||
	    (e = put(kt->dir, *what = "options/event-fork", "1")))
		return e;
	snprintf(val, sizeof(val), "%d", (int)getpid());
	if ((e = put(kt->dir, *what = "set_event_pid", val)))
		return e;
	for (int ev = 0; ev < KT_EVENTS; ev++) {
		char file[96];

		if (!(kt->res.events & (1u << ev)))
			continue;
		*what = ktrace_event_name(ev);
		snprintf(file, sizeof(file), "events/kvm/%s/trigger", ktrace_event_name(ev));
		snprintf(val, sizeof(val), "hist:keys=%s", ktrace_hist_keys(ev));
		if (kt->res.hist && (e = put(kt->dir, file, val)))
			return e;
		/* Enabled, not only triggered: then set_event_pid filters what the
		 * hist counts exactly as what the buffer records. */
		snprintf(file, sizeof(file), "events/kvm/%s/enable", ktrace_event_name(ev));
		if ((e = put(kt->dir, file, "1")))
			return e;
	}
	return put(kt->dir, *what = "tracing_on", "1");
}

static int unavailable(struct ktrace *kt, enum ktrace_mode mode)
{
	kt->res.state = KTRACE_STATE_UNAVAILABLE;
	if (mode == KTRACE_AUTO)
		return 0;
	vt_err("--ktrace: kvm tracepoints unavailable: %s", kt->res.why);
	return -1;
}

int ktrace_start(struct ktrace *kt, enum ktrace_mode mode)
{
	char *why = kt->res.why;
	size_t wl = sizeof(kt->res.why);
	const char *root, *what;
	int e;

	memset(kt, 0, sizeof(*kt));
	if (mode == KTRACE_OFF)
		return 0;
	if (!(root = tracefs_root(why, wl)))
		return unavailable(kt, mode);
	kt->res.events = kvm_events(root, &kt->res.hist);
	kt->res.hist &= mode != KTRACE_BUFFER;
	if ((kt->res.events & KT_REQUIRED) != KT_REQUIRED) {
		snprintf(why, wl, kt->res.events ? "kvm events incomplete in %s/events/kvm" :
			 "no kvm events in %s/events (kvm module not loaded?)", root);
		return unavailable(kt, mode);
	}
	remove_stale(root);
	snprintf(kt->dir, sizeof(kt->dir), "%s/instances/vtimer-%d", root, (int)getpid());
	rmdir(kt->dir);		/* one this process failed to remove before */
	if (mkdir(kt->dir, 0700) < 0) {
		snprintf(why, wl, "cannot create %s: %s", kt->dir, strerror(errno));
		kt->dir[0] = 0;
		return unavailable(kt, mode);
	}
	if ((e = setup(kt, &what)) < 0) {
		snprintf(why, wl, "setting up %s: %s", what, strerror(-e));
		ktrace_remove(kt);
		return unavailable(kt, mode);
	}
	kt->res.state = KTRACE_STATE_OK;
	return 0;
}

/* Counts from the hist tables or the buffer; -errno and the file on failure. */
static int collect(struct ktrace *kt, const char **what)
{
	char file[96], *text;

	put(kt->dir, "tracing_on", "0");
	if (!kt->res.hist) {
		if (!(text = slurp(kt->dir, *what = "trace")))
			return -errno;
		ktrace_parse_trace(text, &kt->res.c);
		free(text);
		return 0;
	}
	for (int ev = 0; ev < KT_EVENTS; ev++) {
		if (!(kt->res.events & (1u << ev)))
			continue;
		snprintf(file, sizeof(file), "events/kvm/%s/hist", ktrace_event_name(ev));
		*what = ktrace_event_name(ev);
		if (!(text = slurp(kt->dir, file)))
			return -errno;
		ktrace_parse_hist(ev, text, &kt->res.c);
		free(text);
	}
	return 0;
}

void ktrace_finish(struct ktrace *kt, struct ktrace_result *out)
{
	const char *what = "";
	int e;

	if (kt->res.state == KTRACE_STATE_OK && (e = collect(kt, &what)) < 0) {
		memset(&kt->res.c, 0, sizeof(kt->res.c));
		kt->res.state = KTRACE_STATE_UNAVAILABLE;
		snprintf(kt->res.why, sizeof(kt->res.why), "reading %s: %s", what, strerror(-e));
	}
	*out = kt->res;
	ktrace_remove(kt);
}

void ktrace_remove(struct ktrace *kt)
{
	char file[96], val[128];

	if (!kt->dir[0])
		return;
	put(kt->dir, "tracing_on", "0");
	for (int ev = 0; ev < KT_EVENTS; ev++) {
		if (!(kt->res.events & (1u << ev)))
			continue;
		snprintf(file, sizeof(file), "events/kvm/%s/enable", ktrace_event_name(ev));
		put(kt->dir, file, "0");
		if (!kt->res.hist)
			continue;
		snprintf(file, sizeof(file), "events/kvm/%s/trigger", ktrace_event_name(ev));
		snprintf(val, sizeof(val), "!hist:keys=%s", ktrace_hist_keys(ev));
		put(kt->dir, file, val);
	}
	if (rmdir(kt->dir) < 0)
		vt_err("cannot remove the tracefs instance %s: %s", kt->dir, strerror(errno));
	kt->dir[0] = 0;
}
