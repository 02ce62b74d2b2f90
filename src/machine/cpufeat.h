/* SPDX-License-Identifier: MIT */
/*
 * --cpu=+feat,-feat: the CPUID features the timer path cares about, turned
 * on or off in what the guest sees, as QEMU's -cpu does (QEMU's names).
 */
#ifndef VTIMER_CPUFEAT_H
#define VTIMER_CPUFEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

enum cpu_reg { CPU_EAX, CPU_EBX, CPU_ECX, CPU_EDX };

struct cpu_feature {
	const char *name;
	uint32_t leaf;
	enum cpu_reg reg;
	uint32_t mask;
	/*
	 * KVM emulates it whatever GET_SUPPORTED_CPUID says (the in-kernel
	 * local APIC's x2APIC and TSC-deadline modes): '+' is always allowed.
	 * Otherwise '+' needs KVM to offer it.
	 */
	bool emulated;
	const char *what;
};

/* Bits over cpu_features[] (index i is 1u << i). */
struct cpu_flags {
	uint32_t on, off;
};

extern const struct cpu_feature cpu_features[];
extern const unsigned int nr_cpu_features;

/*
 * Parses "+x2apic,-kvm-pv-eoi" (a bare name means '+'). Later items win over
 * earlier ones for the same feature. On error writes a one-line reason to
 * err and returns -1.
 */
int cpu_flags_parse(const char *val, struct cpu_flags *out, char *err, size_t errlen);
/* "+a,-b" for what f asks, in table order; "" for nothing. */
void cpu_flags_format(const struct cpu_flags *f, char *buf, size_t len);
/* The feature named, NULL if none. */
const struct cpu_feature *cpu_feature_find(const char *name);
/* Whether feature i of the table is set in c (false if the leaf is absent). */
bool cpu_feature_has(const struct kvm_cpuid2 *c, unsigned int i);
/*
 * Applies f to c, the leaves the guest will see (KVM's supported set). A '+'
 * for a feature KVM neither offers nor emulates is refused: -1 and a reason.
 */
int cpu_flags_apply(struct kvm_cpuid2 *c, const struct cpu_flags *f, char *err, size_t errlen);

#endif
