/* SPDX-License-Identifier: MIT */
/*
 * Process exit statuses: one list for src/machine/ and every command in
 * src/cli/ (README.md, "Exit status"). A guest's own status passes through
 * (the vtimer guest reports 0..63; a multiboot kernel's isa-debug-exit gives
 * (value << 1) | 1). Every host failure is one of enum vt_failure and exits
 * with vt_failure_status() of it.
 */
#ifndef VTIMER_STATUS_H
#define VTIMER_STATUS_H

enum vt_status {
	VT_EXIT_OK = 0,
	VT_EXIT_SETUP = 64,	/* bad option or output file, or machine setup failed */
	VT_EXIT_KVM = 70,	/* a KVM ioctl (or host timer call) failed during the run */
	VT_EXIT_CRASH = 71,	/* triple fault, KVM internal error, failed entry, unhandled exit */
	VT_EXIT_ABORT = 72,	/* the guest reported an exception or abort */
	VT_EXIT_TIMEOUT = 73,	/* the guest did not finish before --timeout */
	VT_EXIT_SIGNAL = 130,	/* stopped by SIGINT or SIGTERM; partial report */
};

enum vt_failure {
	VT_FAIL_USAGE,		/* bad option */
	VT_FAIL_SETUP,		/* file, memory or machine setup before the run */
	VT_FAIL_IOCTL,		/* vCPU setup or KVM_RUN ioctl */
	VT_FAIL_HOST_TIMER,	/* timer_create / timer_settime for a vCPU */
	VT_FAIL_TRIPLE_FAULT,	/* KVM_EXIT_SHUTDOWN */
	VT_FAIL_SYSTEM_EVENT,	/* KVM_EXIT_SYSTEM_EVENT: reset or power-off */
	VT_FAIL_INTERNAL,	/* KVM_EXIT_INTERNAL_ERROR */
	VT_FAIL_ENTRY,		/* KVM_EXIT_FAIL_ENTRY */
	VT_FAIL_UNHANDLED_EXIT,	/* an exit reason without a handler */
	VT_FAIL_GUEST_ABORT,	/* ucall abort, bad ucall */
	VT_FAIL_TIMEOUT,
	VT_FAIL_SIGNAL,
	VT_FAIL_NR
};

/* The exit status of a host failure; VT_EXIT_CRASH for an unknown one. */
int vt_failure_status(enum vt_failure f);

#endif
