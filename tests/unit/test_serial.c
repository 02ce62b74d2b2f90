// SPDX-License-Identifier: MIT
/*
 * Checks the serial console (src/machine/devices.c): on a terminal, guest
 * bytes other than printable ASCII, \n and \t are shown as '?', so a guest
 * cannot send escape sequences to the user's terminal; to a file (or pipe)
 * every byte goes through unchanged. Drives the device's port handler with a
 * fake VM whose console is a temp file. Tolerance: none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "fake_vm.h"

static void test_console_char(void **state)
{
	for (int c = 0; c < 256; c++) {
		int want = c == '\n' || c == '\t' || (c >= ' ' && c <= '~') ? c : '?';

		assert_int_equal(serial_console_char(c, true), want);
		assert_int_equal(serial_console_char(c, false), c);
	}
}

static void write_through(bool tty, const char *in, size_t n, char *out)
{
	struct vm *vm = fake_vm_new(1, 1 << 20);
	FILE *f = tmpfile();

	assert_non_null(f);
	vm->console = f;
	vm->console_tty = tty;
	assert_int_equal(serial_init(vm), 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t b = in[i];

		assert_int_equal(vm->pio[0].fn(&vm->vcpus[0], VTIMER_SERIAL_BASE, true, 1, &b,
					       vm->pio[0].opaque), 0);
	}
	rewind(f);
	assert_int_equal(fread(out, 1, n, f), n);
	fclose(f);
	fake_vm_free(vm);
}

static void test_serial_device(void **state)
{
	static const char in[] = "ok\t\x1b]0;pwned\x07\x1b[2J\r\xff\n";
	char out[sizeof(in)];

	write_through(true, in, sizeof(in) - 1, out);
	assert_memory_equal(out, "ok\t?]0;pwned??[2J??\n", sizeof(in) - 1);
	write_through(false, in, sizeof(in) - 1, out);
	assert_memory_equal(out, in, sizeof(in) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_console_char),
		cmocka_unit_test(test_serial_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
