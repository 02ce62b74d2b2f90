// SPDX-License-Identifier: MIT
/*
 * Multiboot (v1) loader, QEMU -kernel style, so kvm-unit-tests-like test
 * kernels run on this machine. The image is either an ELF32 executable or a
 * flat image described by the header's address fields ("a.out kludge").
 *
 * The whole image is described and checked first (struct mb_load) and only
 * then copied, so a bad file leaves guest RAM untouched and costs one line.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "machine.h"
#include "../util.h"
#include "vtimer/abi.h"

#define MB_MAGIC		0x1BADB002u
#define MB_BOOT_MAGIC		0x2BADB002u
#define MB_SEARCH		8192
#define MB_F_AOUT_KLUDGE	(1u << 16)
/* Bits 0-15 are "required": a loader must refuse ones it does not know. */
#define MB_F_KNOWN_REQUIRED	0x7u

#define MBI_MEM			(1u << 0)
#define MBI_CMDLINE		(1u << 2)
#define MBI_MODS		(1u << 3)
#define MBI_MMAP		(1u << 6)
#define MBI_LOADER_NAME		(1u << 9)

/* Low RAM nobody else uses: the VMM's tables are at 0x1000-0x6fff. */
#define MBI_GPA			0x9000ULL
#define MBI_MMAP_GPA		0x9100ULL
#define MBI_NAME_GPA		0x9180ULL
#define MBI_CMDLINE_GPA		0x9800ULL
#define MBI_CMDLINE_MAX		0x1000ULL	/* including the NUL */
#define LOW_MEM_END		0xa0000ULL	/* 640 KiB: the PC's conventional RAM */
#define HIGH_MEM		0x100000ULL

#define MAX_SEGS		16

struct mb_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* Only the fields up to the APM table: we never claim VBE or framebuffer. */
struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr;
	uint32_t config_table, boot_loader_name, apm_table;
};

struct mb_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

/* One piece of the image: file bytes [off, off+filesz) to gpa, then zeros. */
struct mb_seg {
	uint64_t off, filesz, gpa, memsz;
};

struct mb_load {
	struct mb_seg seg[MAX_SEGS];
	int nr;
	uint64_t entry;
};

static const struct mb_header *find_header(const uint8_t *img, size_t size, size_t *at)
{
	for (size_t off = 0; off + 12 <= size && off + 12 <= MB_SEARCH; off += 4) {
		const struct mb_header *h = (const void *)(img + off);

		if (h->magic == MB_MAGIC && h->magic + h->flags + h->checksum == 0) {
			*at = off;
			return h;
		}
	}
	return NULL;
}

/* Checks a piece against the file and guest RAM; 0 or -1 with the error said. */
static int add_seg(struct vm *vm, struct mb_load *l, size_t size, const char *name,
		   struct mb_seg s)
{
	if (s.filesz > s.memsz) {
		vt_err("%s: segment %d has more file bytes than memory bytes", name, l->nr);
		return -1;
	}
	if (s.off > size || s.filesz > size - s.off) {
		vt_err("%s: segment %d lies outside the file", name, l->nr);
		return -1;
	}
	if (s.gpa < HIGH_MEM) {
		vt_err("%s: segment %d at 0x%llx is below 1 MiB (reserved for the VMM)",
		       name, l->nr, (unsigned long long)s.gpa);
		return -1;
	}
	if (!vm_gpa(vm, s.gpa, s.memsz)) {
		vt_err("%s: segment %d at 0x%llx+0x%llx does not fit in %llu MiB of guest RAM",
		       name, l->nr, (unsigned long long)s.gpa, (unsigned long long)s.memsz,
		       (unsigned long long)vm->mem_size >> 20);
		return -1;
	}
	if (l->nr == MAX_SEGS) {
		vt_err("%s: more than %d loadable segments", name, MAX_SEGS);
		return -1;
	}
	l->seg[l->nr++] = s;
	return 0;
}

static bool entry_in_image(const struct mb_load *l)
{
	for (int i = 0; i < l->nr; i++)
		if (l->entry >= l->seg[i].gpa && l->entry - l->seg[i].gpa < l->seg[i].memsz)
			return true;
	return false;
}

/* The address fields, interpreted as QEMU and GRUB do. */
static int parse_kludge(struct vm *vm, const struct mb_header *h, size_t hoff, size_t size,
			const char *name, struct mb_load *l)
{
	uint64_t skip, off, filesz, memsz;

	if (hoff + sizeof(*h) > size) {
		vt_err("%s: multiboot address fields lie outside the file", name);
		return -1;
	}
	skip = (uint64_t)h->header_addr - h->load_addr;
	if (h->load_addr > h->header_addr || skip > hoff) {
		vt_err("%s: multiboot header_addr 0x%x and load_addr 0x%x disagree with the "
		       "header's file offset 0x%zx", name, h->header_addr, h->load_addr, hoff);
		return -1;
	}
	off = hoff - skip;
	if (!h->load_end_addr) {
		filesz = size - off;
	} else if (h->load_end_addr < h->load_addr) {
		vt_err("%s: multiboot load_end_addr 0x%x is below load_addr 0x%x", name,
		       h->load_end_addr, h->load_addr);
		return -1;
	} else {
		filesz = (uint64_t)h->load_end_addr - h->load_addr;
	}
	memsz = filesz;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < h->load_addr + filesz) {
			vt_err("%s: multiboot bss_end_addr 0x%x is below the loaded image", name,
			       h->bss_end_addr);
			return -1;
		}
		memsz = (uint64_t)h->bss_end_addr - h->load_addr;
	}
	l->entry = h->entry_addr;
	return add_seg(vm, l, size, name, (struct mb_seg){ off, filesz, h->load_addr, memsz });
}

