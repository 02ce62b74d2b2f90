// SPDX-License-Identifier: MIT
/*
 * Checks the JSON contract of report_json (src/bench/report.c): a run_report
 * with 2 vCPUs and two KVM stats is written to a temp file, parsed back with
 * jansson, and every field the contract names is checked against what was
 * put in: top-level "runs"; per run "timer", "workload", "vcpus", "count",
 * "guest" counters, "exits" ("total" plus one key per reason, unnamed
 * reasons summed into "other"), "kvm_stats", "latency_ns", and "per_vcpu"
 * with the same fields, "host" "injections" and "inject_errors". Totals must be .total as given, not recomputed.
 * The human table must print "other" once, with the same sum.
 * Tolerance: none; integers exact, the average round-trips exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <linux/kvm.h>
#include <cmocka.h>

#include "bench/report.h"

#define NR_VCPUS	2
#define NR_STATS	2

static char *stat_names[NR_STATS] = { "exits", "halt_exits" };

struct fixture {
	struct run_report r;
	struct vcpu_report v[NR_VCPUS];
	uint64_t stats[NR_VCPUS + 1][NR_STATS];
	char path[64];
	json_t *root;
};

/* Distinct values per vCPU (base 100, 200) and for the total (base 900). */
static void fill_vcpu(struct vcpu_report *v, uint64_t *stats, uint64_t base)
{
	v->c.deadlines = base + 1;
	v->c.msr_writes = base + 2;
	v->c.pv_writes = base + 3;
	v->c.interrupts = base + 4;
	v->c.early = base + 5;
	v->c.lost = base + 6;
	v->c.events = base + 7;
	v->host.injections = base + 8;
	v->host.inject_errors = base + 9;
	v->exits[KVM_EXIT_IO] = base + 10;
	v->exits[KVM_EXIT_HLT] = base + 11;
	v->exits_total = 2 * base + 21;
	v->lat = (struct lat_stats){ .n = base, .min = -(int64_t)base, .max = base * 1000,
				     .p50 = base * 10, .p99 = base * 100, .avg = base + 0.25 };
	stats[0] = base + 30;
	stats[1] = base + 31;
	v->kvm_stats = stats;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct run_report *r;

	if (!f)
		return -1;
	r = &f->r;
	if (timer_mode_preset("kvm", &r->cfg.mode))
		return -1;
	r->cfg.workload = VTIMER_WL_CYCLIC;
	r->cfg.vcpus = NR_VCPUS;
	r->cfg.count = 100;
	r->cfg.interval_ns = 100000;
	r->tsc_khz = 2600000;
	r->nr = NR_VCPUS;
	r->v = f->v;
	r->nr_stats = NR_STATS;
	r->stat_names = stat_names;
	for (int i = 0; i < NR_VCPUS; i++)
		fill_vcpu(&f->v[i], f->stats[i], 100 * (i + 1));
	fill_vcpu(&r->total, f->stats[NR_VCPUS], 900);
	strcpy(f->path, "/tmp/vtimer-test-report-XXXXXX");
	{
		int fd = mkstemp(f->path);

		if (fd < 0)
			return -1;
		close(fd);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	json_decref(f->root);
	free(f);
	return 0;
}

static json_t *get(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		fail_msg("missing key \"%s\"", key);
	return v;
}

static json_int_t get_int(json_t *obj, const char *key)
{
	json_t *v = get(obj, key);

	if (!json_is_integer(v))
		fail_msg("\"%s\" is not an integer", key);
	return json_integer_value(v);
}

static json_t *write_and_parse(struct fixture *f, int n)
{
	json_error_t err;

	assert_int_equal(report_json(&f->r, n, f->path), 0);
	f->root = json_load_file(f->path, 0, &err);
	if (!f->root)
		fail_msg("%s:%d: %s", f->path, err.line, err.text);
	assert_true(json_is_object(f->root));
	return f->root;
}

/* The fields every run and every per_vcpu entry carry, checked against v. */
static void check_vcpu(json_t *o, const struct vcpu_report *v)
{
	json_t *g = get(o, "guest"), *e = get(o, "exits"), *k = get(o, "kvm_stats");
	json_t *l = get(o, "latency_ns");
	const char *key;
	json_t *val;
	json_int_t sum = 0;

	assert_true(json_is_object(g));
	assert_int_equal(get_int(g, "deadlines"), v->c.deadlines);
	assert_int_equal(get_int(g, "msr_writes"), v->c.msr_writes);
	assert_int_equal(get_int(g, "pv_writes"), v->c.pv_writes);
	assert_int_equal(get_int(g, "interrupts"), v->c.interrupts);
	assert_int_equal(get_int(g, "early"), v->c.early);
	assert_int_equal(get_int(g, "lost"), v->c.lost);
	assert_int_equal(get_int(get(o, "host"), "injections"), v->host.injections);
	assert_int_equal(get_int(get(o, "host"), "inject_errors"), v->host.inject_errors);

	assert_true(json_is_object(e));
	assert_int_equal(get_int(e, "total"), v->exits_total);
	assert_int_equal(get_int(e, "io"), v->exits[KVM_EXIT_IO]);
	assert_int_equal(get_int(e, "hlt"), v->exits[KVM_EXIT_HLT]);
	/* one key per reason that occurred, no zero entries; they add up */
	json_object_foreach(e, key, val) {
		if (!strcmp(key, "total"))
			continue;
		assert_true(json_integer_value(val) > 0);
		sum += json_integer_value(val);
	}
	assert_int_equal(sum, v->exits_total);

	assert_true(json_is_object(k));
	assert_int_equal(json_object_size(k), NR_STATS);
	assert_int_equal(get_int(k, "exits"), v->kvm_stats[0]);
	assert_int_equal(get_int(k, "halt_exits"), v->kvm_stats[1]);

	assert_true(json_is_object(l));
	assert_true(get_int(l, "min") == v->lat.min);
	assert_int_equal(get_int(l, "p50"), v->lat.p50);
	assert_int_equal(get_int(l, "p99"), v->lat.p99);
	assert_int_equal(get_int(l, "max"), v->lat.max);
	assert_true(json_is_number(get(l, "avg")));
	assert_true(json_number_value(get(l, "avg")) == v->lat.avg);
}

static void test_top_level(void **state)
{
	struct fixture *f = *state;
	json_t *root = write_and_parse(f, 1), *runs = get(root, "runs");

	assert_true(json_is_array(runs));
	assert_int_equal(json_array_size(runs), 1);
	assert_true(json_is_object(json_array_get(runs, 0)));
}

static void test_run_config(void **state)
{
	struct fixture *f = *state;
	json_t *run = json_array_get(get(write_and_parse(f, 1), "runs"), 0);

	assert_string_equal(json_string_value(get(run, "timer")), "kvm");
	assert_string_equal(json_string_value(get(run, "workload")), "cyclic");
	assert_int_equal(get_int(run, "vcpus"), NR_VCPUS);
	assert_int_equal(get_int(run, "count"), 100);
}

static void test_run_totals(void **state)
{
	struct fixture *f = *state;
	json_t *run = json_array_get(get(write_and_parse(f, 1), "runs"), 0);

	/* the run's own fields are .total verbatim (base 900), not a sum */
	check_vcpu(run, &f->r.total);
	assert_int_equal(get_int(get(run, "guest"), "deadlines"), 901);
}

static void test_per_vcpu(void **state)
{
	struct fixture *f = *state;
	json_t *run = json_array_get(get(write_and_parse(f, 1), "runs"), 0);
	json_t *per = get(run, "per_vcpu");

	assert_true(json_is_array(per));
	assert_int_equal(json_array_size(per), NR_VCPUS);
	for (int i = 0; i < NR_VCPUS; i++) {
		json_t *v = json_array_get(per, i);

		assert_int_equal(get_int(v, "vcpu"), i);
		check_vcpu(v, &f->v[i]);
	}
}

/* A vCPU's first early interrupt, as the guest recorded it: ns relative to it. */
static void test_anomaly(void **state)
{
	struct fixture *f = *state;
	json_t *per, *a;

	f->v[1].anomaly = (struct vtimer_anomaly){
		.kind = VTIMER_ANOMALY_EARLY, .tsc = 26000000, .programmed = 26002600,
		.prev_programmed = 0, .program_tsc = 25997400, .prev_irq = 23400000,
		.stale_owed = 1, .interrupts = 41,
	};
	per = get(json_array_get(get(write_and_parse(f, 1), "runs"), 0), "per_vcpu");
	assert_null(json_object_get(json_array_get(per, 0), "anomaly"));
	a = get(json_array_get(per, 1), "anomaly");
	assert_string_equal(json_string_value(get(a, "kind")), "early");
	assert_int_equal(get_int(a, "programmed_ns"), 1000);	/* 2600 cycles at 2.6 GHz */
	assert_true(json_is_null(get(a, "replaced_ns")));
	assert_int_equal(get_int(a, "last_replace_ns"), -1000);
	assert_int_equal(get_int(a, "prev_irq_ns"), -1000000);
	assert_int_equal(get_int(a, "stale_owed"), 1);
	assert_int_equal(get_int(a, "interrupts_before"), 41);
}

static void test_unnamed_exit_reasons(void **state)
{
	struct fixture *f = *state;
	struct vcpu_report *t = &f->r.total;
	json_t *run, *e;

	/* KVM_EXIT_NMI has no name of its own; reasons past the table are
	 * counted in the last slot; both must land in one "other" */
	t->exits[KVM_EXIT_NMI] = 3;
	t->exits[VM_EXIT_REASONS] = 4;
	t->exits_total += 7;
	run = json_array_get(get(write_and_parse(f, 1), "runs"), 0);
	e = get(run, "exits");
	assert_int_equal(get_int(e, "other"), 7);
	check_vcpu(run, t);
}

static void test_table_other_once(void **state)
{
	struct fixture *f = *state;
	char *buf = NULL, *p;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	f->r.total.exits[KVM_EXIT_NMI] = 3;
	f->r.total.exits[VM_EXIT_REASONS] = 4;
	report_table(&f->r, out);
	fclose(out);
	p = strstr(buf, " other=7");
	assert_non_null(p);
	assert_null(strstr(p + 1, " other="));
	assert_non_null(strstr(buf, " io=910"));
	free(buf);
}

static void test_two_runs(void **state)
{
	struct fixture *f = *state;
	struct run_report two[2] = { f->r, f->r };
	json_error_t err;
	json_t *runs;

	two[1].cfg.count = 7;
	assert_int_equal(report_json(two, 2, f->path), 0);
	f->root = json_load_file(f->path, 0, &err);
	assert_non_null(f->root);
	runs = get(f->root, "runs");
	assert_int_equal(json_array_size(runs), 2);
	assert_int_equal(get_int(json_array_get(runs, 0), "count"), 100);
	assert_int_equal(get_int(json_array_get(runs, 1), "count"), 7);
}

static void test_unwritable_path(void **state)
{
	struct fixture *f = *state;

	/* holds for root too: a missing directory, and a directory itself */
	assert_int_equal(report_json(&f->r, 1, "/nonexistent-vtimer-dir/run.json"), -1);
	assert_int_equal(report_json(&f->r, 1, "/tmp"), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_top_level),
		T(test_run_config),
		T(test_run_totals),
		T(test_per_vcpu),
		T(test_anomaly),
		T(test_unnamed_exit_reasons),
		T(test_table_other_once),
		T(test_two_runs),
		T(test_unwritable_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
