// SPDX-License-Identifier: MIT
#include "status.h"
#include "util.h"

static const int failure_status[VT_FAIL_NR] = {
	[VT_FAIL_USAGE] = VT_EXIT_SETUP,
	[VT_FAIL_SETUP] = VT_EXIT_SETUP,
	[VT_FAIL_IOCTL] = VT_EXIT_KVM,
	[VT_FAIL_HOST_TIMER] = VT_EXIT_KVM,
	[VT_FAIL_TRIPLE_FAULT] = VT_EXIT_CRASH,
	[VT_FAIL_SYSTEM_EVENT] = VT_EXIT_CRASH,
	[VT_FAIL_INTERNAL] = VT_EXIT_CRASH,
	[VT_FAIL_ENTRY] = VT_EXIT_CRASH,
	[VT_FAIL_UNHANDLED_EXIT] = VT_EXIT_CRASH,
	[VT_FAIL_GUEST_ABORT] = VT_EXIT_ABORT,
	[VT_FAIL_TIMEOUT] = VT_EXIT_TIMEOUT,
	[VT_FAIL_SIGNAL] = VT_EXIT_SIGNAL,
};

int vt_failure_status(enum vt_failure f)
{
	if ((unsigned int)f >= ARRAY_SIZE(failure_status) || !failure_status[f])
		return VT_EXIT_CRASH;
	return failure_status[f];
}
