// SPDX-License-Identifier: MIT
/*
 * Minimal ACPI tables for multiboot kernels (acpi.h) and the PM timer and
 * PM1a registers they point at. The layout follows QEMU's i440fx machine
 * (ACPI 1.0: RSDP revision 0, RSDT, FADT revision 1) so kernels written
 * against QEMU, kvm-unit-tests' among them, find what they look for; the
 * PM block is at 0x600 as on QEMU's q35.
 */
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "machine.h"
#include "../util.h"

#define ACPI_OEM_ID		"VTIMER"
#define ACPI_OEM_TABLE		"VTIMERVM"
#define ACPI_SCI_IRQ		9
#define LAPIC_GPA		0xfee00000u
#define IOAPIC_GPA		0xfec00000u

#define PM1_CNT_SCI_EN		(1u << 0)
/* FADT flags: WBINVD, PROC_C1, PWR_BUTTON and SLP_BUTTON (none as fixed feature). */
#define FADT_FLAGS		((1u << 0) | (1u << 2) | (1u << 4) | (1u << 5))

struct __attribute__((packed)) acpi_header {
	char sig[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
};

struct __attribute__((packed)) acpi_rsdp {
	char sig[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
};

struct __attribute__((packed)) acpi_fadt1 {
	struct acpi_header h;
	uint32_t firmware_ctrl, dsdt;
	uint8_t int_model, reserved1;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk;
	uint32_t pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved2;
	uint32_t flags;
};

struct __attribute__((packed)) acpi_facs {
	char sig[4];
	uint32_t length, hw_signature, waking_vector, global_lock, flags;
	uint8_t reserved[40];
};

struct __attribute__((packed)) madt_lapic {
	uint8_t type, length, acpi_id, apic_id;
	uint32_t flags;
};

struct __attribute__((packed)) madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t addr, gsi_base;
};

struct __attribute__((packed)) madt_iso {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
};

_Static_assert(sizeof(struct acpi_header) == 36, "ACPI header");
_Static_assert(sizeof(struct acpi_rsdp) == 20, "RSDP revision 0");
_Static_assert(sizeof(struct acpi_fadt1) == 116, "FADT revision 1");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");

uint8_t acpi_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s += *b++;
	return s;
}

static void header(void *t, const char *sig, uint32_t len, uint8_t rev)
{
	struct acpi_header *h = t;

	memcpy(h->sig, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "VTMR", 4);
	h->creator_revision = 1;
	h->checksum = 0;
	h->checksum = -acpi_sum(t, len);
}

