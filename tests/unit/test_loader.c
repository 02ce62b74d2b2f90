// SPDX-License-Identifier: MIT
/*
 * Checks load_vtimer_image (src/machine/loader.c) on ELF64 images built in
 * memory, against a fake struct vm whose RAM is a calloc'd buffer (no KVM):
 * a valid image loads, sets the entry point and image_end, copies filesz
 * bytes and zero-fills up to memsz; every malformed header or segment is
 * refused with -1, and header- and segment-level refusals leave guest RAM
 * and vm->entry untouched. Tolerance: none, byte-exact.
 */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "machine/machine.h"
#include "vtimer/abi.h"

#define RAM_SIZE	(4ULL << 20)
#define POISON		0xaa
#define CODE_OFF	(sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr))
#define MEMSZ		0x40

static const uint8_t code[] = { 0xfa, 0xf4, 0xeb, 0xfd };	/* cli; hlt; jmp . */

/* An image with room for two program headers; e_phnum says how many count. */
struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	uint8_t code[sizeof(code)];
};

struct fixture {
	struct vm vm;
	struct image img;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	Elf64_Ehdr *eh = &f->img.eh;
	Elf64_Phdr *ph = &f->img.ph[0];

	if (!f)
		return -1;
	f->vm.mem_size = RAM_SIZE;
	f->vm.mem = malloc(RAM_SIZE);
	if (!f->vm.mem)
		return -1;
	memset(f->vm.mem, POISON, RAM_SIZE);

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = VTIMER_GPA_KERNEL;
	eh->e_phoff = offsetof(struct image, ph);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;

	ph->p_type = PT_LOAD;
	ph->p_flags = PF_R | PF_X;
	ph->p_offset = offsetof(struct image, code);
	ph->p_paddr = VTIMER_GPA_KERNEL;
	ph->p_vaddr = VTIMER_GPA_KERNEL;
	ph->p_filesz = sizeof(code);
	ph->p_memsz = MEMSZ;
	ph->p_align = 16;
	memcpy(f->img.code, code, sizeof(code));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->vm.mem);
	free(f);
	return 0;
}

static int load(struct fixture *f, size_t size)
{
	return load_vtimer_image(&f->vm, &f->img, size, "test.elf");
}

static int ram_untouched(const struct fixture *f)
{
	for (uint64_t i = 0; i < RAM_SIZE; i++)
		if (f->vm.mem[i] != POISON)
			return 0;
	return 1;
}

/* A refusal that happens before anything is copied. */
static void refused_clean(struct fixture *f, size_t size)
{
	assert_int_equal(load(f, size), -1);
	assert_int_equal(f->vm.entry.rip, 0);
	assert_int_equal(f->vm.image_end, 0);
	assert_true(ram_untouched(f));
}

static void test_valid(void **state)
{
	struct fixture *f = *state;
	const uint8_t *seg = f->vm.mem + VTIMER_GPA_KERNEL;

	assert_int_equal(load(f, sizeof(f->img)), 0);
	assert_int_equal(f->vm.entry.mode, BOOT_LONG64);
	assert_int_equal(f->vm.entry.rip, VTIMER_GPA_KERNEL);
	assert_int_equal(f->vm.entry.rsi, VTIMER_GPA_BOOT);
	assert_int_equal(f->vm.image_end, VTIMER_GPA_KERNEL + MEMSZ);
	assert_memory_equal(seg, code, sizeof(code));
	for (size_t i = sizeof(code); i < MEMSZ; i++)
		assert_int_equal(seg[i], 0);
	/* nothing outside [paddr, paddr + memsz) */
	assert_int_equal(seg[-1], POISON);
	assert_int_equal(seg[MEMSZ], POISON);
	assert_int_equal(f->vm.mem[0], POISON);
}

