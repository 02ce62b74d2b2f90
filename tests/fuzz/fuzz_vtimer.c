// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the timer engine's guest-facing entry points
 * (src/timer/vtimer.c), driven without KVM as tests/unit/test_vtimer.c does:
 * a fake VM whose RAM is a small malloc'd buffer, vm.fd = vcpu.fd = -1 (so
 * KVM_GET_LAPIC and KVM_SIGNAL_MSI fail quietly), a housekeeping heap with no
 * thread, or deliver=vcpu with a POSIX timer that notifies nobody.
 *
 * Input: byte 0 picks the engine (vCPUs, deliver, features, look-ahead),
 * byte 1 the TSC conversion; then a sequence of operations, each an opcode
 * byte, a vCPU/selector byte and values. A value byte with bit 7 set takes
 * the next 8 input bytes raw; otherwise it indexes a table of edge values
 * (0, 1, ~0, 2^63 +- 1, now +- small, page addresses | enable ...).
 * Operations: TSC-deadline and PV-enable MSR writes and reads, any other
 * MSR, the guest writing its page (or any RAM) with arbitrary bytes,
 * LVTT as the guest set it, scans with any horizon/margin, expiry of an
 * armed timer and the deliver=vcpu kick.
 *
 * After every operation it checks invariants of struct vcpu_timer: the page
 * is the 4 KiB in RAM the accepted MSR value names, a look is a timer, the
 * heap holds exactly the armed timers with the earliest on top.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>

#include "fuzz.h"
#include "machine/machine.h"
#include "timer/timer.h"
#include "util.h"
#include "vtimer/pv.h"

#define MSR_TSC_DEADLINE	0x6e0
#define NR_PAGES		8
#define RAM_SIZE		(NR_PAGES * 4096ULL)
#define MAX_VCPUS		4
#define MAX_OPS			256

static struct vm vm;
static struct vcpu vcpus[MAX_VCPUS];
static struct timer_engine eng;
static struct vcpu_timer vts[MAX_VCPUS];

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t byte(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint64_t raw64(struct input *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)byte(in) << (8 * i);
	return v;
}

static uint64_t guest_now(const struct vcpu_timer *vt)
{
	return host_to_guest_tsc(&vt->tsc, rdtsc());
}

static uint64_t value(struct input *in, const struct vcpu_timer *vt)
{
	uint8_t k = byte(in);
	uint64_t now = guest_now(vt);

	if (k & 0x80)
		return raw64(in);
	switch (k % 24) {
	case 0: return 0;
	case 1: return 1;
	case 2: return 2;
	case 3: return ~0ULL;
	case 4: return ~0ULL - 1;
	case 5: return (1ULL << 63) - 1;
	case 6: return 1ULL << 63;
	case 7: return (1ULL << 63) + 1;
	case 8: return now;
	case 9: return now + 1;
	case 10: return now - 1;
	case 11: return now + 1000;		/* ~us */
	case 12: return now + 1000000;		/* ~ms */
	case 13: return now + (1ULL << 40);	/* minutes */
	case 14: return now - 1000000;
	case 15: return (uint64_t)(k >> 5) * 4096 | VTIMER_PV_ENABLE;	/* a page in RAM */
	case 16: return RAM_SIZE | VTIMER_PV_ENABLE;			/* just past RAM */
	case 17: return (RAM_SIZE - 4096) | VTIMER_PV_ENABLE | 2;	/* reserved bit */
	case 18: return 4096;						/* enable bit clear */
	case 19: return ~0xfffULL | VTIMER_PV_ENABLE;
	case 20: return 0x40u | (2u << 17);				/* LVTT: deadline, 0x40 */
	case 21: return 0x40u | (1u << 16) | (2u << 17);		/* ... masked */
	case 22: return 0x05u | (2u << 17);				/* ... bad vector */
	default: return 0x40u;						/* ... one-shot */
	}
}

