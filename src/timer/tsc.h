/* SPDX-License-Identifier: MIT */
/*
 * Time bases. Deadlines are guest TSC values; the host converts them exactly
 * to host TSC (guest = host * ratio + offset, KVM's definition; ratio is
 * guest_khz / host_khz and 1 where TSC scaling is absent), and from host TSC
 * to CLOCK_MONOTONIC by a calibration done at start-up. The monotonic value is
 * only used to sleep: before injecting, the host re-reads its TSC, so a
 * calibration error can make an interrupt late by the error, never early.
 *
 * The guest TSC wraps modulo 2^64, as KVM computes it, and a deadline is
 * converted relative to the guest TSC now, as KVM's start_sw_tscdeadline
 * does: the hardware rule is "fire when TSC >= deadline" (unsigned), so a
 * deadline at or before the guest's now is due at once, and one d cycles
 * ahead falls d guest cycles from now, whatever the offset and however near
 * the guest has set its TSC to 2^64. A deadline more than TSC_NEVER_CYCLES
 * (2^62) cycles ahead means "never" (at 5 GHz that is more than 29 years):
 * no host timer is armed for it. A guest writing ~0 as its deadline thus
 * gets no interrupt, as on hardware, and no offset can make the host's clock
 * arithmetic wrap into the past. The host <-> monotonic conversions saturate
 * to [0, 2^64 - 1].
 */
#ifndef VTIMER_TSC_H
#define VTIMER_TSC_H

#include <stdbool.h>
#include <stdint.h>

#define TSC_NEVER_CYCLES	(1ULL << 62)
#define TSC_HOST_NEVER		UINT64_MAX	/* guest_deadline_to_host: no host timer */

static inline bool tsc_is_never(uint64_t deadline, uint64_t now)
{
	return deadline > now && deadline - now > TSC_NEVER_CYCLES;
}

struct tsc_conv {
	int64_t offset;		/* KVM_VCPU_TSC_OFFSET */
	uint64_t guest_khz;	/* ratio numerator (KVM_GET_TSC_KHZ) */
	uint64_t host_khz;	/* ratio denominator (calibrated host TSC rate) */
	uint64_t tsc0, mono0;	/* a simultaneous (host TSC, CLOCK_MONOTONIC) pair */
};

/* The guest TSC at host TSC `host`, modulo 2^64 as the guest reads it. */
uint64_t host_to_guest_tsc(const struct tsc_conv *c, uint64_t host);
/*
 * The host TSC at which the guest TSC, read at host_now, reaches deadline:
 * host_now if it already has, TSC_HOST_NEVER past the horizon; otherwise
 * rounded up, so the interrupt is never early.
 */
uint64_t guest_deadline_to_host(const struct tsc_conv *c, uint64_t deadline, uint64_t host_now);
uint64_t host_tsc_to_mono(const struct tsc_conv *c, uint64_t host);
uint64_t mono_to_host_tsc(const struct tsc_conv *c, uint64_t mono);
/*
 * The same conversions relative to a fresh (TSC, CLOCK_MONOTONIC) pair read
 * now: a rate error then costs ppm of the interval, not ppm of the time since
 * start-up (40 ppm over a 0.3 s run is 12 us, most of a 20 us look period).
 * The pair errs one way only, by at most TSC_PAIR_GAP_NS unless the thread
 * is preempted between its reads TSC_PAIR_TRIES times running (tsc.c):
 * mono -> host TSC never earlier than true, host TSC -> mono never later.
 */
#define TSC_PAIR_GAP_NS	5000
#define TSC_PAIR_TRIES	4
uint64_t host_tsc_to_mono_now(const struct tsc_conv *c, uint64_t host);
uint64_t mono_to_host_tsc_now(const struct tsc_conv *c, uint64_t mono);
uint64_t ns_to_guest_cycles(const struct tsc_conv *c, uint64_t ns);
/* Measures the host TSC rate against CLOCK_MONOTONIC over about ms milliseconds. */
uint64_t tsc_calibrate_khz(unsigned int ms);

#endif
