/* SPDX-License-Identifier: MIT */
#ifndef VTIMER_RUNNER_H
#define VTIMER_RUNNER_H

#include "report.h"

/* Process exit statuses for host-side failures (guest statuses pass through). */
#define VT_EXIT_SETUP	64	/* bad option, file or machine setup */
#define VT_EXIT_KVM	70	/* a KVM ioctl failed during the run */
#define VT_EXIT_CRASH	71	/* triple fault, entry failure, unhandled exit */
#define VT_EXIT_ABORT	72	/* the guest reported an exception or abort */
#define VT_EXIT_TIMEOUT	73	/* the guest did not finish in time */

/* Boots the guest for cfg, runs it to the end, fills r. Returns r->status. */
int run_once(const struct run_config *cfg, struct run_report *r);

#endif
