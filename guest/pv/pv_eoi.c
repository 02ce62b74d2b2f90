// SPDX-License-Identifier: MIT
/*
 * KVM's PV end-of-interrupt (Documentation/virt/kvm/x86/msr.rst,
 * MSR_KVM_PV_EOI_EN; CPUID 0x40000001 EAX bit 6, KVM_FEATURE_PV_EOI), used
 * as a Linux guest on KVM uses it by default, in every timer mode.
 *
 * Each CPU hands KVM a 4-byte word. When KVM injects an interrupt that no
 * other is queued behind (nothing else in the IRR, one vector in service,
 * not an IOAPIC level vector), it sets bit 0 before entering the guest. A
 * guest that finds the bit set clears it instead of writing the EOI
 * register; KVM completes the EOI at its next exit. If any exit comes first,
 * KVM clears the bit itself and the guest must write EOI as usual
 * (lapic.c, apic_sync_pv_eoi_from_guest). So the test-and-clear is the very
 * first thing each handler does, as Linux acks first, and it must be one
 * instruction: KVM may clear the bit between a separate test and clear.
 */
#include "../kernel/kernel.h"

#define KVM_CPUID_SIGNATURE	0x40000000u
#define KVM_CPUID_FEATURES	0x40000001u
#define KVM_FEATURE_PV_EOI	(1u << 6)
#define KVM_SIG_EBX		0x4b4d564bu	/* "KVMKVMKVM\0\0\0" */
#define KVM_SIG_ECX		0x564b4d56u
#define KVM_SIG_EDX		0x0000004du
#define MSR_KVM_PV_EOI_EN	0x4b564d04u
#define KVM_PV_EOI_ENABLED	1ULL

static bool kvm_offers_pv_eoi(void)
{
	uint32_t r[4];

	cpuid(KVM_CPUID_SIGNATURE, 0, r);
	if (r[0] < KVM_CPUID_FEATURES || r[1] != KVM_SIG_EBX || r[2] != KVM_SIG_ECX ||
	    r[3] != KVM_SIG_EDX)
		return false;
	cpuid(KVM_CPUID_FEATURES, 0, r);
	return r[0] & KVM_FEATURE_PV_EOI;
}

/* Every CPU at boot: enable PV EOI on its own word if KVM offers it. */
void pv_eoi_enable(void)
{
	struct cpu *c = this_cpu();
	uint64_t v = (uint64_t)&c->pv_eoi_word | KVM_PV_EOI_ENABLED;

	if (!kvm_offers_pv_eoi())
		return;
	c->pv_eoi_word = 0;	/* msr.rst: the area must be zeroed */
	if (wrmsr_safe(MSR_KVM_PV_EOI_EN, v) || rdmsr(MSR_KVM_PV_EOI_EN) != v) {
		if (c->id == 0)
			printk("vtimer guest: KVM offers PV EOI but refused the enable MSR\n");
		return;
	}
	c->pv_eoi_on = true;
	c->res->pv_eoi_gpa = (uint64_t)&c->pv_eoi_word;	/* identity-mapped */
	c->res->c.pv_eoi_cpus++;
	if (c->id == 0)
		printk("vtimer guest: KVM PV EOI on\n");
}