static int parse_elf(struct vm *vm, const uint8_t *img, size_t size, const char *name,
		     struct mb_load *l)
{
	const Elf32_Ehdr *eh = (const void *)img;
	Elf32_Phdr ph;

	if (size < EI_NIDENT || memcmp(eh->e_ident, ELFMAG, SELFMAG)) {
		vt_err("%s: multiboot header has no address fields and the file is not ELF",
		       name);
		return -1;
	}
	if (eh->e_ident[EI_CLASS] == ELFCLASS64) {
		vt_err("%s: cannot load a 64-bit ELF as multiboot, give a 32-bit (i386) one",
		       name);
		return -1;
	}
	if (size < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS32 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_386 ||
	    eh->e_type != ET_EXEC) {
		vt_err("%s: not an i386 ELF32 executable", name);
		return -1;
	}
	if (eh->e_phentsize != sizeof(ph) || eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(ph) > size - eh->e_phoff) {
		vt_err("%s: program headers lie outside the file", name);
		return -1;
	}
	for (int i = 0; i < eh->e_phnum; i++) {
		/* e_phoff need not be aligned: copy rather than cast. */
		memcpy(&ph, img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (add_seg(vm, l, size, name, (struct mb_seg){ ph.p_offset, ph.p_filesz,
								ph.p_paddr, ph.p_memsz }) < 0)
			return -1;
	}
	l->entry = eh->e_entry;
	return 0;
}

/*
 * Multiboot info, memory map and strings, all in the free low area. The
 * command line is "FILE ARGS" as QEMU builds it: kvm-unit-tests takes its
 * first word as argv[0].
 */
static void write_mbi(struct vm *vm, const char *name, const char *cmdline)
{
	static const char loader[] = "vtimer";
	char *cl = vm_gpa(vm, MBI_CMDLINE_GPA, MBI_CMDLINE_MAX);
	struct mb_mmap_entry map[2] = {
		{ sizeof(map[0]) - 4, 0, LOW_MEM_END, 1 },
		{ sizeof(map[0]) - 4, HIGH_MEM, vm->mem_size - HIGH_MEM, 1 },
	};
	struct mb_info mbi = {
		.flags = MBI_MEM | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME,
		.mem_lower = LOW_MEM_END >> 10,
		.mem_upper = (vm->mem_size - HIGH_MEM) >> 10,
		.cmdline = MBI_CMDLINE_GPA,
		.mmap_length = sizeof(map), .mmap_addr = MBI_MMAP_GPA,
		.boot_loader_name = MBI_NAME_GPA,
	};

	memset(vm_gpa(vm, MBI_GPA, MBI_CMDLINE_GPA + MBI_CMDLINE_MAX - MBI_GPA), 0,
	       MBI_CMDLINE_GPA + MBI_CMDLINE_MAX - MBI_GPA);
	memcpy(vm_gpa(vm, MBI_GPA, sizeof(mbi)), &mbi, sizeof(mbi));
	memcpy(vm_gpa(vm, MBI_MMAP_GPA, sizeof(map)), map, sizeof(map));
	memcpy(vm_gpa(vm, MBI_NAME_GPA, sizeof(loader)), loader, sizeof(loader));
	snprintf(cl, MBI_CMDLINE_MAX, "%s %s", name, cmdline);
}

int load_multiboot(struct vm *vm, const void *img, size_t size, const char *name,
		   const char *cmdline)
{
	const struct mb_header *h;
	struct mb_load l = { .nr = 0 };
	size_t hoff;
	int r;

	h = find_header(img, size, &hoff);
	if (!h) {
		vt_err("%s: not a multiboot kernel (no header in the first %d bytes)", name,
		       MB_SEARCH);
		return -1;
	}
	if (h->flags & 0xffff & ~MB_F_KNOWN_REQUIRED) {
		vt_err("%s: multiboot header requires unknown features (flags 0x%x)", name,
		       h->flags);
		return -1;
	}
	if (h->flags & MB_F_AOUT_KLUDGE)
		r = parse_kludge(vm, h, hoff, size, name, &l);
	else
		r = parse_elf(vm, img, size, name, &l);
	if (r < 0)
		return -1;
	if (!l.nr) {
		vt_err("%s: nothing to load", name);
		return -1;
	}
	if (!entry_in_image(&l)) {
		vt_err("%s: entry point 0x%llx is not inside a loaded segment", name,
		       (unsigned long long)l.entry);
		return -1;
	}
	if (strlen(name) + 1 + strlen(cmdline) >= MBI_CMDLINE_MAX) {
		vt_err("%s: file name and command line longer than %llu bytes", name,
		       MBI_CMDLINE_MAX - 1);
		return -1;
	}

	vm->image_end = 0;
	for (int i = 0; i < l.nr; i++) {
		const struct mb_seg *s = &l.seg[i];
		uint8_t *dst = vm_gpa(vm, s->gpa, s->memsz);

		memcpy(dst, (const uint8_t *)img + s->off, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
		if (s->gpa + s->memsz > vm->image_end)
			vm->image_end = s->gpa + s->memsz;
	}
	write_mbi(vm, name, cmdline);
	vm->entry = (struct boot_entry){ .mode = BOOT_PROT32, .rip = l.entry,
					 .rax = MB_BOOT_MAGIC, .rbx = MBI_GPA };
	return 0;
}
