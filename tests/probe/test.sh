#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP checks of `vtimer probe` on the real /dev/kvm. Run from anywhere;
# VTIMER overrides the binary (default: build/vtimer of this tree).
root=$(cd "$(dirname "$0")/../.." && pwd)
vtimer=${VTIMER:-$root/build/vtimer}

if [ ! -c /dev/kvm ]; then
	echo "1..0 # SKIP no /dev/kvm"
	exit 0
fi
if [ ! -x "$vtimer" ]; then
	echo "Bail out! $vtimer is not built (run make)"
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for line in "$@"; do
		echo "#   $line"
	done
}

# check "description" command...: ok if the command succeeds.
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# A JSON validator if the host has one; otherwise only the shape is checked,
# which is why the keys are also grepped one by one below.
json_valid() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -m json.tool "$1" >/dev/null
	elif command -v jq >/dev/null 2>&1; then
		jq -e . "$1" >/dev/null
	else
		awk 'BEGIN { RS = "\001" }
		     { gsub(/\\./, ""); gsub(/"[^"]*"/, "\"\"")
		       o = gsub(/[{[]/, "&"); c = gsub(/[]}]/, "&")
		       good = o == c && o > 0 && $0 ~ /^[ \t\n]*\{/ && $0 ~ /\}[ \t\n]*$/ }
		     END { exit !good }' "$1"
	fi
}

echo "1..14"

"$vtimer" probe >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ]; then
	ok "probe exits 0"
else
	not_ok "probe exits 0" "exit $rc" "$(cat "$tmp/err")"
fi
re='^guest CPL0: \(emulated\|native\), ~[0-9.]* ns/instruction (measured)$'
verdict=$(sed -n "s#$re#\\1#p" "$tmp/out")
if [ -n "$verdict" ]; then
	ok "probe states the measured CPL0 verdict ($verdict)"
else
	not_ok "probe states the measured CPL0 verdict" "$(grep 'CPL0' "$tmp/out")"
fi
check "probe reports the KVM API version" grep -q '^KVM API version: 12$' "$tmp/out"
check "probe reports the TSC rate" grep -q '^TSC: [0-9][0-9]* kHz' "$tmp/out"
check "probe lists KVM_CAP_TSC_DEADLINE_TIMER" grep -q '^  KVM_CAP_TSC_DEADLINE_TIMER ' "$tmp/out"
re='^KVM PV EOI: \(engages\|rarely engages\|does not engage\): [0-9]* of [0-9]* EOIs without a write\|^KVM PV EOI: not offered'
check "probe states whether KVM PV EOI engages ($(sed -n 's/^KVM PV EOI: //p' "$tmp/out"))" \
	grep -q "$re" "$tmp/out"

"$vtimer" probe --json="$tmp/p.json" >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && [ -s "$tmp/p.json" ]; then
	ok "probe --json=FILE exits 0 and writes FILE"
else
	not_ok "probe --json=FILE exits 0 and writes FILE" "exit $rc" "$(cat "$tmp/err")"
fi
check "the JSON is valid" json_valid "$tmp/p.json"
missing=
for key in '"api_version": [0-9]' '"flavour": "[a-z]' '"cpl0_emulated": \(true\|false\)' \
	   '"tsc_khz": [0-9]'; do
	grep -q "^  $key" "$tmp/p.json" || missing="$missing $key"
done
if [ -z "$missing" ]; then
	ok "the JSON has api_version, flavour, cpl0_emulated, tsc_khz"
else
	not_ok "the JSON has api_version, flavour, cpl0_emulated, tsc_khz" "missing:$missing"
fi

check "the JSON says whether PV EOI engages" \
	grep -q '^    "engages": \(true\|false\)' "$tmp/p.json"

# Where the guest enabled PV EOI, a host thread watched the word: a count,
# and where it engaged, at least one set seen (an elided EOI needs one).
if grep -q '^    "enabled": true' "$tmp/p.json"; then
	if grep -q '^    "engages": true' "$tmp/p.json"; then
		check "the probe saw KVM set the PV EOI bit where it engages" \
			grep -q '^    "bit_sets": [1-9]' "$tmp/p.json"
	else
		check "the probe counted KVM's PV EOI bit sets where it does not engage" \
			grep -q '^    "bit_sets": [0-9]' "$tmp/p.json"
	fi
else
	skip "the probe counted KVM's PV EOI bit sets" "PV EOI not enabled here"
fi

if [ -d /sys/module/kvm_pvm ]; then
	check "on a PVM host cpl0_emulated is true" grep -q '^  "cpl0_emulated": true' "$tmp/p.json"
else
	skip "on a PVM host cpl0_emulated is true" "kvm_pvm not loaded"
fi

"$vtimer" probe --no-such-flag >"$tmp/out" 2>"$tmp/err"
rc=$?
lines=$(wc -l <"$tmp/err")
if [ $rc != 0 ] && [ "$lines" = 1 ] && grep -q '^vtimer: ' "$tmp/err" && [ ! -s "$tmp/out" ]; then
	ok "a bad flag exits non-zero with one 'vtimer: ' line"
else
	not_ok "a bad flag exits non-zero with one 'vtimer: ' line" "exit $rc" "$(cat "$tmp/err")"
fi

"$vtimer" probe --help >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && grep -q '^usage: vtimer probe' "$tmp/out" &&
   grep -q -- '--json=FILE' "$tmp/out"; then
	ok "probe --help prints its usage"
else
	not_ok "probe --help prints its usage" "exit $rc"
fi

[ "$failed" = 0 ]
