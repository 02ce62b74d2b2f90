/* SPDX-License-Identifier: MIT */
/*
 * The kvm tracepoint count in the run's report (ktrace_report.c): the text
 * lines ("kvm tracepoints: ..." and the cross-check) and the JSON's
 * "ktrace" object. Nothing is printed for --ktrace=off.
 */
#ifndef VTIMER_KTRACE_REPORT_H
#define VTIMER_KTRACE_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "report.h"

void report_ktrace(const struct run_report *r, FILE *f);
json_t *ktrace_json(const struct run_report *r);

#endif
