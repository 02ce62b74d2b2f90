#!/bin/sh
# SPDX-License-Identifier: MIT
# guest-profile.sh: where the guest's emulated CPL0 instructions go. On a PVM
# host (vtimer probe: "guest CPL0: emulated") KVM's instruction emulator runs
# every guest kernel instruction and the kvm_emulate_insn tracepoint records
# each one with its RIP; this maps them to the guest image's functions.
# Tracing slows each instruction (~1.7x here): counts are exact, times not.
# Needs root, tracefs and /dev/kvm; prints nothing useful where guest CPL0
# runs natively (VMX/SVM: no emulated instructions to count).
#
# With SEQ=N in the environment it also prints N lines of the functions in
# the order they ran (instructions per stretch), from the middle of the run,
# on one vCPU thread: what one steady-state event costs, step by step.
#
# usage: [SEQ=N] scripts/guest-profile.sh [vtimer run options...]
#        (default: --timer=kvm --workload=cyclic --vcpus=1 --count=200)
set -u
cd "$(dirname "$0")/.." || exit 2
VT=${VTIMER:-build/vtimer}
ELF=${GUEST:-build/guest.elf}
T=/sys/kernel/tracing
[ -d $T/events/kvm ] || T=/sys/kernel/debug/tracing
[ -x "$VT" ] && [ -f "$ELF" ] || { echo "guest-profile.sh: build first (make)" >&2; exit 2; }
[ -w $T/events/kvm/kvm_emulate_insn/enable ] ||
	{ echo "guest-profile.sh: no writable kvm_emulate_insn tracepoint (root, tracefs?)" >&2; exit 2; }
[ $# -gt 0 ] || set -- --timer=kvm --workload=cyclic --vcpus=1 --count=200
out=$(mktemp) && trace=$(mktemp) || exit 2
cleanup() {
	echo 0 > $T/events/kvm/kvm_emulate_insn/enable
	rm -f "$out" "$trace"
}
trap cleanup EXIT INT TERM
echo 0 > $T/tracing_on
echo > $T/trace
echo 65536 > $T/buffer_size_kb
echo 1 > $T/events/kvm/kvm_emulate_insn/enable
echo 1 > $T/tracing_on
"$VT" run "$@" --console=/dev/null > "$out" 2>&1
st=$?
echo 0 > $T/tracing_on
echo 0 > $T/events/kvm/kvm_emulate_insn/enable
cp $T/trace "$trace"
[ $st = 0 ] || { echo "guest-profile.sh: vtimer run failed ($st):"; tail -3 "$out"; exit 1; }
events=$(awk '$1 == "total" { print $2 }' "$out")
grep -E '^(total|wall)' "$out"
nm -n "$ELF" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' | awk -v ev="${events:-0}" -v seq="${SEQ:-0}" '
	function hex(s,   i, c, v) {
		v = 0; s = tolower(s)
		for (i = 1; i <= length(s); i++) {
			c = index("0123456789abcdef", substr(s, i, 1)) - 1
			v = v * 16 + c
		}
		return v
	}
	NR == FNR { a[n] = hex($1); name[n] = $2; n++; next }
	/kvm_emulate_insn:/ {
		split($0, f, "kvm_emulate_insn: "); split(f[2], g, ":"); rip = hex(g[2])
		lo = 0; hi = n - 1; k = -1
		while (lo <= hi) { m = int((lo + hi) / 2); if (a[m] <= rip) { k = m; lo = m + 1 } else hi = m - 1 }
		s = k >= 0 ? name[k] : "?"
		cnt[s]++; tot++
		# the stretch follows one vCPU thread (task-pid, the first field)
		if (seq > 0 && seqtask == "") seqtask = $1
		if (seq > 0 && $1 == seqtask) {
			if (s != last) { if (last != "") run[nr++] = len " " last; last = s; len = 0 }
			len++
		}
	}
	END {
		if (seq > 0) {
			run[nr++] = len " " last
			for (i = int((nr - seq) / 2); i < int((nr - seq) / 2) + seq && i < nr; i++)
				if (i >= 0) print run[i]
			print "--"
		}
		printf "%d emulated guest CPL0 instructions", tot
		if (ev > 0) printf ", %.0f per deadline (%d deadlines, boot included)", tot / ev, ev
		printf "\n"
		for (s in cnt) printf "%9d %5.1f%%  %s\n", cnt[s], 100 * cnt[s] / tot, s | "sort -rn | head -25"
	}' - "$trace"
