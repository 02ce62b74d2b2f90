#!/bin/sh
# SPDX-License-Identifier: MIT
# run-ab.sh: timer modes (or any `vtimer run` options) side by side on one
# host binary and guest. Runs every variant once per round, N rounds, so
# that the host's drift hits them alike; each round shares one cyclic phase
# (--phase, spread over the interval as `vtimer bench` spreads its repeats),
# with
#   vtimer run --workload=cyclic --vcpus=V --count=300 --interval=US --phase=P OPTIONS
# and prints, per variant, the median p50 lateness, TSC-deadline MSR writes
# as % of deadlines (median and max), the housekeeping thread's CPU and the
# sleeps whose deadline had already passed (a guest that fell behind), then
# every round's p50. For questions `vtimer bench` has no option for.
# Needs /dev/kvm and python3; a performance comparison, not part of `make test`.
#
# usage: scripts/run-ab.sh [--runs=N] [--vcpus=V] [--interval=US] LABEL:OPTIONS...
#   e.g. scripts/run-ab.sh --runs=8 kvm:--timer=kvm "pv-nopw:--timer=pvtimer --timer-prewake=off"
set -u
cd "$(dirname "$0")/.." || exit 2
VT=${VTIMER:-build/vtimer}
usage="usage: scripts/run-ab.sh [--runs=N] [--vcpus=V] [--interval=US] LABEL:OPTIONS..."
runs=8 vcpus=2 interval=1000
while [ $# -gt 0 ]; do
	case $1 in
	--runs=*) runs=${1#--runs=} ;;
	--vcpus=*) vcpus=${1#--vcpus=} ;;
	--interval=*) interval=${1#--interval=} ;;
	--*) echo "run-ab.sh: unknown option '$1'" >&2; echo "$usage" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
for n in "$runs" "$interval"; do
	case $n in ''|*[!0-9]*|0) echo "run-ab.sh: --runs and --interval need a positive number" >&2; exit 2 ;; esac
done
for v in "$@"; do
	case $v in *:*) ;; *) echo "run-ab.sh: '$v' is not LABEL:OPTIONS" >&2; exit 2 ;; esac
done
command -v python3 >/dev/null || { echo "run-ab.sh: needs python3 (apt-get install python3)" >&2; exit 2; }
[ -x "$VT" ] || { echo "run-ab.sh: $VT not built (make)" >&2; exit 2; }
dir=$(mktemp -d) || exit 2
trap 'rm -rf "$dir"' EXIT INT TERM

echo "vtimer run --workload=cyclic --vcpus=$vcpus --count=300 --interval=$interval, $runs rounds"
for i in $(seq "$runs"); do
	phase=$(( (2 * i - 1) * interval / (2 * runs) ))
	for v in "$@"; do
		label=${v%%:*}
		# shellcheck disable=SC2086 # the options are meant to split
		if ! "$VT" run --workload=cyclic --vcpus="$vcpus" --count=300 --interval="$interval" \
			--phase="$phase" ${v#*:} --console=/dev/null --json="$dir/run.json" \
			>"$dir/out" 2>&1; then
			echo "$label, round $i failed:"; tail -3 "$dir/out"
			exit 1
		fi
		python3 - "$dir/run.json" "$label" >>"$dir/rows" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
g = r["guest"]
print(sys.argv[2], r["latency_ns"]["p50"], 100.0 * g["msr_writes"] / max(1, g["deadlines"]),
      r.get("housekeeping_cpu_pct", 0.0), g["expired_sleeps"])
EOF
	done
done
python3 - "$dir/rows" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, p50, w, cpu, exp = line.split()
    rows.setdefault(label, []).append((int(p50), float(w), float(cpu), int(exp)))
print("%-14s %10s %10s %9s %8s %9s  %s" % ("variant", "p50 (us)", "writes %", "max %",
      "hk CPU%", "passed", "p50 per round (us)"))
for label, v in rows.items():
    print("%-14s %10.0f %10.2f %9.2f %8.1f %9.0f  %s" % (
        label, statistics.median(x[0] for x in v) / 1000, statistics.median(x[1] for x in v),
        max(x[1] for x in v), statistics.median(x[2] for x in v),
        statistics.median(x[3] for x in v), " ".join(str(x[0] // 1000) for x in v)))
EOF
