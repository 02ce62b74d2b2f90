// SPDX-License-Identifier: MIT
/*
 * Checks output files (src/outfile.c) and how vtimer run uses them: a path
 * in a missing directory, or a directory, is refused at open; an existing
 * file keeps its contents and mode until outfile_commit() renames the new
 * contents over it, and outfile_discard() leaves it as it was; /dev/null is
 * written directly (no temp file in /dev); a symlink's target is replaced,
 * the link kept. vtimer run refuses --json and --console to an unwritable
 * path with one line naming the option and status 64 before it touches KVM,
 * leaves an existing --console file intact when the run never started, and
 * names the option typed (--vcpus or --smp) when refusing its value.
 * Tolerance: none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/cli.h"
#include "outfile.h"

static char dir[] = "/tmp/vtimer-test-outfile-XXXXXX";

static void path_in(char *buf, const char *name)
{
	snprintf(buf, 256, "%s/%s", dir, name);
}

static void put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static void expect(const char *path, const char *s)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = 0;
	fclose(f);
	assert_string_equal(buf, s);
}

static void test_refused(void **state)
{
	struct outfile o;
	char p[256];

	path_in(p, "no-such-dir/run.json");
	assert_int_equal(outfile_open(&o, "json", p), -1);
	assert_null(o.f);
	assert_int_equal(outfile_open(&o, "json", dir), -1);
	assert_int_equal(outfile_commit(&o), 0);	/* nothing open: nothing to do */
}

static void test_existing_kept_until_commit(void **state)
{
	struct outfile o;
	struct stat st;
	char p[256];

	path_in(p, "run.json");
	put(p, "old");
	chmod(p, 0640);
	assert_int_equal(outfile_open(&o, "json", p), 0);
	fputs("new", o.f);
	expect(p, "old");
	outfile_discard(&o);
	expect(p, "old");
	assert_int_equal(outfile_open(&o, "json", p), 0);
	fputs("new", o.f);
	assert_int_equal(outfile_commit(&o), 0);
	expect(p, "new");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	unlink(p);
}

static void test_dev_null_and_symlink(void **state)
{
	struct outfile o;
	struct stat st;
	char p[256], t[256];

	assert_int_equal(outfile_open(&o, "console", "/dev/null"), 0);
	assert_null(o.tmp);
	fputs("x", o.f);
	assert_int_equal(outfile_commit(&o), 0);

	path_in(t, "target");
	path_in(p, "link");
	put(t, "old");
	assert_int_equal(symlink(t, p), 0);
	assert_int_equal(outfile_open(&o, "json", p), 0);
	fputs("new", o.f);
	assert_int_equal(outfile_commit(&o), 0);
	expect(t, "new");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));	/* still a link to the target */
	unlink(p);
	unlink(t);
}

/* Runs `vtimer run args...` in-process; returns its status, stderr in err. */
static int run(char *err, size_t len, const char *a1, const char *a2)
{
	char *argv[] = { "run", (char *)a1, (char *)a2, NULL };
	FILE *cap = tmpfile();
	int saved = dup(2), status;
	size_t n;

	fflush(stderr);
	dup2(fileno(cap), 2);
	status = cmd_run(a2 ? 3 : 2, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(cap);
	n = fread(err, 1, len - 1, cap);
	err[n] = 0;
	fclose(cap);
	return status;
}

static void test_run_refuses_before_running(void **state)
{
	char err[1024], p[256], c[256], arg[300];

	path_in(p, "no-such-dir/run.json");
	snprintf(arg, sizeof(arg), "--json=%s", p);
	assert_int_equal(run(err, sizeof(err), arg, NULL), 64);
	assert_non_null(strstr(err, arg));
	assert_null(strstr(err, "kvm"));	/* no attempt to run */
	assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);	/* one line */

	snprintf(arg, sizeof(arg), "--console=%s", p);
	assert_int_equal(run(err, sizeof(err), arg, NULL), 64);
	assert_non_null(strstr(err, arg));

	/* the run cannot start (no guest image): an existing console file is kept */
	path_in(c, "console.txt");
	put(c, "old");
	snprintf(arg, sizeof(arg), "--console=%s", c);
	assert_int_equal(run(err, sizeof(err), arg, "--guest=/nonexistent/guest.elf"), 64);
	expect(c, "old");
	unlink(c);
}

static void test_option_named_as_typed(void **state)
{
	char err[1024];

	assert_int_equal(run(err, sizeof(err), "--vcpus=0", NULL), 64);
	assert_non_null(strstr(err, "--vcpus=0"));
	assert_null(strstr(err, "--smp"));
	assert_int_equal(run(err, sizeof(err), "--smp=0", NULL), 64);
	assert_non_null(strstr(err, "--smp=0"));
	assert_int_equal(run(err, sizeof(err), "--count=0", NULL), 64);
	assert_non_null(strstr(err, "--count=0"));
}

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_existing_kept_until_commit),
		cmocka_unit_test(test_dev_null_and_symlink),
		cmocka_unit_test(test_run_refuses_before_running),
		cmocka_unit_test(test_option_named_as_typed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
