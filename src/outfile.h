/* SPDX-License-Identifier: MIT */
/*
 * Output files named on the command line (--json, --console, --markdown):
 * checked before the run, written to a temp file next to the target, and
 * renamed over it only by outfile_commit(), so a refused path is reported
 * before any work and an existing file is never truncated by a run that
 * does not finish. Non-regular targets (/dev/null, a FIFO, a tty) are
 * opened directly.
 */
#ifndef VTIMER_OUTFILE_H
#define VTIMER_OUTFILE_H

#include <stdio.h>

struct outfile {
	char *path;		/* where the result goes (symlinks resolved) */
	char *tmp;		/* written instead until commit; NULL if written directly */
	FILE *f;
};

/* 0, or -1 after one line "--OPT=PATH: cannot write: reason". */
int outfile_open(struct outfile *o, const char *opt, const char *path);
/* Closes and renames the temp file over the target; 0 or -1 (error printed); 0 if not open. */
int outfile_commit(struct outfile *o);
/* Closes and removes the temp file: the target is left as it was. */
void outfile_discard(struct outfile *o);

#endif
