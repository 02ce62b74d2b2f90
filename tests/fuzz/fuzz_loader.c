// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for load_vtimer_image (src/machine/loader.c): the input
 * is the guest image file. The VM is a fake struct vm whose RAM is a
 * malloc'd, poisoned buffer (as in tests/unit/test_loader.c), no KVM.
 * Besides ASan/UBSan, it checks the loader's own promises: a refused image
 * leaves RAM, entry and image_end untouched; an accepted one has its entry
 * and image_end inside RAM, at or above VTIMER_GPA_KERNEL, and every
 * PT_LOAD's file bytes in place when segments do not overlap.
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "machine/machine.h"
#include "vtimer/abi.h"

#define RAM_SIZE	(VTIMER_GPA_KERNEL + (128ULL << 10))
#define POISON		0xaa

static struct vm vm;
static uint8_t *poison;	/* RAM_SIZE bytes of POISON, to compare RAM against */

static int ram_poisoned(uint64_t from, uint64_t to)
{
	return !memcmp(vm.mem + from, poison + from, to - from);
}

/* True if PT_LOAD i overlaps no other PT_LOAD in guest memory. */
static int alone(const Elf64_Phdr *ph, int n, int i)
{
	for (int j = 0; j < n; j++)
		if (j != i && ph[j].p_type == PT_LOAD &&
		    ph[j].p_paddr < ph[i].p_paddr + ph[i].p_memsz &&
		    ph[i].p_paddr < ph[j].p_paddr + ph[j].p_memsz)
			return 0;
	return 1;
}

static void check_loaded(const uint8_t *data, size_t size)
{
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;

	fuzz_check(vm.entry.mode == BOOT_LONG64, "entry mode is BOOT_LONG64");
	fuzz_check(vm.entry.rip >= VTIMER_GPA_KERNEL && vm.entry.rip < RAM_SIZE,
	           "entry point inside RAM above the boot area");
	fuzz_check(vm.image_end >= VTIMER_GPA_KERNEL && vm.image_end <= RAM_SIZE,
	           "image_end inside RAM above the boot area");
	fuzz_check(ram_poisoned(0, VTIMER_GPA_KERNEL), "boot area untouched");
	memcpy(&eh, data, sizeof(eh));
	/* The loader accepted the table, so it lies inside the file. */
	ph = malloc(eh.e_phnum * sizeof(*ph) + 1);
	fuzz_check(ph != NULL, "malloc");
	memcpy(ph, data + eh.e_phoff, eh.e_phnum * sizeof(*ph));
	for (int i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		fuzz_check(ph[i].p_paddr + ph[i].p_memsz <= vm.image_end,
		           "segment below image_end");
		if (!alone(ph, eh.e_phnum, i))
			continue;
		fuzz_check(!memcmp(vm.mem + ph[i].p_paddr, data + ph[i].p_offset,
		           ph[i].p_filesz), "segment file bytes copied");
		for (uint64_t b = ph[i].p_filesz; b < ph[i].p_memsz; b++)
			fuzz_check(vm.mem[ph[i].p_paddr + b] == 0, "segment bss zeroed");
	}
	free(ph);
	(void)size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vm.mem_size = RAM_SIZE;
	fuzz_ram(&vm.mem, &poison, RAM_SIZE, POISON);
	vm.image_end = 0;
	memset(&vm.entry, 0, sizeof(vm.entry));

	if (load_vtimer_image(&vm, data, size, "fuzz.elf") < 0) {
		fuzz_check(vm.entry.rip == 0 && vm.image_end == 0, "refusal leaves entry alone");
		fuzz_check(ram_poisoned(VTIMER_GPA_KERNEL, RAM_SIZE), "refusal leaves RAM alone");
		return 0;
	}
	check_loaded(data, size);
	memset(vm.mem, POISON, RAM_SIZE);
	return 0;
}