static void test_valid_two_segments(void **state)
{
	struct fixture *f = *state;
	Elf64_Phdr *bss = &f->img.ph[1];

	f->img.eh.e_phnum = 2;
	*bss = f->img.ph[0];
	bss->p_paddr = 0x200000;
	bss->p_filesz = 0;
	bss->p_memsz = 0x1000;
	assert_int_equal(load(f, sizeof(f->img)), 0);
	assert_int_equal(f->vm.image_end, 0x201000);
	assert_memory_equal(f->vm.mem + VTIMER_GPA_KERNEL, code, sizeof(code));
	for (size_t i = 0; i < 0x1000; i++)
		assert_int_equal(f->vm.mem[0x200000 + i], 0);
	assert_int_equal(f->vm.mem[0x201000], POISON);
}

static void test_non_load_ignored(void **state)
{
	struct fixture *f = *state;

	/* a PT_NOTE pointing nowhere is skipped, not validated */
	f->img.eh.e_phnum = 2;
	f->img.ph[1].p_type = PT_NOTE;
	f->img.ph[1].p_offset = ~0ULL;
	f->img.ph[1].p_filesz = ~0ULL;
	assert_int_equal(load(f, sizeof(f->img)), 0);
	assert_int_equal(f->vm.image_end, VTIMER_GPA_KERNEL + MEMSZ);
}

/*
 * Program headers at a file offset that is not 8-byte aligned load like
 * aligned ones (found by tests/fuzz/fuzz_loader.c: the loader cast the
 * table to Elf64_Phdr *, undefined behaviour that UBSan reports; the
 * sanitizer build of this test, make test-asan, checks it stays fixed).
 */
static void test_unaligned_phoff(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = calloc(1, sizeof(f->img) + 4);
	Elf64_Ehdr eh = f->img.eh;
	Elf64_Phdr ph = f->img.ph[0];

	assert_non_null(buf);
	eh.e_phoff += 4;
	ph.p_offset += 4;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + eh.e_phoff, &ph, sizeof(ph));
	memcpy(buf + ph.p_offset, code, sizeof(code));
	assert_int_equal(load_vtimer_image(&f->vm, buf, sizeof(f->img) + 4, "test.elf"), 0);
	assert_int_equal(f->vm.entry.rip, VTIMER_GPA_KERNEL);
	assert_int_equal(f->vm.image_end, VTIMER_GPA_KERNEL + MEMSZ);
	assert_memory_equal(f->vm.mem + VTIMER_GPA_KERNEL, code, sizeof(code));
	free(buf);
}

static void test_not_elf(void **state)
{
	struct fixture *f = *state;

	f->img.eh.e_ident[EI_MAG1] = 'X';
	refused_clean(f, sizeof(f->img));
}

static void test_elf32(void **state)
{
	struct fixture *f = *state;

	f->img.eh.e_ident[EI_CLASS] = ELFCLASS32;
	refused_clean(f, sizeof(f->img));
}

static void test_wrong_machine(void **state)
{
	struct fixture *f = *state;

	f->img.eh.e_machine = EM_386;
	refused_clean(f, sizeof(f->img));
}

static void test_et_dyn(void **state)
{
	struct fixture *f = *state;

	f->img.eh.e_type = ET_DYN;
	refused_clean(f, sizeof(f->img));
}

static void test_truncated_header(void **state)
{
	struct fixture *f = *state;

	refused_clean(f, sizeof(Elf64_Ehdr) - 1);
	refused_clean(f, 0);
}

static void test_phdrs_beyond_file(void **state)
{
	struct fixture *f = *state;

	/* the one phdr starts inside the file but ends past it */
	refused_clean(f, offsetof(struct image, ph) + sizeof(Elf64_Phdr) - 1);
	f->img.eh.e_phoff = sizeof(f->img) + 1;
	refused_clean(f, sizeof(f->img));
	f->img.eh.e_phoff = ~0ULL;
	refused_clean(f, sizeof(f->img));
}

static void test_bad_phentsize(void **state)
{
	struct fixture *f = *state;

	f->img.eh.e_phentsize = sizeof(Elf32_Phdr);
	refused_clean(f, sizeof(f->img));
}

static void test_huge_phnum(void **state)
{
	struct fixture *f = *state;

	f->img.eh.e_phnum = 0xffff;
	refused_clean(f, sizeof(f->img));
}

