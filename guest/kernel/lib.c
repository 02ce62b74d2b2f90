// SPDX-License-Identifier: MIT
/* Freestanding basics: mem*, a small printk to the serial port, ucalls. */
#include <stdarg.h>

#include "kernel.h"

void *memset(void *d, int c, size_t n)
{
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *r = d;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return r;
}

static volatile int print_lock;

static void putc_serial(char ch)
{
	outb(VTIMER_PORT_SERIAL, ch);
}

static void put_num(unsigned long long v, unsigned base, int neg)
{
	char buf[24];
	int i = 0;

	if (neg)
		putc_serial('-');
	do {
		buf[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i)
		putc_serial(buf[--i]);
}

/* %s %c %d %u %x with optional l/ll; enough for boot messages and errors. */
void printk(const char *fmt, ...)
{
	va_list ap;

	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int l = 0;

		if (*fmt != '%') {
			putc_serial(*fmt);
			continue;
		}
		while (*++fmt == 'l')
			l++;
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			while (*s)
				putc_serial(*s++);
			break;
		}
		case 'c':
			putc_serial((char)va_arg(ap, int));
			break;
		case 'd': {
			long long v = l ? va_arg(ap, long long) : va_arg(ap, int);

			put_num(v < 0 ? -(unsigned long long)v : (unsigned long long)v, 10, v < 0);
			break;
		}
		case 'u':
			put_num(l ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned), 10, 0);
			break;
		case 'x':
			put_num(l ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned), 16, 0);
			break;
		default:
			putc_serial('%');
			putc_serial(*fmt);
		}
	}
	va_end(ap);
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

/* One exit: the host reads this CPU's slot, validated, and acts on it. */
void ucall(uint32_t cmd, uint64_t a0, const char *msg)
{
	struct cpu *c = this_cpu();
	struct vtimer_ucall *u = c->ucall;
	int i = 0;

	u->version = VTIMER_ABI_VERSION;
	u->cmd = cmd;
	u->arg[0] = a0;
	if (msg)
		for (; msg[i] && i < VTIMER_UCALL_MSG - 1; i++)
			u->msg[i] = msg[i];
	u->msg[i] = 0;
	outl(VTIMER_PORT_UCALL, c->id);
}

void panic(const char *msg)
{
	cli();
	ucall(VTIMER_UCALL_ABORT, 0, msg);
	for (;;)
		__asm__ volatile("hlt");
}
