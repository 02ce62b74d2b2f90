// SPDX-License-Identifier: MIT
#include "machine.h"
#include "../util.h"

int load_multiboot(struct vm *vm, const void *img, size_t size, const char *name,
		   const char *cmdline)
{
	(void)vm; (void)img; (void)size; (void)cmdline;
	vt_err("%s: multiboot loading is not implemented yet", name);
	return -1;
}

int fwcfg_init(struct vm *vm)
{
	(void)vm;
	return -1;
}