static void test_segment_beyond_file(void **state)
{
	struct fixture *f = *state;

	/* the image ends one byte before the segment's last file byte */
	refused_clean(f, offsetof(struct image, code) + sizeof(code) - 1);
	f->img.ph[0].p_offset = sizeof(f->img) + 1;
	refused_clean(f, sizeof(f->img));
	/* offset + filesz wraps around 2^64 */
	f->img.ph[0].p_offset = 8;
	f->img.ph[0].p_filesz = ~0ULL - 4;
	f->img.ph[0].p_memsz = ~0ULL;
	refused_clean(f, sizeof(f->img));
}

static void test_filesz_over_memsz(void **state)
{
	struct fixture *f = *state;

	f->img.ph[0].p_memsz = sizeof(code) - 1;
	refused_clean(f, sizeof(f->img));
}

static void test_paddr_below_kernel(void **state)
{
	struct fixture *f = *state;

	f->img.ph[0].p_paddr = VTIMER_GPA_KERNEL - 1;
	refused_clean(f, sizeof(f->img));
	f->img.ph[0].p_paddr = 0;
	refused_clean(f, sizeof(f->img));
}

static void test_segment_beyond_ram(void **state)
{
	struct fixture *f = *state;

	f->img.ph[0].p_paddr = RAM_SIZE - MEMSZ + 1;
	refused_clean(f, sizeof(f->img));
	f->img.ph[0].p_paddr = RAM_SIZE;
	refused_clean(f, sizeof(f->img));
	/* paddr + memsz wraps around 2^64 */
	f->img.ph[0].p_paddr = ~0ULL - 0xf;
	refused_clean(f, sizeof(f->img));
	f->img.ph[0].p_paddr = VTIMER_GPA_KERNEL;
	f->img.ph[0].p_memsz = ~0ULL - VTIMER_GPA_KERNEL + 2;
	refused_clean(f, sizeof(f->img));
}

static void test_segment_fills_ram(void **state)
{
	struct fixture *f = *state;

	/* the last byte of RAM is still RAM */
	f->img.ph[0].p_paddr = RAM_SIZE - MEMSZ;
	f->img.eh.e_entry = RAM_SIZE - MEMSZ;
	assert_int_equal(load(f, sizeof(f->img)), 0);
	assert_int_equal(f->vm.image_end, RAM_SIZE);
}

static void test_entry_outside_ram(void **state)
{
	struct fixture *f = *state;

	/* checked after the segments are copied: only the result matters */
	f->img.eh.e_entry = RAM_SIZE;
	assert_int_equal(load(f, sizeof(f->img)), -1);
	assert_int_equal(f->vm.entry.rip, 0);
	f->img.eh.e_entry = ~0ULL;
	assert_int_equal(load(f, sizeof(f->img)), -1);
	assert_int_equal(f->vm.entry.rip, 0);
}

static void test_entry_below_kernel(void **state)
{
	struct fixture *f = *state;

	f->img.eh.e_entry = VTIMER_GPA_BOOT;
	assert_int_equal(load(f, sizeof(f->img)), -1);
	assert_int_equal(f->vm.entry.rip, 0);
}

static void test_no_pt_load(void **state)
{
	struct fixture *f = *state;

	f->img.ph[0].p_type = PT_NOTE;
	refused_clean(f, sizeof(f->img));
	f->img.ph[0].p_type = PT_LOAD;
	f->img.eh.e_phnum = 0;
	refused_clean(f, sizeof(f->img));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_valid),
		T(test_valid_two_segments),
		T(test_non_load_ignored),
		T(test_unaligned_phoff),
		T(test_not_elf),
		T(test_elf32),
		T(test_wrong_machine),
		T(test_et_dyn),
		T(test_truncated_header),
		T(test_phdrs_beyond_file),
		T(test_bad_phentsize),
		T(test_huge_phnum),
		T(test_segment_beyond_file),
		T(test_filesz_over_memsz),
		T(test_paddr_below_kernel),
		T(test_segment_beyond_ram),
		T(test_segment_fills_ram),
		T(test_entry_outside_ram),
		T(test_entry_below_kernel),
		T(test_no_pt_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
