/* SPDX-License-Identifier: MIT */
#ifndef VTIMER_ENGINE_BENCH_H
#define VTIMER_ENGINE_BENCH_H

#include <stdbool.h>
#include <stdio.h>

/* `vtimer bench engine`: the scaling table to f; -1 if a check failed. */
int bench_engine(FILE *f, bool quick);

#endif
