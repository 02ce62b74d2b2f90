/* SPDX-License-Identifier: MIT */
/* x86-64 helpers for the guest kernel. Every CPL0 instruction is ~1 us on a
 * PVM host, so these stay as single instructions. */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#define MSR_IA32_TSC		0x10
#define MSR_IA32_TSC_ADJUST	0x3b
#define MSR_APIC_BASE		0x1b
#define MSR_TSC_DEADLINE	0x6e0
#define MSR_GS_BASE		0xc0000101
#define MSR_X2APIC_ID		0x802
#define MSR_X2APIC_TPR		0x808
#define MSR_X2APIC_EOI		0x80b
#define MSR_X2APIC_SVR		0x80f
#define MSR_X2APIC_ICR		0x830
#define MSR_X2APIC_LVTT		0x832
#define MSR_X2APIC_TMICT	0x838
#define MSR_X2APIC_TMCCT	0x839
#define MSR_X2APIC_TDCR		0x83e

#define APIC_BASE_EN		(1u << 11)
#define APIC_BASE_EXTD		(1u << 10)
#define APIC_SVR_ENABLE		(1u << 8)
#define LVT_MASKED		(1u << 16)
#define LVTT_ONESHOT		(0u << 17)
#define LVTT_PERIODIC		(1u << 17)
#define LVTT_TSCDEADLINE	(2u << 17)
#define TDCR_DIV1		0xb

/* Vectors. */
#define VEC_SYSCALL		4	/* int $4 through a DPL3 gate: reaches CPL0 on PVM, VMX, SVM */
#define VEC_TIMER		0xec
#define VEC_WAKE		0xed
#define VEC_IPI			0xee	/* rr: the peer's wake-up */
#define VEC_SPURIOUS		0xff

/* GDT selectors. */
#define SEL_KCODE		0x08
#define SEL_KDATA		0x10
#define SEL_UDATA		0x1b
#define SEL_UCODE		0x23
#define SEL_TSS			0x28

#ifndef __ASSEMBLER__
#include <stdint.h>

#ifdef GUEST_HOSTED
/*
 * Built into a host program (tests/guest/): the instructions that reach the
 * hypervisor or read the clock are the test's functions, so the guest's
 * timer code runs against a simulated host and clock.
 */
uint64_t rdtsc(void);
void wrmsr(uint32_t msr, uint64_t v);
uint64_t rdmsr(uint32_t msr);
void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);
void cpu_relax(void);
#else
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
#endif /* GUEST_HOSTED */

/* rdtsc after every earlier instruction has completed (SDM vol. 2, RDTSC). */
static inline uint64_t rdtsc_ordered(void)
{
	__asm__ volatile("mfence; lfence" ::: "memory");
	return rdtsc();
}

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
/*
 * sti; hlt; cli (entry.S). sti's one-instruction shadow makes it free of lost
 * wake-ups: no interrupt lands between sti and hlt. Where a host breaks the
 * shadow (seen under nested KVM in QEMU's emulator), one does, its handler
 * runs, and hlt would then sleep through the wake-up it brought; so the
 * interrupt stubs move an interrupted RIP of safe_halt_hlt past the hlt and
 * count it (halt_shadow_broken).
 */
void safe_halt(void);
void halt_shadow_broken(void);	/* cpu.c, called from the interrupt stubs */
/*
 * sti; wrmsr(msr, 0); cli (entry.S): the PV idle look (pv/pv.c), after
 * which the host halts the vCPU as hlt would. Same shadow, same fix-up:
 * an interrupt taken before the wrmsr resumes after it (look_shadow_broken).
 */
void safe_idle_look(uint32_t msr);
void look_shadow_broken(void);	/* pv/pv.c, called from the interrupt stubs */

#endif /* __ASSEMBLER__ */
#endif
