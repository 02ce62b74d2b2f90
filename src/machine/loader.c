// SPDX-License-Identifier: MIT
/*
 * Loader for vtimer's own guest image: a static x86-64 ELF executable whose
 * PT_LOAD segments are placed at their physical addresses. Every header
 * field is checked against the file and guest RAM before anything is copied.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "machine.h"
#include "../util.h"
#include "vtimer/abi.h"

void *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	void *buf;

	if (!f) {
		vt_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		vt_err("%s: not a regular file", path);
		fclose(f);
		return NULL;
	}
	if (st.st_size == 0 || st.st_size > (off_t)VTIMER_MAX_MEM) {
		vt_err("%s: bad size %lld bytes", path, (long long)st.st_size);
		fclose(f);
		return NULL;
	}
	buf = malloc(st.st_size);
	if (!buf || fread(buf, 1, st.st_size, f) != (size_t)st.st_size) {
		vt_err("%s: read failed", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*size = st.st_size;
	return buf;
}

int load_vtimer_image(struct vm *vm, const void *img, size_t size, const char *name)
{
	const Elf64_Ehdr *eh = img;
	const uint8_t *phdrs;
	Elf64_Phdr ph;
	int loaded = 0;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG)) {
		vt_err("%s: not an ELF file", name);
		return -1;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    eh->e_type != ET_EXEC) {
		vt_err("%s: not an x86-64 ELF executable", name);
		return -1;
	}
	if (eh->e_phentsize != sizeof(ph) || eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(ph) > size - eh->e_phoff) {
		vt_err("%s: program headers lie outside the file", name);
		return -1;
	}
	/* e_phoff need not be aligned: copy each header rather than cast. */
	phdrs = (const uint8_t *)img + eh->e_phoff;
	/* Pass 1 validates everything, pass 2 copies: a rejected image leaves RAM alone. */
	for (int i = 0; i < eh->e_phnum; i++) {
		memcpy(&ph, phdrs + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > size ||
		    ph.p_filesz > size - ph.p_offset) {
			vt_err("%s: segment %d lies outside the file", name, i);
			return -1;
		}
		if (ph.p_paddr < VTIMER_GPA_KERNEL) {
			vt_err("%s: segment %d below 0x%llx overlaps the boot area", name, i,
			       VTIMER_GPA_KERNEL);
			return -1;
		}
		if (!vm_gpa(vm, ph.p_paddr, ph.p_memsz)) {
			vt_err("%s: segment %d does not fit in guest RAM", name, i);
			return -1;
		}
		loaded++;
	}
	if (!loaded || !vm_gpa(vm, eh->e_entry, 1) || eh->e_entry < VTIMER_GPA_KERNEL) {
		vt_err("%s: no loadable segment or bad entry point", name);
		return -1;
	}
	for (int i = 0; i < eh->e_phnum; i++) {
		uint8_t *dst;

		memcpy(&ph, phdrs + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		dst = vm_gpa(vm, ph.p_paddr, ph.p_memsz);
		memcpy(dst, (const uint8_t *)img + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > vm->image_end)
			vm->image_end = ph.p_paddr + ph.p_memsz;
	}
	vm->entry = (struct boot_entry){ .mode = BOOT_LONG64, .rip = eh->e_entry,
					 .rsi = VTIMER_GPA_BOOT };
	return 0;
}
