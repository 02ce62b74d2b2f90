/* SPDX-License-Identifier: MIT */
/*
 * Thin KVM API wrappers. __kvm_ioctl() returns the result or -errno and says
 * nothing; kvm_ioctl() also prints one line naming the ioctl and the error.
 * Neither exits: callers unwind so a harness can still collect results.
 */
#ifndef VTIMER_KVM_H
#define VTIMER_KVM_H

#include <stdint.h>
#include <linux/kvm.h>

int __kvm_ioctl(int fd, unsigned long req, void *arg);
int _kvm_ioctl(int fd, unsigned long req, const char *name, void *arg);
#define kvm_ioctl(fd, req, arg) _kvm_ioctl((fd), (req), #req, (void *)(arg))

/* Opens /dev/kvm and checks the API version; -1 with a message on failure. */
int kvm_open(void);
int kvm_check_cap(int fd, long cap);	/* >0 supported, 0 not, <0 error */

/* One vCPU MSR through KVM_GET_MSRS or KVM_SET_MSRS (host-initiated); -errno. */
int kvm_vcpu_msr(int vcpu_fd, unsigned long req, uint32_t idx, uint64_t *val);

/* CPUID as KVM supports it; caller frees. */
struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd);
struct kvm_cpuid_entry2 *kvm_cpuid_find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx);

/* Binary statistics (KVM_GET_STATS_FD) of a VM or vCPU fd. */
struct kvm_stats {
	int fd;
	int n;
	char **names;
	uint32_t *flags;
	uint64_t *offsets;	/* into the data block, in u64 units */
	uint32_t *sizes;
	uint64_t data_off;
	int data_words;
};
int kvm_stats_open(int fd, struct kvm_stats *st);
/* Reads every stat's first value into vals[n]; returns 0 or -errno. */
int kvm_stats_read(struct kvm_stats *st, uint64_t *vals);
/* Index of the stat called name, -1 if this kernel has none. */
int kvm_stats_find(const struct kvm_stats *st, const char *name);
/* One stat's first word, read alone (one pread); -errno. */
int kvm_stats_read_one(const struct kvm_stats *st, int idx, uint64_t *val);
void kvm_stats_close(struct kvm_stats *st);

#endif
