// SPDX-License-Identifier: MIT
/*
 * The ACPI table builder (src/machine/acpi.c): every table found the way a
 * kernel finds it (RSDP scan on 16-byte boundaries, RSDT -> FACP/APIC,
 * FADT -> FACS/DSDT), with correct signatures, lengths and checksums, and a
 * MADT with one enabled local APIC per vCPU. And the PM timer's rate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "machine/acpi.h"

#define BASE	0xf0000u
#define AREA	0x20000u	/* the scanned region 0xE0000-0xFFFFF, as a buffer */

static uint8_t mem[AREA];	/* mem[i] is guest address 0xE0000 + i */

static uint8_t *gpa(uint32_t a)
{
	assert_true(a >= 0xe0000u && a < 0xe0000u + AREA);
	return mem + (a - 0xe0000u);
}

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* A table at a: signature, length within the area, checksum 0. */
static const uint8_t *table(uint32_t a, const char *sig)
{
	const uint8_t *t = gpa(a);
	uint32_t len = u32(t + 4);

	assert_memory_equal(t, sig, 4);
	assert_true(len >= 36 && a + len <= 0xe0000u + AREA);
	assert_int_equal(acpi_sum(t, len), 0);
	return t;
}

/* The ACPI spec's scan: 16-byte boundaries in 0xE0000-0xFFFFF, signature and checksum. */
static uint32_t find_rsdp(void)
{
	for (uint32_t a = 0xe0000u; a < 0x100000u; a += 16)
		if (!memcmp(gpa(a), "RSD PTR ", 8) && !acpi_sum(gpa(a), 20))
			return a;
	return 0;
}

static void check(int nr_cpus)
{
	struct acpi_layout l;
	const uint8_t *rsdt, *fadt = NULL, *madt = NULL, *e;
	uint32_t rsdp, n, lapics = 0, ioapics = 0;
	int len;

	memset(mem, 0, sizeof(mem));
	len = acpi_build(gpa(BASE), 0x1000, BASE, nr_cpus, &l);
	assert_true(len > 0 && len <= 0x1000);
	assert_int_equal((uint32_t)len, l.end);
	rsdp = find_rsdp();
	assert_int_equal(rsdp, BASE);
	assert_int_equal(gpa(rsdp)[15], 0);	/* revision 0: RSDT only */
	rsdt = table(u32(gpa(rsdp) + 16), "RSDT");
	n = (u32(rsdt + 4) - 36) / 4;
	assert_int_equal(n, 2);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *t = gpa(u32(rsdt + 36 + 4 * i));

		if (!memcmp(t, "FACP", 4))
			fadt = table(u32(rsdt + 36 + 4 * i), "FACP");
		else if (!memcmp(t, "APIC", 4))
			madt = table(u32(rsdt + 36 + 4 * i), "APIC");
		else
			fail_msg("RSDT entry %u: unknown table", i);
	}
	assert_non_null(fadt);
	assert_non_null(madt);

	/* FADT revision 1: 116 bytes, PM timer at 0x608, 4 bytes, FACS and DSDT. */
	assert_int_equal(u32(fadt + 4), 116);
	assert_int_equal(u32(fadt + 76), ACPI_PM_TMR);
	assert_int_equal(fadt[91], 4);
	assert_int_equal(u32(fadt + 56), ACPI_PM_BASE);		/* PM1a_EVT_BLK */
	assert_int_equal(u32(fadt + 64), ACPI_PM_BASE + 4);	/* PM1a_CNT_BLK */
	assert_int_equal(u32(fadt + 112) & (1u << 8), 0);	/* TMR_VAL_EXT: 24 bits */
	assert_memory_equal(gpa(u32(fadt + 36)), "FACS", 4);
	assert_int_equal(u32(fadt + 36) % 64, 0);
	assert_int_equal(u32(gpa(u32(fadt + 36)) + 4), 64);
	table(u32(fadt + 40), "DSDT");

	/* MADT: one enabled local APIC per vCPU, IDs 0..n-1, one IOAPIC. */
	assert_int_equal(u32(madt + 36), 0xfee00000u);
	for (e = madt + 44; e < madt + u32(madt + 4); e += e[1]) {
		assert_true(e[1] >= 2);
		if (e[0] == 0) {
			assert_int_equal(e[1], 8);
			assert_int_equal(e[3], lapics);
			assert_int_equal(u32(e + 4) & 1, 1);
			lapics++;
		} else if (e[0] == 1) {
			assert_int_equal(u32(e + 4), 0xfec00000u);
			ioapics++;
		}
	}
	assert_ptr_equal(e, madt + u32(madt + 4));	/* entries end exactly at the length */
	assert_int_equal(lapics, nr_cpus);
	assert_int_equal(ioapics, 1);
}

static void test_tables(void **state)
{
	(void)state;
	check(1);
	check(2);
	check(64);
	check(ACPI_MAX_CPUS);
}

static void test_refused(void **state)
{
	uint8_t small[256];

	(void)state;
	assert_int_equal(acpi_build(gpa(BASE), 0x1000, BASE, 0, NULL), -1);
	assert_int_equal(acpi_build(gpa(BASE), 0x1000, BASE, ACPI_MAX_CPUS + 1, NULL), -1);
	assert_int_equal(acpi_build(small, sizeof(small), BASE, 1, NULL), -1);
}

static void test_pm_timer(void **state)
{
	(void)state;
	assert_int_equal(acpi_pm_timer(0), 0);
	assert_int_equal(acpi_pm_timer(1000000000ull), 3579545);
	assert_int_equal(acpi_pm_timer(1000000ull), 3579);
	/* 24 bits: 5 s is 17,897,725 ticks, which wraps once */
	assert_int_equal(acpi_pm_timer(5000000000ull), 17897725 - (1 << 24));
	/* no overflow over a long run: 10 days */
	assert_int_equal(acpi_pm_timer(864000ull * 1000000000ull),
			 (uint32_t)(864000ull * 3579545ull) & ACPI_PM_MASK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_pm_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
