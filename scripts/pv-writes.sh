#!/bin/sh
# SPDX-License-Identifier: MIT
# pv-writes.sh: the any-host issue's PV claim, measured. For each PV preset,
# N runs of
#   vtimer run --timer=P --workload=cyclic --vcpus=2 --count=300 --interval=1000
# and, per run, TSC-deadline MSR writes as a share of deadlines (the guest's
# own counters, from the report's `total` row), with what drives them: the
# writes for deadlines nearer than the host's next scan, the p50 lateness and
# the sleeps whose deadline had already passed. Prints every run, then the
# median and the maximum per preset, and checks them against the targets:
#   quiet machine:     every run <= 1 %           (default)
#   with --hog:        median <= 1 %, no run > 3 % (a CPU-bound process runs
#                      beside it for the whole measurement)
# Exit status 0 if the targets hold, 1 if not, 2 if a run failed.
# Needs /dev/kvm; a performance check, not part of `make test`.
#
# --interval=US runs the same at another period (the issue's target is at
# 1000): where the guest cannot keep up with the period, deadlines come
# nearer than the host's next scan and the writes follow the lateness.
#
# usage: scripts/pv-writes.sh [--hog] [--runs=N] [--timers=pvtimer,hybrid] [--vcpus=N]
#                             [--interval=US]
set -u
cd "$(dirname "$0")/.." || exit 2
VT=${VTIMER:-build/vtimer}
runs=10 timers="pvtimer hybrid" hog=0 vcpus=2 interval=1000
for a in "$@"; do
	case $a in
	--hog) hog=1 ;;
	--runs=*) runs=${a#--runs=} ;;
	--timers=*) timers=$(echo "${a#--timers=}" | tr , ' ') ;;
	--vcpus=*) vcpus=${a#--vcpus=} ;;
	--interval=*) interval=${a#--interval=} ;;
	*) echo "pv-writes.sh: unknown argument '$a'" >&2; exit 2 ;;
	esac
done
case $runs in ''|*[!0-9]*|0) echo "pv-writes.sh: --runs needs a positive number" >&2; exit 2 ;; esac
case $interval in ''|*[!0-9]*|0) echo "pv-writes.sh: --interval needs a positive number of us" >&2; exit 2 ;; esac
[ -x "$VT" ] || { echo "pv-writes.sh: $VT not built (make)" >&2; exit 2; }
[ -w /dev/kvm ] || { echo "pv-writes.sh: no usable /dev/kvm" >&2; exit 2; }

hogpid=
if [ $hog = 1 ]; then
	sh -c 'while :; do :; done' &
	hogpid=$!
	trap 'kill $hogpid 2>/dev/null' EXIT INT TERM
fi
out=$(mktemp) || exit 2
trap 'rm -f "$out"; [ -n "$hogpid" ] && kill $hogpid 2>/dev/null' EXIT INT TERM

ok=0
echo "vtimer run --workload=cyclic --vcpus=$vcpus --count=300 --interval=$interval, $runs runs per preset$([ $hog = 1 ] && echo ', CPU hog beside it')"
for t in $timers; do
	pcts=
	for i in $(seq "$runs"); do
		if ! "$VT" run --timer="$t" --workload=cyclic --vcpus="$vcpus" --count=300 \
			--interval="$interval" --console=/dev/null >"$out" 2>&1; then
			echo "$t run $i failed:"; tail -3 "$out"
			exit 2
		fi
		# total row: total deadlines msr_wr irqs early lost uexits min p50 ...
		# and why the writes came: the wake-up's lateness (p50, sleeps whose
		# deadline had passed before the call) and the page's exit causes
		p=$(awk '$1 == "total" { printf "%.2f %s %s %.0f", $2 ? 100 * $3 / $2 : 0, $2, $3, $9 / 1000 }
			/expired sleeps=/ { sub(/.*expired sleeps=/, ""); sub(/ .*/, ""); es = $0 }
			/fell due while programming=/ { s = $0; sub(/.*fell due while programming=/, "", s); sub(/,.*/, "", s); fd = s }
			/made as idle looks: / { s = $0; sub(/.*made as idle looks: /, "", s); sub(/\).*/, "", s); lk = s }
			/before horizon \+ margin=/ { sub(/.*before horizon \+ margin=/, ""); sub(/ .*/, ""); near = $0 }
			END { printf " %s %s %s %s\n", es == "" ? "-" : es, near == "" ? "-" : near,
			      lk == "" ? "0" : lk, fd == "" ? "-" : fd }' "$out")
		set -- $p
		printf '  %-8s run %2d: %5s%% (%s writes for %s deadlines; %s fell due while programming and %s near the horizon, %s of those as idle looks; p50 late %s us, %s sleeps already passed)\n' \
			"$t" "$i" "$1" "$3" "$2" "$8" "$6" "$7" "$4" "$5"
		pcts="$pcts $1"
	done
	set -- $(echo "$pcts" | tr ' ' '\n' | sed '/^$/d' | sort -g | awk '
		{ v[NR] = $1 } END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.2f %.2f\n", m, v[NR] }')
	med=$1 max=$2
	if [ $hog = 1 ]; then
		verdict=$(awk -v m="$med" -v x="$max" 'BEGIN { print (m <= 1 && x <= 3) ? "ok" : "FAIL" }')
		echo "$t: median $med%, max $max% (target: median <= 1%, max <= 3%): $verdict"
	else
		verdict=$(awk -v x="$max" 'BEGIN { print x <= 1 ? "ok" : "FAIL" }')
		echo "$t: median $med%, max $max% (target: every run <= 1%): $verdict"
	fi
	[ "$verdict" = ok ] || ok=1
done
exit $ok