static void check_vt(struct vcpu_timer *vt)
{
	if (vt->page) {
		uint8_t *pg = (uint8_t *)vt->page;

		fuzz_check(pg >= vm.mem && pg + 4096 <= vm.mem + RAM_SIZE, "page inside RAM");
		fuzz_check((vt->pv_msr & VTIMER_PV_ENABLE) && !(vt->pv_msr & VTIMER_PV_RESERVED),
		           "enabled page has a valid MSR value");
		fuzz_check(pg == vm.mem + (vt->pv_msr & ~0xfffULL),
		           "page is the one the MSR names");
	} else {
		fuzz_check(vt->pv_msr == 0, "no page: MSR reads 0");
	}
	fuzz_check(!vt->look || vt->host_deadline, "a look is an armed timer");
	fuzz_check(vt->budget <= (int64_t)eng.share_burst, "storm bucket within its size");
	/* A "never" deadline (tsc.h) is the guest's, with no host timer; the
	 * 2^40-cycle slack covers the time since vt_arm() judged it. */
	uint64_t now = host_to_guest_tsc(&vt->tsc, rdtsc());

	fuzz_check(!vt->deadline == !vt->host_deadline ||
		   (vt->deadline > now && vt->deadline - now > TSC_NEVER_CYCLES - (1ULL << 40)),
		   "deadline and host_deadline agree on off, but for never");
	if (eng.mode.deliver == DELIVER_HOUSEKEEPING)
		fuzz_check((vt->heap_idx >= 0) == (vt->host_deadline != 0),
		           "heap holds armed timers");
}

static void check_all(void)
{
	struct vcpu_timer *top = NULL;

	for (int i = 0; i < vm.nr_vcpus; i++) {
		check_vt(&vts[i]);
		if (vts[i].host_deadline && (!top || vts[i].host_deadline < top->host_deadline))
			top = &vts[i];
	}
	if (eng.mode.deliver == DELIVER_HOUSEKEEPING) {
		struct vcpu_timer *peek = hk_peek(eng.hk);

		fuzz_check(!top == !peek, "heap empty iff no timer armed");
		fuzz_check(!top || peek->host_deadline == top->host_deadline,
		           "heap top is earliest");
	}
}

static void setup(struct input *in, uint8_t *mem)
{
	uint8_t c = byte(in), t = byte(in);
	struct tsc_conv tsc = { .guest_khz = 2000000, .host_khz = 2000000 };
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };

	memset(&vm, 0, sizeof(vm));
	memset(vcpus, 0, sizeof(vcpus));
	memset(&eng, 0, sizeof(eng));
	memset(vts, 0, sizeof(vts));
	memset(mem, 0, RAM_SIZE);
	vm.mem = mem;
	vm.mem_size = RAM_SIZE;
	vm.nr_vcpus = 1 + (c & 3);
	vm.fd = -1;
	vm.vcpus = vcpus;
	vm.timer = &eng;
	eng.vm = &vm;
	eng.vt = vts;
	eng.mode.deliver = (c & 4) ? DELIVER_HOUSEKEEPING : DELIVER_VCPU;
	eng.features = (c >> 3) & VTIMER_F_ALL;
	eng.look_ns = (c & 0x40) ? 20000 : 0;
	eng.host_khz = 2000000;
	eng.share_ppm = (c & 0x80) ? 1000 + (t >> 3) * 10000 : 0;	/* storm share: 0.1% .. 31% */
	eng.share_burst = 2000000;					/* 1 ms */
	switch (t % 6) {
	case 0: break;						/* guest TSC = host TSC */
	case 1: tsc.offset = -(int64_t)rdtsc(); break;		/* guest booted just now */
	case 2: tsc.guest_khz = 1000000; break;			/* scaled down */
	case 3: tsc.guest_khz = 3000000; tsc.offset = -(int64_t)rdtsc() * 3 / 2; break;
	case 4: tsc.offset = (int64_t)(~0ULL - rdtsc() - 100000000); break; /* wraps soon */
	default: tsc.offset = (int64_t)(1ULL << 62); break;
	}
	tsc.tsc0 = rdtsc();
	tsc.mono0 = now_ns();
	for (int i = 0; i < vm.nr_vcpus; i++) {
		vcpus[i].vm = &vm;
		vcpus[i].id = i;
		vcpus[i].fd = -1;
		pthread_mutex_init(&vts[i].lock, NULL);
		vts[i].eng = &eng;
		vts[i].vcpu = &vcpus[i];
		vts[i].heap_idx = -1;
		vts[i].tsc = tsc;
		/* deliver=vcpu: a real POSIX timer that signals nobody, so the
		 * TSC -> CLOCK_MONOTONIC conversion and timer_settime run too. */
		if (eng.mode.deliver == DELIVER_VCPU)
			vts[i].ptimer_ok = !timer_create(CLOCK_MONOTONIC, &sev, &vts[i].ptimer);
	}
	eng.hk = hk_create(&eng);
	fuzz_check(eng.hk != NULL, "hk_create");
}

