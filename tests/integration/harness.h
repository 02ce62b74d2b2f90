/* SPDX-License-Identifier: MIT */
/* Runs build/vtimer as a child process and reads back its JSON and stderr. */
#ifndef VTIMER_TEST_HARNESS_H
#define VTIMER_TEST_HARNESS_H

#include <jansson.h>
#include <stdint.h>

struct vt_result {
	int status;		/* exit status, or 128 + signal */
	json_t *json;		/* root of --json output, NULL if none */
	json_t *run;		/* runs[0] */
	char err[16384];	/* stderr (a 4-vCPU post-mortem fits) */
	int err_lines;
	int killed;		/* outlived its timeout: the harness killed it */
};

/* argv-style NULL-terminated list after "run"; adds --json and --console. */
int vt_run(struct vt_result *r, const char *const *args);
void vt_free(struct vt_result *r);
int64_t jint(json_t *obj, const char *path);	/* "guest.interrupts", -1 if absent */
int have_kvm(void);
/* Skips the calling cmocka test, with the reason, where /dev/kvm is unusable. */
void require_kvm(void);
/* Every --timer preset, stock KVM first. */
extern const char *const vt_presets[];
#define VT_NR_PRESETS	6
/* VTIMER_TEST_FILTER=glob runs only the matching tests (cmocka's filter). */
void harness_filter(void);
/* What vtimer probe found of KVM's PV EOI: 2 engages, 1 enabled but does
 * not engage, 0 not offered, -1 unknown (the probe failed). */
int probe_pv_eoi(void);
/* The lateness bound for a run of this many vCPUs on this machine (harness.c). */
int64_t late_bound_ns(int vcpus);
/* cmocka asserts: every vCPU delivered count events, none lost, early or
 * unexpected, lateness in [0, late_ns], interrupts bounded both ways. */
void check_delivery(json_t *run, int vcpus, int count, int64_t late_ns);
/* The guest's exit-causing operations agree with its other counters and
 * with the mode: op_user is 0 under deliver=kernel, else at least the
 * TSC-deadline writes (check_delivery calls it). */
void check_ops(json_t *run);
/* vCPU v of run (vCPU i): no early interrupt, unless stock KVM delivered it
 * (deliver=kernel: reported, and then no sample may be early); returns the
 * early interrupts tolerated so. */
int64_t check_early(json_t *run, json_t *v, int i);

#endif
