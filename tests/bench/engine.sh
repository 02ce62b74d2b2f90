#!/bin/sh
# SPDX-License-Identifier: MIT
# `vtimer bench engine --quick`: needs no KVM, so it runs on every machine.
# Checks that it exits 0 (it fails itself when the stub did not see exactly
# one injection per due deadline), prints one row per simulated vCPU count
# 1..1024 with a positive figure in every column, and refuses a bad
# argument. No timing is asserted: figures are for docs/benchmarks.md. TAP.
cd "$(dirname "$0")/../.." || exit 1
VT=${VT:-build/vtimer}
. tests/tap.sh

"$VT" bench engine --quick >"$T/out" 2>"$T/err"
result $? "bench engine --quick exits 0"
rows=$(awk -F'|' '/^\| [0-9]+ \|/ {
	ok = 1
	for (i = 3; i <= 8; i++) if ($i + 0 <= 0) ok = 0
	if (ok) printf "%d ", $2 }' "$T/out")
[ "$rows" = "1 4 16 64 256 1024 " ]
result $? "one row per size, every figure positive: vCPUs $rows"
grep -q '^one core, 1 vCPU: [0-9.]* M re-arms/s' "$T/out"
result $? "ops per second line"
"$VT" bench engine --bad >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 64 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q '^vtimer: ' "$T/err"
result $? "a bad argument is refused with one line (status $rc)"
echo "1..$n"
[ "$failed" = 0 ]
