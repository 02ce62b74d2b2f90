// SPDX-License-Identifier: MIT
/* vtimer: command dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../status.h"
#include "../util.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "run", cmd_run, "boot the guest and run one workload under one timer mode" },
	{ "bench", cmd_bench, "run the timer modes side by side and print one table" },
	{ "probe", cmd_probe, "report what this host's KVM offers for timer virtualization" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vtimer <command> [options]   (vtimer <command> --help)\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n  --version  print the version\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return VT_EXIT_SETUP;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("vtimer %s\n", VTIMER_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	vt_err("unknown command '%s' (try: vtimer --help)", argv[1]);
	return VT_EXIT_SETUP;
}
