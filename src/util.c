// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include "util.h"

int vt_verbose;

void vt_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("vtimer: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void vt_info(const char *fmt, ...)
{
	va_list ap;

	if (!vt_verbose)
		return;
	va_start(ap, fmt);
	fputs("vtimer: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
