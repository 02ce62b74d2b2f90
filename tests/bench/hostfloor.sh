#!/bin/sh
# SPDX-License-Identifier: MIT
# `vtimer bench host-floor`: cyclictest on the host, no KVM. Checks the
# table's "host (cyclictest)" row has min <= p50 <= p99 <= max, the JSON's
# host_floor is "ok" with 50 samples, and that a missing cyclictest (an
# empty PATH) and a bad --host-floor are refused with one line (64). No
# timing is asserted: the host varies. Skipped (TAP plan) when rt-tests is
# not installed, or when not root and cyclictest cannot get SCHED_FIFO.
cd "$(dirname "$0")/../.." || exit 1
VT=${VT:-$PWD/build/vtimer}
. tests/tap.sh

if ! command -v cyclictest >/dev/null; then
	echo "1..0 # SKIP cyclictest not installed (apt-get install rt-tests)"
	exit 0
fi
"$VT" bench host-floor --count=50 --interval=1000 --json="$T/hf.json" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" != 0 ] && [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP not root and cyclictest failed: $(cat "$T/err")"
	exit 0
fi
result $rc "bench host-floor --count=50 exits 0"
awk '/^host \(cyclictest\) / {
	if ($4 <= $6 && $6 <= $7 && $7 <= $8) ok = 1 }
	END { exit !ok }' "$T/out"
result $? "host (cyclictest) row: min <= p50 <= p99 <= max"
grep -q '"state": "ok"' "$T/hf.json" && grep -q '"samples": 50' "$T/hf.json" &&
	grep -q '"command": "cyclictest -t1 -i 1000 -l 50 ' "$T/hf.json"
result $? "JSON host_floor: state ok, 50 samples, the command"
PATH=/nonexistent "$VT" bench host-floor --count=10 >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 64 ] && grep -q 'cyclictest not installed (apt-get install rt-tests)' "$T/err"
result $? "no cyclictest on PATH: refused, says how to install it (status $rc)"
"$VT" bench --host-floor=sometimes >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 64 ] && [ "$(wc -l <"$T/err")" = 1 ]
result $? "--host-floor=sometimes is refused with one line (status $rc)"
echo "1..$n"
[ "$failed" = 0 ]
