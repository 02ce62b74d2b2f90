// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for load_multiboot (src/machine/multiboot.c): the input
 * is the kernel file (ELF32 or a flat image with the a.out kludge). The VM
 * is a fake struct vm with 2 MiB of malloc'd, poisoned RAM, no KVM.
 * Besides ASan/UBSan, it checks: a refused image leaves RAM and vm->entry
 * untouched; an accepted one boots in 32-bit protected mode with the
 * multiboot magic, an entry point at or above 1 MiB inside RAM, and an
 * image_end inside RAM; nothing but the multiboot info area (0x9000-0xa7ff)
 * is written below 1 MiB.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "machine/machine.h"

#define RAM_SIZE	(2ULL << 20)
#define HIGH_MEM	0x100000ULL
#define MBI_START	0x9000ULL
#define MBI_END		0xa800ULL
#define POISON		0xaa

static struct vm vm;
static uint8_t *poison;

static int ram_poisoned(uint64_t from, uint64_t to)
{
	return !memcmp(vm.mem + from, poison + from, to - from);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vm.mem_size = RAM_SIZE;
	fuzz_ram(&vm.mem, &poison, RAM_SIZE, POISON);
	vm.image_end = 0;
	memset(&vm.entry, 0, sizeof(vm.entry));

	if (load_multiboot(&vm, data, size, "fuzz.elf", "a b c") < 0) {
		fuzz_check(vm.entry.rip == 0 && vm.image_end == 0, "refusal leaves entry alone");
		fuzz_check(ram_poisoned(MBI_START, MBI_END), "refusal leaves the info area alone");
		fuzz_check(ram_poisoned(HIGH_MEM, RAM_SIZE), "refusal leaves high RAM alone");
		return 0;
	}
	fuzz_check(vm.entry.mode == BOOT_PROT32, "entry mode is BOOT_PROT32");
	fuzz_check(vm.entry.rax == 0x2BADB002u && vm.entry.rbx == MBI_START, "multiboot registers");
	fuzz_check(vm.entry.rip >= HIGH_MEM && vm.entry.rip < RAM_SIZE, "entry point in high RAM");
	fuzz_check(vm.image_end > vm.entry.rip && vm.image_end <= RAM_SIZE, "image_end in RAM");
	fuzz_check(ram_poisoned(0, MBI_START) && ram_poisoned(MBI_END, HIGH_MEM),
	           "low RAM outside the info area untouched");
	fuzz_check(!strncmp((const char *)vm.mem + 0x9800, "fuzz.elf a b c", 15),
	           "command line written");
	memset(vm.mem, POISON, RAM_SIZE);
	return 0;
}
