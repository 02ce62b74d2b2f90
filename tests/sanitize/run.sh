#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the tests on the sanitizer builds (tests/sanitize/sanitize.mk).
#   run.sh          (make test) TAP, one case per program: the unit tests,
#                   the guest's timer code on its simulated host (tests/guest/)
#                   and the integration programs (they skip without /dev/kvm),
#                   built with ASan+UBSan and with TSan; SANITIZE_INTEGRATION=0
#                   leaves the integration programs out
#   SAN=asan|tsan run.sh --all
#                   (make test-asan / test-tsan) every unit and integration
#                   test, the multiboot and probe scripts, against
#                   build-$SAN/vtimer, through tests/run-all.sh
# Any sanitizer report fails the program: UBSan and TSan halt on the first
# one, ASan always does; LeakSanitizer runs at exit.
# An integration case that fails with no sanitizer report (a delivery
# assert: the VMM runs 2-10x slower here than in the plain build, a timing
# regime of its own) is run once more alone, and its first failure is
# printed either way ("# rerun:"). The plain build's run (tests/run-all.sh)
# gets no second try: it is the one that asserts delivery.
cd "$(dirname "$0")/../.." || exit 1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

programs() {
	for t in tests/unit/test_*.c; do
		echo "build-$1/tests/unit/$(basename "$t" .c)"
	done
	echo "build-$1/tests/guest/test_guest_timer"
	if [ "$2" = all ]; then
		for t in tests/integration/test_*.c; do
			echo "build-$1/tests/integration/$(basename "$t" .c)"
		done
	fi
}

if [ "$1" = --all ]; then
	: "${SAN:?SAN=asan or SAN=tsan}"
	export VTIMER_TEST_BIN=build-$SAN/vtimer VT=build-$SAN/vtimer VTIMER=$PWD/build-$SAN/vtimer
	# shellcheck disable=SC2046
	exec tests/run-all.sh $(programs "$SAN" all) tests/multiboot/test.sh tests/probe/test.sh
fi

scope=unit
[ "${SANITIZE_INTEGRATION:-1}" = 1 ] && scope=all
log=$(mktemp) || exit 1
relog=$(mktemp) || exit 1
trap 'rm -f "$log" "$relog"' EXIT INT TERM

# "passed failed skipped" from a cmocka log
counts() {
	awk '/^\[  PASSED  \] [0-9]+ test/ { p += $4 }
	     /^\[  FAILED  \] [0-9]+ test/ { f += $4 }
	     /^\[  SKIPPED \] [0-9]+ test/ { s += $4 }
	     END { printf "%d %d %d\n", p, f, s }' "$1"
}

# A sanitizer's own finding (LeakSanitizer aside: a failed cmocka case
# leaves its JSON unfreed; the VMM's leaks fail its exit status instead).
sanitizer_report() {
	grep -qE 'ERROR: (AddressSanitizer|ThreadSanitizer)|WARNING: ThreadSanitizer|runtime error' "$1"
}

# Runs the failed cases of program $1 again, one by one; prints the first
# failure and the outcome. True (and the ok line printed) if all now pass.
rerun() {
	cases=$(sed -n 's/^\[  FAILED  \] \(test_[A-Za-z0-9_]*\)$/\1/p' "$log" | sort -u)
	[ -n "$cases" ] || return 1
	echo "# rerun: $3 failed without a sanitizer report; its first failure:"
	grep -E 'failing:|\[  ERROR   \]|\[   LINE   \]|\[  FAILED  \] test' "$log" |
		head -30 | sed 's/^/#   /'
	for c in $cases; do
		VTIMER_TEST_FILTER=$c VTIMER_TEST_BIN=build-$2/vtimer "$1" >"$relog" 2>&1
		r=$?
		set -- "$1" "$2" "$3" $(counts "$relog")
		if [ "$r" != 0 ] || [ "$5" != 0 ] || [ "$4" = 0 ]; then
			echo "# rerun: $c failed again"
			return 1
		fi
		echo "# rerun: $c passed alone"
	done
	echo "ok $n - $3: passed on a rerun of $(echo $cases | wc -w) case(s) (see # rerun above)"
	reruns=$((reruns + 1))
	return 0
}
n=0
failed=0
reruns=0
list=
for san in asan tsan; do
	list="$list $(programs $san $scope)"
done
echo "1..$(echo $list | wc -w)"
for t in $list; do
	n=$((n + 1))
	san=${t#build-}
	san=${san%%/*}
	name="$san ${t#build-$san/tests/}"
	if [ ! -x "$t" ]; then
		echo "not ok $n - $name: not built (make san-build-$san)"
		failed=$((failed + 1))
		continue
	fi
	VTIMER_TEST_BIN=build-$san/vtimer "$t" >"$log" 2>&1
	rc=$?
	set -- $(counts "$log")
	if { [ "$rc" != 0 ] || [ "$2" != 0 ]; } && [ "$scope" = all ] &&
	   [ "${t#*/tests/integration/}" != "$t" ] && [ "$2" != 0 ] &&
	   ! sanitizer_report "$log"; then
		rerun "$t" "$san" "$name" && continue
	fi
	if [ "$rc" != 0 ] || [ "$2" != 0 ]; then
		echo "not ok $n - $name: exit $rc, $1 passed, $2 failed"
		# the test's own failure first (which run, which counter), then
		# what a sanitizer said
		{ grep -E 'failing:|\[  ERROR   \]|\[   LINE   \]|\[  FAILED  \]' "$log"
		  grep -E 'ERROR:|WARNING|SUMMARY|runtime error|#[0-9]+ ' "$log" | head -30
		} | head -60 | sed 's/^/# /'
		failed=$((failed + 1))
	elif [ "$1" = 0 ] && [ "$3" != 0 ]; then
		reason=$(sed -n 's/.*\[  SKIPPED \] *[^ ]* *//p; s/.*SKIP[^:]*: *//p' "$log" | head -1)
		echo "ok $n - $name # SKIP ${reason:-all cases skipped}"
	else
		echo "ok $n - $name: $1 cases clean"
	fi
done
[ "$reruns" != 0 ] && echo "# $reruns program(s) passed only on a rerun: their first failures are above"
[ "$failed" = 0 ]
