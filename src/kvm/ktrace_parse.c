// SPDX-License-Identifier: MIT
/*
 * The kvm tracepoints' text into counts (ktrace.h). Both shapes the kernel
 * gives back become the same hits, so one function does the counting:
 *
 *   trace:  vtimer-812 [001] d..2. 93.1: kvm_msr: msr_write 6e0 = 0x2c4f
 *           vtimer-812 [001] d..2. 93.2: kvm_inj_virq: Soft/INTn 0x4
 *   hist:   { ecx:       1760, write:          1 } hitcount:        512
 *
 * The trace lines' wording follows the events' print formats (format files
 * in tracefs's events/kvm/); the hist keys are the fields named by
 * ktrace_hist_keys(), printed in decimal (a signed key as its u64 bits: the
 * second keys are all small, read as int32).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktrace.h"

/* KVM_EXIT_* (linux/kvm.h) and the hlt exit codes of kvm_exit's isa. */
enum { KVM_EXIT_IO_ = 2, KVM_EXIT_RDMSR_ = 29, KVM_EXIT_WRMSR_ = 30 };
enum { ISA_VMX = 1, ISA_SVM = 2, VMX_HLT = 12, SVM_HLT = 0x78 };

/* One event, or a hist bucket of n of them: k0, k1 as ktrace_hist_keys() names. */
struct kt_hit {
	enum ktrace_event ev;
	uint64_t k0;
	int64_t k1;
	uint64_t n;
};

static const struct {
	const char *name;
	const char *keys;
} events[KT_EVENTS] = {
	[KT_EV_MSR] = { "kvm_msr", "ecx,write" },
	[KT_EV_UEXIT] = { "kvm_userspace_exit", "reason,errno" },
	[KT_EV_PIO] = { "kvm_pio", "rw" },
	[KT_EV_INJ_VIRQ] = { "kvm_inj_virq", "vector,soft" },
	[KT_EV_EXIT] = { "kvm_exit", "exit_reason,isa" },
	[KT_EV_PV_EOI] = { "kvm_pv_eoi", "vector" },
};

int ktrace_mode_parse(const char *s, enum ktrace_mode *m)
{
	static const char *const names[] = { [KTRACE_AUTO] = "auto", [KTRACE_ON] = "on",
		[KTRACE_OFF] = "off", [KTRACE_BUFFER] = "buffer" };

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*m = i;
			return 0;
		}
	return -1;
}

const char *ktrace_event_name(enum ktrace_event ev)
{
	return ev < KT_EVENTS ? events[ev].name : "?";
}

const char *ktrace_hist_keys(enum ktrace_event ev)
{
	return ev < KT_EVENTS ? events[ev].keys : "";
}

uint64_t ktrace_uexits(const struct ktrace_counts *c)
{
	return c->uexit[KT_UX_IO] + c->uexit[KT_UX_WRMSR] + c->uexit[KT_UX_RDMSR] +
	       c->uexit[KT_UX_OTHER];
}

static enum ktrace_msr msr_index(uint64_t ecx)
{
	switch (ecx) {
	case 0x6e0: return KT_MSR_DEADLINE;	/* IA32_TSC_DEADLINE */
	case 0x80b: return KT_MSR_EOI;		/* x2APIC EOI */
	case 0x830: return KT_MSR_ICR;		/* x2APIC ICR */
	}
	return KT_MSR_OTHER;
}

static enum ktrace_uexit uexit_index(uint64_t reason, int64_t err)
{
	if (err < 0)
		return KT_UX_INTR;	/* KVM_RUN returned an error: no exit reason */
	switch (reason) {
	case KVM_EXIT_IO_: return KT_UX_IO;
	case KVM_EXIT_WRMSR_: return KT_UX_WRMSR;
	case KVM_EXIT_RDMSR_: return KT_UX_RDMSR;
	}
	return KT_UX_OTHER;
}

static void count(struct ktrace_counts *c, const struct kt_hit *h)
{
	switch (h->ev) {
	case KT_EV_MSR:
		if (h->k1)
			c->msr_write[msr_index(h->k0)] += h->n;
		else
			c->msr_read += h->n;
		break;
	case KT_EV_UEXIT: c->uexit[uexit_index(h->k0, h->k1)] += h->n; break;
	case KT_EV_PIO: c->pio += h->n; break;
	case KT_EV_INJ_VIRQ:
		if (h->k1)
			c->inj_soft += h->n;
		else
			c->inj_virq += h->n;
		break;
	case KT_EV_EXIT:
		c->exit += h->n;
		if ((h->k1 == ISA_VMX && (h->k0 & 0xffff) == VMX_HLT) ||
		    (h->k1 == ISA_SVM && h->k0 == SVM_HLT))
			c->exit_hlt += h->n;
		break;
	case KT_EV_PV_EOI: c->pv_eoi += h->n; break;
	case KT_EVENTS: break;
	}
}

/* "msr_write 6e0 = 0x..." / "msr_read 10 = 0x..." */
static bool trace_msr(const char *s, struct kt_hit *h)
{
	bool w = !strncmp(s, "msr_write ", 10);

	if (!w && strncmp(s, "msr_read ", 9))
		return false;
	h->k1 = w;
	h->k0 = strtoull(s + (w ? 10 : 9), NULL, 16);
	return true;
}

