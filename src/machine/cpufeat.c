// SPDX-License-Identifier: MIT
/* --cpu=+feat,-feat over KVM's supported CPUID (cpufeat.h). */
#include <stdio.h>
#include <string.h>

#include "cpufeat.h"

/* KVM's PV feature leaf (msr.rst / cpuid.rst): KVM_CPUID_FEATURES. */
#define KVM_LEAF 0x40000001u

const struct cpu_feature cpu_features[] = {
	{ "x2apic", 1, CPU_ECX, 1u << 21, true, "x2APIC mode of the local APIC" },
	{ "tsc-deadline", 1, CPU_ECX, 1u << 24, true, "TSC-deadline mode of the LAPIC timer" },
	{ "hypervisor", 1, CPU_ECX, 1u << 31, true, "running under a hypervisor" },
	{ "arat", 6, CPU_EAX, 1u << 2, true, "APIC timer runs in deep C-states" },
	{ "invtsc", 0x80000007, CPU_EDX, 1u << 8, false, "invariant TSC" },
	{ "kvmclock", KVM_LEAF, CPU_EAX, (1u << 0) | (1u << 3), false,
	  "KVM clock MSRs (old and new)" },
	{ "kvm-asyncpf", KVM_LEAF, CPU_EAX, 1u << 4, false, "async page faults" },
	{ "kvm-steal-time", KVM_LEAF, CPU_EAX, 1u << 5, false, "steal time" },
	{ "kvm-pv-eoi", KVM_LEAF, CPU_EAX, 1u << 6, false, "PV end of interrupt" },
	{ "kvm-pv-unhalt", KVM_LEAF, CPU_EAX, 1u << 7, false, "PV unhalt (kick) hypercall" },
	{ "kvm-pv-tlb-flush", KVM_LEAF, CPU_EAX, 1u << 9, false, "PV TLB flush" },
	{ "kvm-pv-ipi", KVM_LEAF, CPU_EAX, 1u << 11, false, "PV send-IPI hypercall" },
	{ "kvm-poll-control", KVM_LEAF, CPU_EAX, 1u << 12, false, "host-side halt polling control" },
	{ "kvm-pv-sched-yield", KVM_LEAF, CPU_EAX, 1u << 13, false, "PV sched yield hypercall" },
	{ "kvm-asyncpf-int", KVM_LEAF, CPU_EAX, 1u << 14, false, "async PF by interrupt" },
	{ "kvm-msi-ext-dest-id", KVM_LEAF, CPU_EAX, 1u << 15, false, "extended MSI destination ID" },
	{ "kvmclock-stable-bit", KVM_LEAF, CPU_EAX, 1u << 24, false, "kvmclock stable bit" },
};
const unsigned int nr_cpu_features = sizeof(cpu_features) / sizeof(cpu_features[0]);

const struct cpu_feature *cpu_feature_find(const char *name)
{
	for (unsigned int i = 0; i < nr_cpu_features; i++)
		if (!strcmp(cpu_features[i].name, name))
			return &cpu_features[i];
	return NULL;
}

int cpu_flags_parse(const char *val, struct cpu_flags *out, char *err, size_t errlen)
{
	const char *p = val;

	out->on = out->off = 0;
	if (!*p) {
		snprintf(err, errlen, "bad --cpu=: no feature named");
		return -1;
	}
	while (*p) {
		size_t n = strcspn(p, ",");
		char sign = '+', name[32];
		const struct cpu_feature *f;
		const char *s = p;
		size_t k = n;

		if (k && (*s == '+' || *s == '-')) {
			sign = *s++;
			k--;
		}
		if (!k || k >= sizeof(name) || (p[n] == ',' && !p[n + 1])) {
			snprintf(err, errlen, "bad --cpu=%s: empty, overlong or trailing item '%.*s'",
				 val, (int)n, p);
			return -1;
		}
		memcpy(name, s, k);
		name[k] = 0;
		f = cpu_feature_find(name);
		if (!f) {
			snprintf(err, errlen,
				 "bad --cpu=%s: unknown feature '%s' (vtimer run --cpu=help lists them)",
				 val, name);
			return -1;
		}
		uint32_t bit = 1u << (f - cpu_features);
		if (sign == '+') {
			out->on |= bit;
			out->off &= ~bit;
		} else {
			out->off |= bit;
			out->on &= ~bit;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

void cpu_flags_format(const struct cpu_flags *f, char *buf, size_t len)
{
	size_t at = 0;

	if (len)
		buf[0] = 0;
	for (unsigned int i = 0; i < nr_cpu_features && at < len; i++) {
		uint32_t bit = 1u << i;

		if (!((f->on | f->off) & bit))
			continue;
		int w = snprintf(buf + at, len - at, "%s%c%s", at ? "," : "",
				 f->on & bit ? '+' : '-', cpu_features[i].name);
		if (w < 0)
			break;
		at += (size_t)w;
	}
}

static struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid2 *c, uint32_t fn)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == 0)
			return (struct kvm_cpuid_entry2 *)&c->entries[i];
	return NULL;
}

static uint32_t *reg(struct kvm_cpuid_entry2 *e, enum cpu_reg r)
{
	switch (r) {
	case CPU_EAX: return &e->eax;
	case CPU_EBX: return &e->ebx;
	case CPU_ECX: return &e->ecx;
	default: return &e->edx;
	}
}

bool cpu_feature_has(const struct kvm_cpuid2 *c, unsigned int i)
{
	const struct cpu_feature *f = &cpu_features[i];
	struct kvm_cpuid_entry2 *e = leaf(c, f->leaf);

	return e && (*reg(e, f->reg) & f->mask) == f->mask;
}

int cpu_flags_apply(struct kvm_cpuid2 *c, const struct cpu_flags *fl, char *err, size_t errlen)
{
	/* Check every '+' before changing anything. */
	for (unsigned int i = 0; i < nr_cpu_features; i++) {
		const struct cpu_feature *f = &cpu_features[i];

		if (!(fl->on & (1u << i)))
			continue;
		if (!leaf(c, f->leaf)) {
			snprintf(err, errlen, "--cpu=+%s: KVM reports no CPUID leaf %#x here",
				 f->name, f->leaf);
			return -1;
		}
		if (!f->emulated && !cpu_feature_has(c, i)) {
			snprintf(err, errlen, "--cpu=+%s: KVM does not offer %s here", f->name,
				 f->what);
			return -1;
		}
	}
	for (unsigned int i = 0; i < nr_cpu_features; i++) {
		const struct cpu_feature *f = &cpu_features[i];
		struct kvm_cpuid_entry2 *e = leaf(c, f->leaf);

		if (!e)
			continue;
		if (fl->on & (1u << i))
			*reg(e, f->reg) |= f->mask;
		else if (fl->off & (1u << i))
			*reg(e, f->reg) &= ~f->mask;
	}
	return 0;
}
