/* SPDX-License-Identifier: MIT */
/*
 * vtimer paravirtual timer interface, shared by host and guest.
 * docs/pv-abi.md is the specification; this header is its only encoding.
 *
 * Discovery: CPUID leaf VTIMER_CPUID_SIGNATURE returns the signature in
 * EBX:ECX:EDX and the highest vtimer leaf in EAX; VTIMER_CPUID_FEATURES
 * returns the offered features in EAX, the enable MSR's index in EBX and the
 * page layout version in ECX. Enabling: the guest writes
 * (page GPA | VTIMER_PV_ENABLE) to the MSR; reserved bits set, an unaligned
 * address or a page outside RAM raise #GP; writing 0 disables.
 */
#ifndef VTIMER_PV_H
#define VTIMER_PV_H

#include <stdint.h>

#define VTIMER_CPUID_SIGNATURE	0x40000100u
#define VTIMER_CPUID_FEATURES	0x40000101u
/* "vtimervtimer" in EBX, ECX, EDX */
#define VTIMER_SIG_EBX		0x6d697476u	/* "vtim" */
#define VTIMER_SIG_ECX		0x76747265u	/* "ervt" */
#define VTIMER_SIG_EDX		0x72656d69u	/* "imer" */

/* Feature bits (CPUID VTIMER_CPUID_FEATURES.EAX): how the guest programs. */
#define VTIMER_F_LAZY		(1u << 0)	/* host publishes `armed`; skip later deadlines */
#define VTIMER_F_HORIZON	(1u << 1)	/* host scans; skip deadlines past `horizon` */
#define VTIMER_F_DIRECT		(1u << 2)	/* host polls; never write the MSR */
#define VTIMER_F_IDLE		(1u << 3)	/* idle look: MSR_VTIMER_IDLE (below) */
#define VTIMER_F_ALL		(VTIMER_F_LAZY | VTIMER_F_HORIZON | VTIMER_F_DIRECT | VTIMER_F_IDLE)

#define MSR_VTIMER_PV		0x56544d00u	/* "VTM\0": outside Intel's, AMD's and KVM's ranges */
#define VTIMER_PV_ENABLE	(1ull << 0)
#define VTIMER_PV_RESERVED	0xffeull	/* bits 1-11 must be 0: the page is 4 KiB aligned */

/*
 * The idle look (VTIMER_F_IDLE, docs/pv-abi.md 4.1): with the page enabled,
 * writing 0 to the MSR after the enable MSR is a TSC-deadline MSR write of
 * the value in `pending`, followed by a hlt. A guest that owes a deadline
 * write on its way to idle makes one exit instead of two. Other values,
 * and any write without the page, raise #GP.
 */
#define VTIMER_IDLE_MSR(pv_msr)	((pv_msr) + 1)

#define VTIMER_PV_VERSION	1

/* The margin a scanning host publishes: its scans may run this late. */
#define VTIMER_PV_SCAN_MARGIN_NS	50000

/*
 * The per-vCPU page (one 4 KiB guest page, only the first 64 bytes used).
 * Times are guest TSC values; 0 means "none".
 *
 *   field     writer  meaning
 *   version   host    VTIMER_PV_VERSION once enabled, 0 after disable
 *   features  host    the VTIMER_F_* bits in force for this vCPU
 *   pending   guest   the earliest deadline the guest wants (its clockevent)
 *   armed     host    the deadline the host timer is armed at
 *   horizon   host    the host reads `pending` again at or before this time
 *   margin    host    how far past `horizon` a deadline must be to skip the MSR
 *   lvtt      guest   mirror of the guest's LVTT (vector, mask, mode)
 *
 * Ordering (x86-TSO): each side stores its own field, executes a full fence
 * (mfence or a locked instruction), then loads the other side's fields. One of
 * the two therefore always sees the other's store (docs/pv-abi.md, "Races";
 * tests/models/lazy.pml checks it).
 */
struct vtimer_pv_page {
	uint32_t version;
	uint32_t features;
	uint64_t pending;
	uint64_t armed;
	uint64_t horizon;
	uint64_t margin;
	uint32_t lvtt;
	uint32_t reserved0;
	uint64_t reserved1[2];
};

_Static_assert(sizeof(struct vtimer_pv_page) == 64, "PV page layout is 64 bytes");

#endif /* VTIMER_PV_H */
