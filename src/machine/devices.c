// SPDX-License-Identifier: MIT
/*
 * Small port-I/O devices: a 16550-style serial transmitter on 0x3f8 (enough
 * for polled output; sanitised when the console is a terminal) and QEMU's
 * isa-debug-exit on 0xf4.
 */
#include <stdio.h>
#include <string.h>

#include "machine.h"

#define UART_THR	0
#define UART_LSR	5
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40

/* A guest cannot send escape sequences to the user's terminal; files get raw bytes. */
int serial_console_char(uint8_t c, bool tty)
{
	if (!tty || c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f))
		return c;
	return '?';
}

/* Line assembly for vm->console_line (vm->lock held). */
static void console_line(struct vm *vm, uint8_t c)
{
	if (!vm->console_line)
		return;
	if (c == '\n') {
		if (!vm->line_long)
			vm->console_line(vm->console_arg, vm->line, vm->line_len);
		vm->line_len = 0;
		vm->line_long = false;
	} else if (vm->line_len < sizeof(vm->line)) {
		vm->line[vm->line_len++] = (char)c;
	} else {
		vm->line_long = true;
	}
}

static int serial_io(struct vcpu *vcpu, uint16_t port, bool out, int size, uint8_t *data,
		     void *opaque)
{
	struct vm *vm = vcpu->vm;
	int reg = port - VTIMER_SERIAL_BASE;

	(void)opaque;
	if (out) {
		if (reg == UART_THR) {
			pthread_mutex_lock(&vm->lock);
			fputc(serial_console_char(data[0], vm->console_tty), vm->console);
			if (data[0] == '\n')
				fflush(vm->console);
			console_line(vm, data[0]);
			pthread_mutex_unlock(&vm->lock);
		}
		return 0;
	}
	memset(data, 0, size);
	if (reg == UART_LSR)
		data[0] = UART_LSR_THRE | UART_LSR_TEMT;	/* always ready */
	return 0;
}

int serial_init(struct vm *vm)
{
	return vm_add_pio(vm, VTIMER_SERIAL_BASE, 8, serial_io, NULL);
}

/* isa-debug-exit: writing V exits with status (V << 1) | 1, as QEMU does. */
static int debug_exit_io(struct vcpu *vcpu, uint16_t port, bool out, int size, uint8_t *data,
			 void *opaque)
{
	uint32_t v = 0;

	(void)port;
	(void)opaque;
	if (!out) {
		memset(data, 0, size);
		return 0;
	}
	memcpy(&v, data, size);
	vm_stop(vcpu->vm, (int)(((v << 1) | 1) & 0xff), NULL);
	return -1;
}

int debug_exit_init(struct vm *vm)
{
	return vm_add_pio(vm, 0xf4, 1, debug_exit_io, NULL);
}
