#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every test program given (cmocka or TAP) and ends with one line,
# "N passed, N failed, N skipped", counted in test cases:
#   cmocka  "[  PASSED  ] N", "[  FAILED  ] N", "[  SKIPPED ] N" summary lines
#   TAP     "ok" / "not ok" lines; "# SKIP" on an ok line or on the plan
#           ("1..0 # SKIP why") is a skip, not a pass.
# A program that exits non-zero without reporting a failed case (a crash, a
# killed run) counts as one failed case. Skips are listed with their reason.
pass=0
fail=0
skip=0
failed=
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	echo "=== $t"
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	set -- $(awk '
		/^\[  PASSED  \] [0-9]+ test/ { p += $4 }
		/^\[  FAILED  \] [0-9]+ test/ { f += $4 }
		/^\[  SKIPPED \] [0-9]+ test/ { s += $4 }
		/^ok [0-9]+/ { if (/# [Ss][Kk][Ii][Pp]/) s++; else p++ }
		/^not ok [0-9]+/ { f++ }
		/^1\.\.0 # [Ss][Kk][Ii][Pp]/ { s++ }
		END { printf "%d %d %d\n", p, f, s }' "$log")
	p=$1 f=$2 s=$3
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "$t: exit status $rc with no failed case reported: counted as one failure"
		f=1
	fi
	if [ "$rc" = 0 ] && [ "$f" != 0 ]; then
		echo "$t: reported $f failed case(s) but exited 0: counted as failed"
		rc=1
	fi
	[ "$rc" != 0 ] && failed="$failed $t"
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
done
[ -n "$failed" ] && echo "failed programs:$failed"
[ "$skip" != 0 ] && echo "skipped cases print their reason above (SKIP)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ -z "$failed" ]
