#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the libFuzzer harnesses (tests/fuzz/fuzz.mk), TAP output, one case
# per harness: "ok N - fuzz H: E execs, 0 crashes".
#   run.sh          (make test) the seed corpus once, then FUZZ_TEST_SECONDS
#                   (default 10) of fuzzing from it into a throw-away corpus
#   run.sh --long   (make fuzz) FUZZ_SECONDS (default 60) per harness,
#                   growing build/fuzz/corpus/H across runs
# A crash or broken invariant fails the case; the input is saved under
# build/fuzz/crashes/ (move it to tests/fuzz/crashes/ to keep it), and
# `build/fuzz/fuzz_H FILE` replays it (VTIMER_FUZZ_VERBOSE=1: the host's
# own refusal lines too). Skips when the harnesses could not be built.
cd "$(dirname "$0")/../.." || exit 1
OUT=build/fuzz
HARNESSES="loader multiboot vtimer"
if [ "$1" = --long ]; then
	secs=${FUZZ_SECONDS:-60}
else
	secs=${FUZZ_TEST_SECONDS:-10}
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
failed=0
echo "1..$(echo $HARNESSES | wc -w)"
mkdir -p $OUT/crashes
for h in $HARNESSES; do
	n=$((n + 1))
	bin=$OUT/fuzz_$h
	seeds=tests/fuzz/corpus/$h
	if [ ! -x "$bin" ]; then
		echo "ok $n - fuzz $h # SKIP $bin not built (needs clang with libFuzzer:" \
		     "make deps-test installs clang and libclang-rt-14-dev)"
		continue
	fi
	if [ "$1" = --long ]; then
		corpus=$OUT/corpus/$h
	else
		corpus=$tmp/$h
	fi
	mkdir -p "$corpus"
	# Seeds first, on their own: a seed that fails names itself.
	if ! "$bin" -runs=0 -timeout=10 -artifact_prefix="$OUT/crashes/$h-" "$seeds" >"$tmp/log" 2>&1; then
		echo "not ok $n - fuzz $h: the seed corpus $seeds fails"
		sed 's/^/# /' "$tmp/log" | grep -v '^# INFO' | tail -40
		failed=$((failed + 1))
		continue
	fi
	"$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$OUT/crashes/$h-" "$corpus" "$seeds" >"$tmp/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/log")
	size=$(ls "$corpus" | wc -l)
	if [ "$rc" = 0 ] && [ -n "$execs" ]; then
		echo "ok $n - fuzz $h: $execs execs in ${secs} s, 0 crashes (corpus $size)"
	else
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$tmp/log" | head -1)
		echo "not ok $n - fuzz $h: ${execs:-?} execs, 1 crash (exit $rc), input ${art:-not saved}"
		grep -v '^INFO\|^#[0-9]' "$tmp/log" | sed 's/^/# /' | tail -40
		failed=$((failed + 1))
	fi
done
[ "$failed" = 0 ]
