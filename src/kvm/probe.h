/* SPDX-License-Identifier: MIT */
/*
 * What the host's KVM offers, read from /dev/kvm, a throwaway VM, sysfs and
 * /proc/cpuinfo. Nothing here runs guest code: the measured facts (CPL0
 * emulation, exit cost) need the machine layer and live in cli/probe.c.
 */
#ifndef VTIMER_KVM_PROBE_H
#define VTIMER_KVM_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#define PROBE_MAX_CAPS		24
#define PROBE_MAX_PARAMS	16

struct probe_cap {
	const char *name;
	long cap;
	int sys;	/* KVM_CHECK_EXTENSION on /dev/kvm; <0 is -errno */
	int vm;		/* the same on a VM fd, which is what a VM actually gets */
};

struct probe_param {
	char name[96];		/* "module.parameter" */
	char value[64];
	bool present;
};

struct kvm_host_probe {
	int api_version;
	struct probe_cap caps[PROBE_MAX_CAPS];
	int nr_caps;
	bool vm_caps;		/* KVM_CAP_CHECK_EXTENSION_VM: vm values are meaningful */
	const char *flavour;	/* vmx, svm, pvm, unknown */
	char modules[64];	/* vendor modules loaded, space separated */
	char cpu_vendor[32];
	bool host_is_guest;	/* cpuinfo flag "hypervisor" */
	int64_t tsc_khz;	/* KVM_GET_TSC_KHZ on a vCPU; <0 is -errno */
	struct probe_param params[PROBE_MAX_PARAMS];
	int nr_params;
	/* Vendor-module parameters that look like APIC-timer virtualization. */
	struct probe_param timer_virt[PROBE_MAX_PARAMS];
	int nr_timer_virt;
	char timer_virt_searched[64];	/* vendor modules whose parameters were read */
};

/* Fills p from an open /dev/kvm fd; -1 (after one message) if no VM could be made. */
int kvm_probe_host(int kvm_fd, struct kvm_host_probe *p);
/* True if some timer_virt parameter is enabled (Y, 1). */
bool kvm_probe_timer_virt(const struct kvm_host_probe *p);

#endif
