#!/bin/sh
# SPDX-License-Identifier: MIT
# Model checks with spin (TAP). Each model must verify clean, and its
# deliberately broken variants (-DBROKEN, -DNO_FENCE, ...) must be caught, so
# a model that checks nothing cannot pass. A variant may name the assertion
# that must catch it (caught:NAME), so each property is shown able to fail.
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
echo "1..39"

# check MODEL SPIN_DEFINES CC_DEFINE EXPECT(clean|caught[:ASSERTION]) WHAT [pan flags]
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
	elif [ "${expect%%:*}" = caught ] && [ "$errs" != 0 ]; then
		want=${expect#caught}
		want=${want#:}
		if [ -n "$want" ] &&
		    ! grep -q "assertion violated $want " "$d/pan.log"; then
			echo "not ok $n - $what: caught, but not by $want"
			sed 's/^/# /' "$d/pan.log" | head -20
			fail=1
		else
			echo "ok $n - $what (spin found $errs error(s), as it must)"
		fi
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
check idle.pml -DSHADOW_BROKEN -DNOCLAIM clean \
	"idle: a host that breaks sti's shadow loses no wake-up with the stubs' fix-up"
check idle.pml -DSHADOW_BROKEN "" clean \
	"idle: ... and every sleep finishes (liveness)" -a -f
check idle.pml "-DSHADOW_BROKEN -DNO_FIXUP" -DNOCLAIM caught \
	"idle: a broken shadow without the fix-up loses a wake-up (safety)"

# The PV timer protocol (lazy.pml): one guest vCPU against the host, x86-TSO.
# FEATURES: 1 lazy, 2 pvtimer (horizon), 3 hybrid, 4 direct.
L=lazy.pml
check $L "-DFEATURES=1 -DNPROG=4" -DNOCLAIM clean \
	"pv lazy: never lost, early, doubled or unasked (4 deadlines)"
check $L -DFEATURES=2 -DNOCLAIM clean \
	"pv horizon: never lost, early, doubled or unasked"
check $L -DFEATURES=3 -DNOCLAIM clean \
	"pv hybrid (lazy+horizon): never lost, early, doubled or unasked"
check $L -DFEATURES=4 -DNOCLAIM clean \
	"pv direct (polling host): never lost, early, doubled or unasked"
check $L "-DFEATURES=1 -DNO_ARMED_CLEAR" -DNOCLAIM caught:never_lost \
	"pv lazy: expiry reading pending before clearing armed loses a deadline"
check $L "-DFEATURES=3 -DNO_ARMED_CLEAR" -DNOCLAIM caught:never_lost \
	"pv hybrid: expiry reading pending before clearing armed loses a deadline"
check $L "-DFEATURES=1 -DNO_FENCE" -DNOCLAIM caught:never_lost \
	"pv lazy: store-load without fences loses a deadline"
check $L "-DFEATURES=1 -DNO_GUEST_FENCE" -DNOCLAIM caught:never_lost \
	"pv lazy: the guest's fence is needed"
check $L "-DFEATURES=1 -DNO_HOST_FENCE" -DNOCLAIM caught:never_lost \
	"pv lazy: the host's fence is needed"
check $L "-DFEATURES=2 -DNO_GUEST_FENCE" -DNOCLAIM caught:never_lost \
	"pv horizon: the guest's fence is needed"
check $L "-DFEATURES=2 -DNO_HOST_FENCE" -DNOCLAIM caught:never_lost \
	"pv horizon: the scan's fence is needed"
check $L "-DFEATURES=2 -DNO_HORIZON_MARGIN" -DNOCLAIM caught:never_lost \
	"pv horizon: margin 0 with a late scanner loses a deadline"
check $L "-DFEATURES=3 -DSCAN_MOVES_ARMED" -DNOCLAIM caught:never_lost \
	"pv hybrid: a scan moving the timer later without retracting armed loses a deadline"
check $L "-DFEATURES=2 -DPAST_MAY_SKIP" -DNOCLAIM caught:never_lost \
	"pv horizon: skipping the MSR for a passed deadline can lose it"
check $L "-DFEATURES=1 -DEXPIRY_NO_RECHECK" -DNOCLAIM caught:host_asked \
	"pv lazy: an expiry that does not re-read pending injects unasked"
check $L "-DFEATURES=3 -DEXPIRY_NO_RECHECK -DNO_HOST_ASSERTS" -DNOCLAIM \
	caught:never_early "pv hybrid: the guest sees that expiry's early interrupt"
check $L "-DFEATURES=1 -DMSR_ARMS_PAST" -DNOCLAIM caught:once \
	"pv lazy: arming a passed deadline from the MSR exit interrupts twice"
check $L "-DFEATURES=2 -DMSR_KEEPS_SEEN" -DNOCLAIM caught:once \
	"pv horizon: an MSR exit not recorded as seen is armed again by the scan"
check $L "-DFEATURES=3 -DGUEST_STALE_FLAG" -DNOCLAIM caught:never_early \
	"pv hybrid: a one-bit stale flag miscounts a stale interrupt as early"
# Stale credits are capped at 2 (the guest's STALE_MAX): with 4 deadlines a
# third is reachable, the cap loses no stale interrupt, and a cap of 1 does.
check $L "-DFEATURES=3 -DNPROG=4 -DCREDIT_CAP=9 -DCREDIT_REACH=3" -DNOCLAIM caught \
	"pv hybrid: 4 deadlines can owe 3 stale credits (the cap of 2 binds)"
check $L "-DFEATURES=3 -DNPROG=4" -DNOCLAIM clean \
	"pv hybrid, stale credits capped at 2: never lost, early, doubled or unasked (4 deadlines)"
check $L "-DFEATURES=3 -DNPROG=4 -DCREDIT_CAP=1" -DNOCLAIM caught:never_early \
	"pv hybrid: one stale credit at most books a stale interrupt as early"

# The due rule (guest/kernel/timer.c, run_due): a deadline due, or within
# DUE_MARGIN, when it becomes the head is waited out and run by the guest,
# with no store to pending and no MSR write. By default the model lets the
# guest choose that or program it (an ABI v1 guest); -DDUE_ALWAYS is the
# vtimer guest exactly.
check $L "-DFEATURES=3 -DDUE_ALWAYS" -DNOCLAIM clean \
	"pv hybrid, due deadlines always run by the guest: never lost, early, doubled or unasked"
check $L "-DFEATURES=3 -DDUE_STORES_PENDING" -DNOCLAIM caught:once \
	"pv hybrid: a guest running a due deadline itself and storing it in pending is interrupted again"
check $L "-DFEATURES=1 -DDUE_STORES_PENDING" -DNOCLAIM caught:once \
	"pv lazy: a guest running a due deadline itself and storing it in pending is interrupted again"
check $L "-DFEATURES=3 -DNO_DUE_WAIT" -DNOCLAIM caught:never_early \
	"pv hybrid: a guest running a near deadline without waiting for it runs it early"

# The idle look (pv-abi.md 4.1): an exit the program decided on is owed and
# made later as an MSR exit for `pending`, with the guest's due rule on.
check $L "-DFEATURES=2 -DDUE_ALWAYS -DIDLE_LOOK" -DNOCLAIM clean \
	"pv horizon with the idle look: never lost, early, doubled or unasked"
check $L "-DFEATURES=3 -DDUE_ALWAYS -DIDLE_LOOK -DNPROG=4" -DNOCLAIM clean \
	"pv hybrid with the idle look: never lost, early, doubled or unasked (4 deadlines)"
check $L "-DFEATURES=3 -DDUE_ALWAYS -DIDLE_LOOK -DLOOK_DROPS_OWED" -DNOCLAIM caught:never_lost \
	"pv hybrid: an owed write the idle loop forgets loses the deadline"
check $L "-DFEATURES=3 -DDUE_ALWAYS -DIDLE_LOOK -DLOOK_AFTER_RUN" -DNOCLAIM caught:once \
	"pv hybrid: a look made after the handler ran its deadline interrupts twice"

# Look-ahead after an injection (pv-abi.md 5.4; hybrid's scan:P,look:L).
check $L "-DFEATURES=3 -DLOOK -DMAXT=5" -DNOCLAIM clean \
	"pv hybrid with look-ahead: never lost, early, doubled or unasked"
check $L "-DFEATURES=3 -DLOOK -DLOOK_SCAN_KEEPS_LOOK -DMAXT=5" -DNOCLAIM caught:never_lost \
	"pv hybrid with look-ahead: a scan finding pending == the look time and keeping the look loses it"
exit $fail
