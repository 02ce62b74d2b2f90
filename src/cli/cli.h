/* SPDX-License-Identifier: MIT */
#ifndef VTIMER_CLI_H
#define VTIMER_CLI_H

#include <stdint.h>

#define VTIMER_VERSION "0.1.0"

int cmd_run(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_bench(int argc, char **argv);
/* Parses a decimal option value in [lo, hi]; -1 with a one-line error. */
/* --timer-share=PCT: 0 (none), or 0.001 to 100 percent, as ppm. */
int parse_share(const char *opt, const char *val, uint32_t *ppm);
int parse_u64(const char *opt, const char *s, unsigned long long lo, unsigned long long hi,
	      unsigned long long *out);
/* The vtimer guest image shipped next to the binary (or $VTIMER_GUEST). */
const char *default_guest_path(void);
struct run_config;
/* vtimer run's defaults: timer=kvm, cyclic, 1 vCPU x 1000 events of 1 ms,
 * 4 ms tick, TSC-deadline, hlt, placement auto, default floor and advance. */
void run_config_defaults(struct run_config *c);

#endif
