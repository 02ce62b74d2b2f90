/* SPDX-License-Identifier: MIT */
/*
 * Time bases. Deadlines are guest TSC values; the host converts them exactly
 * to host TSC (guest = host * ratio + offset, KVM's definition; ratio is
 * guest_khz / host_khz and 1 where TSC scaling is absent), and from host TSC
 * to CLOCK_MONOTONIC by a calibration done at start-up. The monotonic value is
 * only used to sleep: before injecting, the host re-reads its TSC, so a
 * calibration error can make an interrupt late by the error, never early.
 *
 * Conversions saturate instead of wrapping (0 and 2^64 - 1 are the limits),
 * and a deadline more than TSC_NEVER_CYCLES (2^62) cycles after now means
 * "never" (at 5 GHz that is more than 29 years): no host timer is armed for
 * it. A guest writing ~0 as its deadline thus gets no interrupt, as on
 * hardware, and cannot make the host's clock arithmetic wrap into the past.
 */
#ifndef VTIMER_TSC_H
#define VTIMER_TSC_H

#include <stdbool.h>
#include <stdint.h>

#define TSC_NEVER_CYCLES	(1ULL << 62)

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

uint64_t guest_to_host_tsc(const struct tsc_conv *c, uint64_t guest);
uint64_t host_to_guest_tsc(const struct tsc_conv *c, uint64_t host);
uint64_t host_tsc_to_mono(const struct tsc_conv *c, uint64_t host);
uint64_t mono_to_host_tsc(const struct tsc_conv *c, uint64_t mono);
/*
 * The same conversions relative to a fresh (TSC, CLOCK_MONOTONIC) pair read
 * now: a rate error then costs ppm of the interval, not ppm of the time since
 * start-up (40 ppm over a 0.3 s run is 12 us, most of a 20 us look period).
 */
uint64_t host_tsc_to_mono_now(const struct tsc_conv *c, uint64_t host);
uint64_t mono_to_host_tsc_now(const struct tsc_conv *c, uint64_t mono);
uint64_t ns_to_guest_cycles(const struct tsc_conv *c, uint64_t ns);
/* Measures the host TSC rate against CLOCK_MONOTONIC over about ms milliseconds. */
uint64_t tsc_calibrate_khz(unsigned int ms);

#endif
