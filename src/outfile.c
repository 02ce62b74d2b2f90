// SPDX-License-Identifier: MIT
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "util.h"

static int refuse(const char *opt, const char *path, int err)
{
	vt_err("--%s=%s: cannot write: %s", opt, path, strerror(err));
	return -1;
}

/* The temp file next to o->path, with the mode the target has or would get. */
static int open_tmp(struct outfile *o, mode_t mode)
{
	char *dir = strdup(o->path), *base = strdup(o->path);
	int fd = -1;

	if (dir && base && asprintf(&o->tmp, "%s/.%s.XXXXXX", dirname(dir), basename(base)) > 0)
		fd = mkstemp(o->tmp);
	else
		o->tmp = NULL;
	free(dir);
	free(base);
	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) < 0 || !(o->f = fdopen(fd, "w"))) {
		int err = errno;

		close(fd);
		unlink(o->tmp);
		errno = err;
		return -1;
	}
	return 0;
}

int outfile_open(struct outfile *o, const char *opt, const char *path)
{
	struct stat st;
	char real[PATH_MAX];
	mode_t mask = umask(0);

	umask(mask);
	memset(o, 0, sizeof(*o));
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return refuse(opt, path, errno);
		o->path = strdup(path);
		st.st_mode = 0666 & ~mask;
	} else if (S_ISDIR(st.st_mode)) {
		return refuse(opt, path, EISDIR);
	} else if (!S_ISREG(st.st_mode)) {
		o->f = fopen(path, "w");	/* a device or FIFO: nothing to clobber */
		return o->f ? 0 : refuse(opt, path, errno);
	} else if (access(path, W_OK) < 0 || !realpath(path, real)) {
		return refuse(opt, path, errno);
	} else {
		o->path = strdup(real);
	}
	if (!o->path || open_tmp(o, st.st_mode & 07777) < 0) {
		int err = o->path ? errno : ENOMEM;

		free(o->path);
		free(o->tmp);
		memset(o, 0, sizeof(*o));
		return refuse(opt, path, err);
	}
	return 0;
}

static void outfile_free(struct outfile *o)
{
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
}

int outfile_commit(struct outfile *o)
{
	bool bad;
	int err = 0;

	if (!o->f)
		return 0;	/* nothing was opened */
	bad = ferror(o->f);
	if (fclose(o->f) && !bad) {
		bad = true;
		err = errno;
	}
	o->f = NULL;
	if (o->tmp && !bad && rename(o->tmp, o->path) < 0) {
		bad = true;
		err = errno;
	}
	if (bad) {
		vt_err("cannot write %s%s%s", o->path ? o->path : "output", err ? ": " : "",
		       err ? strerror(err) : "");
		if (o->tmp)
			unlink(o->tmp);
	}
	outfile_free(o);
	return bad ? -1 : 0;
}

void outfile_discard(struct outfile *o)
{
	if (o->f)
		fclose(o->f);
	if (o->tmp)
		unlink(o->tmp);
	outfile_free(o);
}
