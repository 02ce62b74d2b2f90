/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer harnesses: the host's one-line refusals
 * ("vtimer: ..." on stderr) are the expected outcome of almost every input,
 * so stdio's stderr goes to /dev/null unless VTIMER_FUZZ_VERBOSE is set.
 * libFuzzer and the sanitizers write to fd 2 directly and are not affected;
 * fuzz_check() reports a broken invariant on the real stderr and aborts.
 */
#ifndef VTIMER_FUZZ_H
#define VTIMER_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static FILE *fuzz_err;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *null;

	(void)argc;
	(void)argv;
	fuzz_err = fdopen(dup(2), "w");
	if (!getenv("VTIMER_FUZZ_VERBOSE") && (null = fopen("/dev/null", "w")))
		stderr = null;
	return 0;
}

#define fuzz_check(cond, what)							\
	do {									\
		if (!(cond)) {							\
			fprintf(fuzz_err ? fuzz_err : stdout,			\
				"%s:%d: invariant broken: %s\n", __FILE__,	\
				__LINE__, what);				\
			fflush(fuzz_err);					\
			abort();						\
		}								\
	} while (0)

/*
 * The loader harnesses' guest RAM: allocated once, filled with `pat`, with a
 * copy (*poison) to tell which bytes a load wrote.
 */
static inline void fuzz_ram(uint8_t **mem, uint8_t **poison, size_t size, int pat)
{
	if (*mem)
		return;
	*mem = malloc(size);
	*poison = malloc(size);
	fuzz_check(*mem && *poison, "malloc");
	memset(*poison, pat, size);
	memset(*mem, pat, size);
}

#endif