static void step(struct input *in)
{
	uint8_t op = byte(in), sel = byte(in);
	struct vcpu *vcpu = &vcpus[sel % vm.nr_vcpus];
	struct vcpu_timer *vt = &vts[vcpu->id];
	uint64_t v, v2;
	int r;

	switch (op % 10) {
	case 0:
		r = vt_wrmsr(vcpu, MSR_TSC_DEADLINE, value(in, vt));
		fuzz_check(r == 0, "TSC-deadline writes never #GP");
		break;
	case 1:
		v = value(in, vt);
		r = vt_wrmsr(vcpu, MSR_VTIMER_PV, v);
		fuzz_check(r == 0 || r == 1, "wrmsr returns 0 or 1");
		if (!eng.features)
			fuzz_check(r == 1, "PV MSR not offered: #GP");
		else if (!r)
			fuzz_check(vt->pv_msr == v, "accepted PV value reads back");
		break;
	case 2:
		if (sel & 0x20) {	/* the idle MSR (pv-abi.md 4.1) */
			bool may = vt->page && (eng.features & VTIMER_F_IDLE);

			v = (sel & 0x10) ? 0 : value(in, vt);
			r = vt_wrmsr(vcpu, VTIMER_IDLE_MSR(MSR_VTIMER_PV), v);
			fuzz_check(r == !(may && !v), "idle MSR: 0 with a page and IDLE, else #GP");
			break;
		}
		r = vt_wrmsr(vcpu, (uint32_t)value(in, vt), value(in, vt));
		fuzz_check(r == 0 || r == 1, "wrmsr returns 0 or 1");
		break;
	case 3: {
		uint32_t msr = (sel & 0x80) ? (uint32_t)value(in, vt) :
			       (sel & 0x40) ? MSR_VTIMER_PV : MSR_TSC_DEADLINE;

		v = 0x5a5a5a5a5a5a5a5aULL;
		r = vt_rdmsr(vcpu, msr, &v);
		fuzz_check(r == 0 || r == 1, "rdmsr returns 0 or 1");
		if (msr == MSR_VTIMER_PV)
			fuzz_check(eng.features ? r == 0 && v == vt->pv_msr : r == 1,
			           "PV MSR reads its value, or #GP when not offered");
		if (msr == MSR_TSC_DEADLINE)
			fuzz_check(r == 0, "TSC-deadline reads never #GP");
		if (msr == MSR_TSC_DEADLINE && !vt->page)
			fuzz_check(v == vt->deadline, "plain TSC-deadline reads the armed value");
		break;
	}
	case 4: {
		/* The guest writes its page: one 64-bit field, or 8 bytes anywhere in 64. */
		uint8_t *pg = vt->page ? (uint8_t *)vt->page :
			     vm.mem + (sel >> 4) % NR_PAGES * 4096;
		uint8_t off = byte(in) % 57;

		v = value(in, vt);
		memcpy(pg + off, &v, 8);
		break;
	}
	case 5: {
		/* Arbitrary contents anywhere in RAM (another vCPU's page, a stale page). */
		uint64_t at = raw64(in) % (RAM_SIZE - 8);

		v = value(in, vt);
		memcpy(vm.mem + at, &v, 8);
		break;
	}
	case 6:
		v = value(in, vt);
		v2 = value(in, vt);
		pthread_mutex_lock(&vt->lock);
		vt_scan(vt, v, v2);
		pthread_mutex_unlock(&vt->lock);
		break;
	case 7:
		/* The host timer fires (housekeeping pops it off the heap first). */
		pthread_mutex_lock(&vt->lock);
		if (vt->host_deadline) {
			if (eng.mode.deliver == DELIVER_HOUSEKEEPING) {
				uint64_t hd = vt->host_deadline;

				vt->host_deadline = 0;
				hk_update(eng.hk, vt);
				vt->host_deadline = hd;
			}
			vt_expire(vt);
			vt_charge(vt, raw64(in) % 3000000);	/* what the expiry cost */
		}
		pthread_mutex_unlock(&vt->lock);
		break;
	case 8:
		/* What KVM_GET_LAPIC would have returned: the guest's LVTT. */
		pthread_mutex_lock(&vt->lock);
		vt->lvtt = (uint32_t)value(in, vt);
		vt->lvtt_known = sel & 1;
		pthread_mutex_unlock(&vt->lock);
		break;
	default:
		if (eng.mode.deliver == DELIVER_VCPU)
			vt_kicked(vcpu);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	static uint8_t *mem;

	if (!mem) {
		mem = malloc(RAM_SIZE);
		fuzz_check(mem != NULL, "malloc");
	}
	setup(&in, mem);
	for (int n = 0; in.left && n < MAX_OPS; n++) {
		step(&in);
		check_all();
	}
	hk_free(eng.hk);
	for (int i = 0; i < vm.nr_vcpus; i++) {
		if (vts[i].ptimer_ok)
			timer_delete(vts[i].ptimer);
		pthread_mutex_destroy(&vts[i].lock);
	}
	return 0;
}