int acpi_build(uint8_t *buf, size_t len, uint32_t gpa, int nr_cpus, struct acpi_layout *out)
{
	struct acpi_layout l;
	uint32_t madt_len;
	struct acpi_rsdp *rsdp;
	struct acpi_fadt1 *fadt;
	struct acpi_facs *facs;
	uint32_t *rsdt_entries;
	uint8_t *m;

	if (nr_cpus < 1 || nr_cpus > ACPI_MAX_CPUS)
		return -1;
	madt_len = sizeof(struct acpi_header) + 8 + nr_cpus * sizeof(struct madt_lapic) +
		   sizeof(struct madt_ioapic) + sizeof(struct madt_iso);
	l.rsdp = 0;
	l.rsdt = 0x20;
	l.facs = 0x80;			/* after the RSDT (44 bytes), 64-byte aligned */
	l.dsdt = l.facs + sizeof(struct acpi_facs);
	l.fadt = l.dsdt + sizeof(struct acpi_header);
	l.madt = l.fadt + sizeof(struct acpi_fadt1);
	l.end = l.madt + madt_len;
	if (l.end > len)
		return -1;
	memset(buf, 0, l.end);

	facs = (void *)(buf + l.facs);
	memcpy(facs->sig, "FACS", 4);
	facs->length = sizeof(*facs);

	header(buf + l.dsdt, "DSDT", sizeof(struct acpi_header), 1);	/* no AML */

	fadt = (void *)(buf + l.fadt);
	fadt->firmware_ctrl = gpa + l.facs;
	fadt->dsdt = gpa + l.dsdt;
	fadt->int_model = 1;		/* ACPI 1.0: multiple APIC */
	fadt->sci_int = ACPI_SCI_IRQ;
	fadt->smi_cmd = 0;		/* no SMM: always in ACPI mode (SCI_EN set) */
	fadt->pm1a_evt_blk = ACPI_PM_BASE;
	fadt->pm1a_cnt_blk = ACPI_PM_BASE + 4;
	fadt->pm_tmr_blk = ACPI_PM_TMR;
	fadt->pm1_evt_len = 4;
	fadt->pm1_cnt_len = 2;
	fadt->pm_tmr_len = 4;
	fadt->p_lvl2_lat = 0xfff;	/* no C2 */
	fadt->p_lvl3_lat = 0xfff;	/* no C3 */
	fadt->flags = FADT_FLAGS;
	header(fadt, "FACP", sizeof(*fadt), 1);

	m = buf + l.madt + sizeof(struct acpi_header);
	memcpy(m, &(uint32_t){ LAPIC_GPA }, 4);
	memcpy(m + 4, &(uint32_t){ 1 }, 4);	/* PCAT_COMPAT: there are 8259s */
	m += 8;
	for (int i = 0; i < nr_cpus; i++, m += sizeof(struct madt_lapic))
		memcpy(m, &(struct madt_lapic){ 0, sizeof(struct madt_lapic), i, i, 1 },
		       sizeof(struct madt_lapic));
	/* KVM's in-kernel IOAPIC: ID 0, GSIs from 0, as QEMU describes it. */
	memcpy(m, &(struct madt_ioapic){ 1, sizeof(struct madt_ioapic), 0, 0, IOAPIC_GPA, 0 },
	       sizeof(struct madt_ioapic));
	m += sizeof(struct madt_ioapic);
	/* The SCI: ISA IRQ 9, level-triggered, active high. */
	memcpy(m, &(struct madt_iso){ 2, sizeof(struct madt_iso), 0, ACPI_SCI_IRQ,
				      ACPI_SCI_IRQ, 0x000d }, sizeof(struct madt_iso));
	header(buf + l.madt, "APIC", madt_len, 1);

	rsdt_entries = (void *)(buf + l.rsdt + sizeof(struct acpi_header));
	rsdt_entries[0] = gpa + l.fadt;
	rsdt_entries[1] = gpa + l.madt;
	header(buf + l.rsdt, "RSDT", sizeof(struct acpi_header) + 8, 1);

	rsdp = (void *)(buf + l.rsdp);
	memcpy(rsdp->sig, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 0;
	rsdp->rsdt = gpa + l.rsdt;
	rsdp->checksum = -acpi_sum(rsdp, sizeof(*rsdp));
	if (out)
		*out = l;
	return l.end;
}

uint32_t acpi_pm_timer(uint64_t ns)
{
	return (uint32_t)((unsigned __int128)ns * ACPI_PM_HZ / 1000000000u) & ACPI_PM_MASK;
}

struct acpi_pm {
	uint64_t t0;		/* CLOCK_MONOTONIC at which the timer read 0 */
};

/*
 * PM1a_STS/EN (0x600, 0x602) read 0 and ignore writes (no fixed events);
 * PM1a_CNT (0x604) reads SCI_EN: the machine is always in ACPI mode; the PM
 * timer (0x608) counts from the VM's creation. Any access size, any offset.
 */
static int acpi_pm_io(struct vcpu *vcpu, uint16_t port, bool out, int size, uint8_t *data,
		      void *opaque)
{
	struct acpi_pm *pm = opaque;
	uint8_t regs[ACPI_PM_LEN] = { 0 };
	uint32_t t;
	int off = port - ACPI_PM_BASE;

	(void)vcpu;
	if (out)
		return 0;
	regs[4] = PM1_CNT_SCI_EN;
	t = acpi_pm_timer(now_ns() - pm->t0);
	memcpy(&regs[ACPI_PM_TMR - ACPI_PM_BASE], &t, 4);
	for (int i = 0; i < size; i++)
		data[i] = off + i < (int)ACPI_PM_LEN ? regs[off + i] : 0xff;
	return 0;
}

int acpi_init(struct vm *vm)
{
	uint8_t *area = vm_gpa(vm, ACPI_GPA, ACPI_AREA_SIZE);
	struct acpi_pm *pm;

	if (!area || acpi_build(area, ACPI_AREA_SIZE, ACPI_GPA, vm->nr_vcpus, NULL) < 0) {
		vt_err("ACPI: cannot build the tables for %d vCPUs", vm->nr_vcpus);
		return -1;
	}
	pm = calloc(1, sizeof(*pm));
	if (!pm) {
		vt_err("ACPI: out of memory");
		return -1;
	}
	pm->t0 = now_ns();
	if (vm_add_pio(vm, ACPI_PM_BASE, ACPI_PM_LEN, acpi_pm_io, pm) < 0) {
		vt_err("ACPI: no free port-I/O slot");
		free(pm);
		return -1;
	}
	vm->acpi = pm;
	return 0;
}