/* "reason KVM_EXIT_IO (2)", or "reason restart (4)" / "reason error (N)": -errno. */
static bool trace_uexit(const char *s, struct kt_hit *h)
{
	const char *p = strrchr(s, '(');

	if (strncmp(s, "reason ", 7) || !p)
		return false;
	h->k0 = strtoull(p + 1, NULL, 10);
	h->k1 = 0;
	if (!strncmp(s + 7, "restart ", 8) || !strncmp(s + 7, "error ", 6))
		h->k1 = -(int64_t)h->k0;
	return true;
}

/* "vcpu 0 reason HLT rip ..." (VMX names are upper case, SVM's lower). */
static bool trace_exit(const char *s, struct kt_hit *h)
{
	const char *p = strstr(s, "reason ");

	h->k0 = 0;
	h->k1 = 0;
	if (p && !strncmp(p + 7, "HLT ", 4)) {
		h->k0 = VMX_HLT;
		h->k1 = ISA_VMX;
	} else if (p && !strncmp(p + 7, "hlt ", 4)) {
		h->k0 = SVM_HLT;
		h->k1 = ISA_SVM;
	}
	return true;
}

/* One trace line: its event and keys, false if it is none of ours. */
static bool trace_line(const char *line, struct kt_hit *h)
{
	const char *p = strstr(line, ": kvm_");

	if (line[0] == '#' || !p)
		return false;
	p += 2;
	for (int ev = 0; ev < KT_EVENTS; ev++) {
		size_t n = strlen(events[ev].name);

		if (strncmp(p, events[ev].name, n) || strncmp(p + n, ": ", 2))
			continue;
		h->ev = ev;
		h->n = 1;
		h->k0 = 0;
		h->k1 = 0;
		p += n + 2;
		switch (ev) {
		case KT_EV_MSR: return trace_msr(p, h);
		case KT_EV_UEXIT: return trace_uexit(p, h);
		case KT_EV_EXIT: return trace_exit(p, h);
		case KT_EV_INJ_VIRQ:	/* "IRQ 0xec", "Soft/INTn 0x4" (Linux 6.0+) */
			h->k1 = !strncmp(p, "Soft/INTn ", 10);
			return true;
		default: return true;
		}
	}
	return false;
}

/* "# entries-in-buffer/entries-written: 10/12   #P:2": 2 lost. */
static uint64_t trace_lost(const char *line)
{
	static const char hdr[] = "# entries-in-buffer/entries-written: ";
	unsigned long long in, written;

	if (strncmp(line, hdr, sizeof(hdr) - 1) ||
	    sscanf(line + sizeof(hdr) - 1, "%llu/%llu", &in, &written) != 2 || written < in)
		return 0;
	return written - in;
}

/* The next line of *p into buf (truncated to its size), false at the end. */
static bool next_line(const char **p, char *buf, size_t len)
{
	const char *s = *p, *e;
	size_t n;

	if (!*s)
		return false;
	e = strchr(s, '\n');
	n = e ? (size_t)(e - s) : strlen(s);
	*p = e ? e + 1 : s + n;
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	return true;
}

uint64_t ktrace_parse_trace(const char *text, struct ktrace_counts *c)
{
	char line[512];
	uint64_t n = 0;
	struct kt_hit h;

	while (next_line(&text, line, sizeof(line))) {
		c->lost += trace_lost(line);
		if (trace_line(line, &h)) {
			count(c, &h);
			n++;
		}
	}
	return n;
}

/* Position of key name (n bytes) in the comma list keys: 0, 1, or -1. */
static int key_pos(const char *keys, const char *name, size_t n)
{
	for (int i = 0; *keys; i++) {
		size_t m = strcspn(keys, ",");

		if (m == n && !strncmp(keys, name, n))
			return i;
		keys += m + (keys[m] == ',');
	}
	return -1;
}

/* "{ ecx:       1760, write:          1 } hitcount:        512" */
static bool hist_line(enum ktrace_event ev, const char *s, struct kt_hit *h)
{
	const char *hc;

	while (*s == ' ')
		s++;
	if (*s != '{' || !(hc = strstr(s, "} hitcount:")))
		return false;
	h->ev = ev;
	h->k0 = 0;
	h->k1 = 0;
	h->n = strtoull(hc + 11, NULL, 10);
	for (s++; s < hc;) {
		const char *colon;
		int pos;

		s += strspn(s, " ,");
		colon = strchr(s, ':');
		if (!colon || colon > hc)
			break;
		pos = key_pos(events[ev].keys, s, colon - s);
		if (pos == 0)
			h->k0 = strtoull(colon + 1, NULL, 10);
		else if (pos == 1)	/* signed keys print as u64 (%llu) */
			h->k1 = (int32_t)strtoull(colon + 1, NULL, 10);
		s = colon + 1 + strcspn(colon + 1, ",}");
	}
	return true;
}

uint64_t ktrace_parse_hist(enum ktrace_event ev, const char *text, struct ktrace_counts *c)
{
	char line[512];
	uint64_t n = 0;
	struct kt_hit h;

	if (ev >= KT_EVENTS)
		return 0;
	while (next_line(&text, line, sizeof(line))) {
		const char *d = line + strspn(line, " ");

		if (!strncmp(d, "Dropped: ", 9))
			c->lost += strtoull(d + 9, NULL, 10);
		else if (hist_line(ev, line, &h)) {
			count(c, &h);
			n += h.n;
		}
	}
	return n;
}
