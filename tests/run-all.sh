#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every test program given, each printing its own cases (cmocka or TAP),
# and ends with one summary line: "N passed, N failed" counted in programs.
pass=0
fail=0
failed=
for t in "$@"; do
	echo "=== $t"
	if "$t"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed="$failed $t"
	fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "programs: $pass passed, $fail failed"
[ "$fail" = 0 ]
