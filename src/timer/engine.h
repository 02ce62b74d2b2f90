/* SPDX-License-Identifier: MIT */
/*
 * The timer engine: a timer mode is one point on three axes (DESIGN.md,
 * docs/design.md), not a code path per patch series.
 *   program  - how the guest hands a deadline to the host
 *   discover - how the host learns deadlines it was not told by an exit
 *   deliver  - where the host timer lives and how the interrupt arrives
 */
#ifndef VTIMER_ENGINE_H
#define VTIMER_ENGINE_H

#include <stdint.h>

/* hybrid = lazy + pv: exit only for a deadline earlier than both `armed` and the horizon. */
enum timer_program { PROGRAM_MSR, PROGRAM_LAZY, PROGRAM_PV, PROGRAM_HYBRID, PROGRAM_DIRECT };
enum timer_discover { DISCOVER_EXIT, DISCOVER_SCAN, DISCOVER_SPIN };
enum timer_deliver { DELIVER_KERNEL, DELIVER_VCPU, DELIVER_HOUSEKEEPING };

struct timer_mode {
	const char *preset;		/* name, or "custom" */
	enum timer_program program;
	enum timer_discover discover;
	enum timer_deliver deliver;
	uint64_t scan_ns;		/* DISCOVER_SCAN period */
	uint64_t look_ns;		/* scan:P,look:L: after injecting, re-read the page every L */
};

/* Fills m from a preset name; -1 with a one-line error if unknown. */
int timer_mode_preset(const char *name, struct timer_mode *m);
int timer_axis_parse(const char *axis, const char *val, struct timer_mode *m);
/* 0 if this build can run m; else -1 and a one-line reason. */
int timer_mode_check(const struct timer_mode *m);
/*
 * 0 if m needs nothing from the guest, so an unmodified (multiboot) kernel
 * can run under it: --program=msr with any discover and deliver. Else -1 and
 * a one-line reason.
 */
int timer_mode_check_kernel(const struct timer_mode *m);
const char *timer_program_name(enum timer_program p);
const char *timer_discover_name(enum timer_discover d);
const char *timer_deliver_name(enum timer_deliver d);

#endif
