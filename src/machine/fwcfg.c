// SPDX-License-Identifier: MIT
/*
 * QEMU's fw_cfg, legacy I/O interface only (no DMA): a 16-bit write to the
 * selector port picks an item and rewinds it, byte reads from the data port
 * stream it. kvm-unit-tests reads the CPU count and RAM size this way.
 *
 * The items are fixed when the VM is built, so they are rendered once into
 * the device state and a read is a table lookup under vm->lock.
 */
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "../util.h"

#define FW_CFG_PORT_SEL		0x510
#define FW_CFG_PORT_DATA	0x511

#define FW_CFG_SIGNATURE	0x0000
#define FW_CFG_ID		0x0001
#define FW_CFG_RAM_SIZE		0x0003
#define FW_CFG_NB_CPUS		0x0005
#define FW_CFG_MAX_CPUS		0x000f

#define FW_CFG_ID_TRADITIONAL	1u	/* bit 1 (DMA) stays clear */

struct fwcfg_item {
	uint16_t key;
	uint8_t len;
	uint8_t data[8];
};

struct fwcfg {
	struct fwcfg_item items[5];
	const struct fwcfg_item *cur;	/* NULL: unknown key, reads as zeros */
	uint32_t off;
};

static struct fwcfg_item le_item(uint16_t key, uint64_t v, uint8_t len)
{
	struct fwcfg_item it = { .key = key, .len = len };

	for (int i = 0; i < len; i++)
		it.data[i] = v >> (8 * i);
	return it;
}

static const struct fwcfg_item *fwcfg_find(const struct fwcfg *fw, uint16_t key)
{
	for (size_t i = 0; i < ARRAY_SIZE(fw->items); i++)
		if (fw->items[i].key == key)
			return &fw->items[i];
	return NULL;
}

static int fwcfg_io(struct vcpu *vcpu, uint16_t port, bool out, int size, uint8_t *data,
		    void *opaque)
{
	struct fwcfg *fw = opaque;
	struct vm *vm = vcpu->vm;
	uint16_t key;

	pthread_mutex_lock(&vm->lock);
	if (out) {
		/* Byte writes to the selector are data writes in QEMU: ignored here. */
		if (port == FW_CFG_PORT_SEL && size >= 2) {
			memcpy(&key, data, sizeof(key));
			fw->cur = fwcfg_find(fw, key);
			fw->off = 0;
		}
	} else if (port == FW_CFG_PORT_DATA) {
		for (int i = 0; i < size; i++) {
			data[i] = fw->cur && fw->off < fw->cur->len ? fw->cur->data[fw->off] : 0;
			if (fw->off < UINT32_MAX)
				fw->off++;
		}
	} else {
		memset(data, 0, size);
	}
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

int fwcfg_init(struct vm *vm)
{
	struct fwcfg *fw = calloc(1, sizeof(*fw));

	if (!fw) {
		vt_err("fw_cfg: out of memory");
		return -1;
	}
	fw->items[0] = (struct fwcfg_item){ .key = FW_CFG_SIGNATURE, .len = 4,
					    .data = { 'Q', 'E', 'M', 'U' } };
	fw->items[1] = le_item(FW_CFG_ID, FW_CFG_ID_TRADITIONAL, 4);
	fw->items[2] = le_item(FW_CFG_RAM_SIZE, vm->mem_size, 8);
	fw->items[3] = le_item(FW_CFG_NB_CPUS, vm->nr_vcpus, 2);
	fw->items[4] = le_item(FW_CFG_MAX_CPUS, vm->nr_vcpus, 2);
	if (vm_add_pio(vm, FW_CFG_PORT_SEL, 2, fwcfg_io, fw) < 0) {
		vt_err("fw_cfg: no free port-I/O slot");
		free(fw);
		return -1;
	}
	vm->fwcfg = fw;
	return 0;
}
