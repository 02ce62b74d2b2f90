/* SPDX-License-Identifier: MIT */
#ifndef VTIMER_RUNNER_H
#define VTIMER_RUNNER_H

#include "report.h"

/* Boots the guest for cfg, runs it to the end, fills r. Returns r->status. */
int run_once(const struct run_config *cfg, struct run_report *r);

#endif
