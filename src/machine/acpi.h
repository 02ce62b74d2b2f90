/* SPDX-License-Identifier: MIT */
/*
 * Minimal ACPI for multiboot kernels, as QEMU's PC gives them: RSDP (found
 * by the standard scan of 0xE0000-0xFFFFF), RSDT, FADT (revision 1) with the
 * PM timer and PM1a blocks, FACS, an empty DSDT and a MADT with one local
 * APIC per vCPU and the in-kernel IOAPIC. The PM timer is emulated in user
 * space: 3.579545 MHz, 24 bits, read with inl from ACPI_PM_TMR.
 */
#ifndef VTIMER_ACPI_H
#define VTIMER_ACPI_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_GPA		0xf0000u	/* RSDP here, the tables after it */
#define ACPI_AREA_SIZE		0x1000u
#define ACPI_PM_BASE		0x600u		/* PM1a_EVT 0x600, PM1a_CNT 0x604 */
#define ACPI_PM_TMR		0x608u		/* as QEMU's q35 */
#define ACPI_PM_LEN		12u
#define ACPI_PM_HZ		3579545ull
#define ACPI_PM_MASK		0xffffffu	/* 24-bit timer (FADT TMR_VAL_EXT clear) */
#define ACPI_MAX_CPUS		255		/* type-0 MADT entries: 8-bit APIC IDs */

/* Where acpi_build() put each table, as offsets from the start of buf. */
struct acpi_layout {
	uint32_t rsdp, rsdt, facs, dsdt, fadt, madt, end;
};

/*
 * Builds the tables into buf (len bytes, to live at guest address gpa) for
 * nr_cpus vCPUs with APIC IDs 0..nr_cpus-1. Returns the bytes used, or -1 if
 * they do not fit or nr_cpus is out of 1..ACPI_MAX_CPUS. l may be NULL.
 */
int acpi_build(uint8_t *buf, size_t len, uint32_t gpa, int nr_cpus, struct acpi_layout *l);
/* The PM timer's value ns after its start. */
uint32_t acpi_pm_timer(uint64_t ns);
/* Sum of len bytes, mod 256: 0 for a table with a correct checksum. */
uint8_t acpi_sum(const void *p, size_t len);

#endif
