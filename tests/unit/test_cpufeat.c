// SPDX-License-Identifier: MIT
/*
 * --cpu=+feat,-feat (src/machine/cpufeat.c): parsing, later items winning,
 * clear errors, and the bits changed in a KVM-style CPUID table: '-' clears
 * exactly the feature's bits, '+' sets them only where KVM offers or
 * emulates the feature, and a refused '+' changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "machine/cpufeat.h"

static char err[256];

static uint32_t bit(const char *name)
{
	const struct cpu_feature *f = cpu_feature_find(name);

	assert_non_null(f);
	return 1u << (f - cpu_features);
}

/* Leaf 1, leaf 6 and KVM's 0x40000001, as GET_SUPPORTED_CPUID might give them. */
static struct kvm_cpuid2 *table(uint32_t kvm_eax)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 3 * sizeof(c->entries[0]));

	assert_non_null(c);
	c->nent = 3;
	c->entries[0] = (struct kvm_cpuid_entry2){ .function = 1, .ecx = 0x80200001 | (1u << 24),
						   .edx = 0x178bfbff };
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 6, .eax = 4 };
	c->entries[2] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = kvm_eax };
	return c;
}

static void test_parse(void **state)
{
	struct cpu_flags f;
	char buf[128];

	assert_int_equal(cpu_flags_parse("+x2apic,-kvm-pv-eoi,tsc-deadline", &f, err, sizeof(err)), 0);
	assert_int_equal(f.on, bit("x2apic") | bit("tsc-deadline"));
	assert_int_equal(f.off, bit("kvm-pv-eoi"));
	cpu_flags_format(&f, buf, sizeof(buf));
	assert_string_equal(buf, "+x2apic,+tsc-deadline,-kvm-pv-eoi");

	/* The later item wins. */
	assert_int_equal(cpu_flags_parse("-x2apic,+x2apic,+arat,-arat", &f, err, sizeof(err)), 0);
	assert_int_equal(f.on, bit("x2apic"));
	assert_int_equal(f.off, bit("arat"));

	cpu_flags_format(&(struct cpu_flags){ 0 }, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void test_parse_errors(void **state)
{
	static const char *const bad[] = { "", "+", "-", ",", "x2apic,", "+x2apic,,-arat",
					   "foo", "+X2APIC", "--x2apic", "+x2apic=on",
					   "-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	struct cpu_flags f;

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(cpu_flags_parse(bad[i], &f, err, sizeof(err)), -1);
		assert_true(!strncmp(err, "bad --cpu=", 10));
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(cpu_flags_parse("foo", &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown feature 'foo'"));
}

static void test_apply_clear(void **state)
{
	struct kvm_cpuid2 *c = table(0x1007efb);
	struct cpu_flags f;

	assert_true(cpu_feature_has(c, cpu_feature_find("x2apic") - cpu_features));
	assert_int_equal(cpu_flags_parse("-x2apic,-kvm-pv-eoi,-kvmclock", &f, err, sizeof(err)), 0);
	assert_int_equal(cpu_flags_apply(c, &f, err, sizeof(err)), 0);
	assert_int_equal(c->entries[0].ecx, 0x80000001 | (1u << 24));
	assert_int_equal(c->entries[0].edx, 0x178bfbff);
	/* kvmclock is bits 0 and 3; PV EOI bit 6; nothing else moved. */
	assert_int_equal(c->entries[2].eax, 0x1007efb & ~0x49u);
	free(c);
}

static void test_apply_set(void **state)
{
	struct kvm_cpuid2 *c = table(0x1007efb & ~0x40u);	/* no PV EOI on offer */
	struct cpu_flags f;

	c->entries[0].ecx &= ~(1u << 21);
	/* KVM emulates x2APIC whatever the table says. */
	assert_int_equal(cpu_flags_parse("+x2apic", &f, err, sizeof(err)), 0);
	assert_int_equal(cpu_flags_apply(c, &f, err, sizeof(err)), 0);
	assert_true(c->entries[0].ecx & (1u << 21));

	/* PV EOI is not offered: refused, and the x2apic clear asked with it not done. */
	assert_int_equal(cpu_flags_parse("-x2apic,+kvm-pv-eoi", &f, err, sizeof(err)), 0);
	assert_int_equal(cpu_flags_apply(c, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--cpu=+kvm-pv-eoi: KVM does not offer"));
	assert_true(c->entries[0].ecx & (1u << 21));
	assert_int_equal(c->entries[2].eax, 0x1007efb & ~0x40u);

	/* invtsc's leaf is absent here: '+' refused, '-' a no-op. */
	assert_int_equal(cpu_flags_parse("+invtsc", &f, err, sizeof(err)), 0);
	assert_int_equal(cpu_flags_apply(c, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no CPUID leaf 0x80000007"));
	assert_int_equal(cpu_flags_parse("-invtsc", &f, err, sizeof(err)), 0);
	assert_int_equal(cpu_flags_apply(c, &f, err, sizeof(err)), 0);
	free(c);
}

/* Every feature's bits lie in its register and no two features share one. */
static void test_table(void **state)
{
	assert_true(nr_cpu_features <= 32);
	for (unsigned int i = 0; i < nr_cpu_features; i++) {
		assert_int_not_equal(cpu_features[i].mask, 0);
		assert_ptr_equal(cpu_feature_find(cpu_features[i].name), &cpu_features[i]);
		for (unsigned int j = 0; j < i; j++)
			if (cpu_features[i].leaf == cpu_features[j].leaf &&
			    cpu_features[i].reg == cpu_features[j].reg)
				assert_int_equal(cpu_features[i].mask & cpu_features[j].mask, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_apply_clear),
		cmocka_unit_test(test_apply_set),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
