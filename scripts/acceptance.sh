#!/bin/sh
# SPDX-License-Identifier: MIT
# acceptance.sh: the open issues' "Done when" checks in one go, for the first
# session whose machine has /dev/kvm (they cannot run without it). Each check
# prints PASS or FAIL with its figures; every command's output is kept in
# OUT (default /tmp/vtimer-acceptance) for the closing note.
#   6  any machine: `make test` on a fresh clone 5 times in a row, then once
#      with a CPU-bound process beside it; scripts/pv-writes.sh quiet (every
#      run <= 1 %) and with the hog (median <= 1 %, no run > 3 %)
#   8  bench: `vtimer bench --quick --out=DIR` exits 0 within 5 minutes, a run
#      for every preset x workload, SVG and PNG plots, the rr write ratios
#      (scripts/acceptance.py bench); `vtimer bench engine` reaches 1,024 vCPUs
#   9  exits: `vtimer bench --workloads=cyclic,latency` (3 interleaved
#      repeats) with 2 vCPUs and with 1: hybrid's exit-causing operations,
#      PV EOI, p50 against kvm, no early (scripts/acceptance.py exits)
# Takes about an hour with all three (issue 6's six `make test` most of it).
# Exit status 0 if every check passed, 1 if one failed, 2 if it cannot run.
#
# usage: scripts/acceptance.sh [--only=6,8,9] [--out=DIR]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
only="6 8 9" out=/tmp/vtimer-acceptance
for a in "$@"; do
	case $a in
	--only=*) only=$(echo "${a#--only=}" | tr , ' ') ;;
	--out=*) out=${a#--out=} ;;
	*) sed -n 2,19p "$0"; exit 2 ;;
	esac
done
[ -w /dev/kvm ] || { echo "acceptance.sh: no usable /dev/kvm: these checks need KVM" >&2; exit 2; }
command -v python3 >/dev/null || { echo "acceptance.sh: needs python3 (apt-get install python3)" >&2; exit 2; }
mkdir -p "$out" || exit 2
cd "$top" && make -s >/dev/null || { echo "acceptance.sh: make failed" >&2; exit 2; }
fail=0
check() {	# check OK WHAT DETAIL
	if [ "$1" = 0 ]; then echo "PASS  $2: $3"; else echo "FAIL  $2: $3"; fail=1; fi
}
want() { case " $only " in *" $1 "*) return 0 ;; esac; return 1; }
echo "acceptance: $(date -u +%FT%TZ), $(nproc) CPUs, output in $out"
build/vtimer probe > "$out/probe.txt" 2>&1
sed -n '1,12p' "$out/probe.txt" | sed 's/^/  probe: /'

if want 6; then
	rm -rf "$out/clone" && git clone -q "$top" "$out/clone" || exit 2
	for i in 1 2 3 4 5 hog; do
		hog=
		if [ $i = hog ]; then
			sh -c 'while :; do :; done' & hog=$!
		fi
		t0=$(date +%s)
		(cd "$out/clone" && make test) > "$out/make-test-$i.txt" 2>&1
		st=$?
		[ -n "$hog" ] && kill "$hog"
		check $st "issue 6: make test on a fresh clone, run $i" \
			"$(grep -E '^[0-9]+ passed' "$out/make-test-$i.txt" | tail -1), $(( $(date +%s) - t0 )) s"
	done
	scripts/pv-writes.sh > "$out/pv-writes.txt" 2>&1
	check $? "issue 6: pv-writes.sh, quiet (every run <= 1 %)" "$(tail -2 "$out/pv-writes.txt" | tr '\n' ' ')"
	scripts/pv-writes.sh --hog > "$out/pv-writes-hog.txt" 2>&1
	check $? "issue 6: pv-writes.sh --hog (median <= 1 %, max <= 3 %)" \
		"$(tail -2 "$out/pv-writes-hog.txt" | tr '\n' ' ')"
fi

if want 8; then
	# the plots and the host floor need what `make run` installs
	scripts/deps.sh gnuplot-nox rt-tests >/dev/null 2>&1 ||
		echo "acceptance.sh: could not install gnuplot-nox rt-tests: the plot check will fail" >&2
	rm -rf "$out/quick"
	t0=$(date +%s)
	timeout 600 build/vtimer bench --quick --out="$out/quick" > "$out/bench-quick.txt" 2>&1
	st=$? dt=$(( $(date +%s) - t0 ))
	[ $st = 0 ] && [ $dt -le 300 ]
	check $? "issue 8: bench --quick --out exits 0 within 5 minutes" "status $st, $dt s"
	[ -f "$out/quick/results.json" ] && python3 scripts/acceptance.py bench "$out/quick" || fail=1
	build/vtimer bench engine > "$out/bench-engine.txt" 2>&1
	st=$?
	[ $st = 0 ] && grep -q '^| 1024 |' "$out/bench-engine.txt"
	check $? "issue 8: bench engine prints the scaling table up to 1,024 vCPUs" \
		"status $st, $(grep -c '^| [0-9]' "$out/bench-engine.txt") sizes"
fi

if want 9; then
	for v in 2 1; do
		rm -rf "$out/exits-$v"
		build/vtimer bench --vcpus=$v --workloads=cyclic,latency --out="$out/exits-$v" \
			> "$out/bench-exits-$v.txt" 2>&1
		check $? "issue 9: bench --vcpus=$v --workloads=cyclic,latency ran" "$out/bench-exits-$v.txt"
	done
	python3 scripts/acceptance.py exits "$out/exits-2/results.json" "$out/exits-1/results.json" ||
		fail=1
fi
echo "acceptance: $([ $fail = 0 ] && echo 'every check passed' || echo 'some checks FAILED'); outputs in $out"
exit $fail
