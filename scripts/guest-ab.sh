#!/bin/sh
# SPDX-License-Identifier: MIT
# guest-ab.sh: two guest images, A and B, side by side on one host binary.
# Runs them interleaved (A, B, A, B, ...) so that the host's drift hits both
# alike, N pairs of
#   vtimer run --guest=IMG --timer=T --workload=cyclic --vcpus=V --count=300 --interval=US
# and prints, per image, every run's TSC-deadline MSR writes as % of
# deadlines and p50 lateness, then their medians. For changes to the guest
# (build one image at the old commit, e.g. in a git worktree).
# Needs /dev/kvm; a performance comparison, not part of `make test`.
#
# usage: scripts/guest-ab.sh A.elf B.elf [--runs=N] [--timer=T] [--vcpus=V] [--interval=US]
set -u
cd "$(dirname "$0")/.." || exit 2
VT=${VTIMER:-build/vtimer}
[ $# -ge 2 ] || { echo "usage: scripts/guest-ab.sh A.elf B.elf [--runs=N] [--timer=T] [--vcpus=V] [--interval=US]" >&2; exit 2; }
a=$1 b=$2
shift 2
runs=10 timer=pvtimer vcpus=2 interval=1000
for o in "$@"; do
	case $o in
	--runs=*) runs=${o#--runs=} ;;
	--timer=*) timer=${o#--timer=} ;;
	--vcpus=*) vcpus=${o#--vcpus=} ;;
	--interval=*) interval=${o#--interval=} ;;
	*) echo "guest-ab.sh: unknown argument '$o'" >&2; exit 2 ;;
	esac
done
case $runs in ''|*[!0-9]*|0) echo "guest-ab.sh: --runs needs a positive number" >&2; exit 2 ;; esac
for g in "$a" "$b"; do
	[ -f "$g" ] || { echo "guest-ab.sh: no guest image '$g'" >&2; exit 2; }
done
[ -x "$VT" ] || { echo "guest-ab.sh: $VT not built (make)" >&2; exit 2; }
out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT INT TERM

echo "vtimer run --timer=$timer --workload=cyclic --vcpus=$vcpus --count=300 --interval=$interval, $runs interleaved pairs"
echo "A: $a"
echo "B: $b"
for i in $(seq "$runs"); do
	for g in A B; do
		img=$a
		[ $g = B ] && img=$b
		if ! "$VT" run --guest="$img" --timer="$timer" --workload=cyclic --vcpus="$vcpus" \
			--count=300 --interval="$interval" --console=/dev/null >"$out" 2>&1; then
			echo "$g run $i failed:"; tail -3 "$out"
			exit 1
		fi
		# total row: total deadlines msr_wr irqs early lost uexits min p50 ...
		awk -v g=$g '$1 == "total" { printf "%s %.2f %.0f\n", g, $2 ? 100 * $3 / $2 : 0, $9 / 1000 }' "$out"
	done
done | awk '
	function med(s,   v, n, i, j, t) {
		n = split(s, v, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	{ w[$1] = w[$1] " " $2; p[$1] = p[$1] " " $3 }
	END {
		for (g = 0; g < 2; g++) {
			k = g ? "B" : "A"
			printf "%s writes %%:%s\n%s p50 us:  %s\n", k, w[k], k, p[k]
			printf "%s median: writes %.2f%%, p50 %.0f us\n", k, med(w[k]), med(p[k])
		}
	}'
