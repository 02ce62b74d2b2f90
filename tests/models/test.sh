#!/bin/sh
# SPDX-License-Identifier: MIT
# Model checks with spin (TAP). Each model must verify clean, and its
# deliberately broken variant (-DBROKEN) must be caught, so a model that
# checks nothing cannot pass.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v spin >/dev/null 2>&1; then
	echo "1..0 # SKIP spin not installed"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
fail=0
echo "1..4"

# check MODEL SPIN_DEFINE CC_DEFINE EXPECT(clean|caught) WHAT [pan flags]
# Safety runs compile pan with -DNOCLAIM so invalid end states (deadlocks) and
# assertions are checked; liveness runs keep the LTL claim and use -a -f.
check() {
	model=$1 def=$2 ccdef=$3 expect=$4 what=$5
	shift 5
	n=$((n + 1))
	d="$work/$n"
	mkdir -p "$d"
	cp "$top/tests/models/$model" "$d/"
	(cd "$d" && spin $def -a "$model" >spin.log 2>&1 &&
		cc -O2 -w $ccdef -o pan pan.c >cc.log 2>&1 &&
		./pan "$@" >pan.log 2>&1)
	errs=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$d/pan.log" | head -1)
	if [ -z "$errs" ]; then
		echo "not ok $n - $what: spin/pan did not run"
		cat "$d"/*.log | sed 's/^/# /' | head -20
		fail=1
	elif [ "$expect" = clean ] && [ "$errs" = 0 ]; then
		echo "ok $n - $what"
	elif [ "$expect" = caught ] && [ "$errs" != 0 ]; then
		echo "ok $n - $what (spin found $errs error(s), as it must)"
	else
		echo "not ok $n - $what: errors=$errs, expected $expect"
		sed 's/^/# /' "$d/pan.log" | head -20
		fail=1
	fi
}

check idle.pml "" -DNOCLAIM clean "idle: sti;hlt wait never loses a wake-up (safety)"
check idle.pml "" "" clean "idle: every sleep finishes (liveness, weak fairness)" -a -f
check idle.pml -DBROKEN -DNOCLAIM caught "idle: sti;check;hlt loses a wake-up (safety)"
check idle.pml -DBROKEN "" caught "idle: sti;check;hlt never finishes (liveness)" -a -f
exit $fail
