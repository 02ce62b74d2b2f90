#!/bin/sh
# SPDX-License-Identifier: MIT
# `vtimer run --kernel`: our multiboot kernels boot QEMU-style (isa-debug-exit
# status, serial output, fw_cfg, multiboot info), and every malformed image
# is refused with one "vtimer: " line and a plain non-zero exit. TAP output.
cd "$(dirname "$0")/../.." || exit 1
VT=${VT:-build/vtimer}
K=build/tests/multiboot

if [ ! -c /dev/kvm ]; then
	echo "1..0 # SKIP no /dev/kvm"
	exit 0
fi
for f in $VT $K/hello.elf $K/hello.bin $K/hello64.elf; do
	if [ ! -f "$f" ]; then
		echo "Bail out! $f is missing: run make test"
		exit 1
	fi
done

. tests/tap.sh

# Runs vtimer with the given arguments; status in $rc, output in $T/out, $T/err.
vt() {
	"$VT" run --timeout=60 "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# The guest's line: fw_cfg as read, and the command line "FILE ARGS" as QEMU
# builds it (kvm-unit-tests takes FILE as argv[0]).
hello() {
	grep -qxF "multiboot hello fwcfg=QEMU cpus=2 cmdline=[$1 a b c]" "$2"
}

# No "vtimer: " line (an error) on stderr: only the run's report, which
# starts with the timer line and ends with the exit status.
clean_stderr() {
	! grep -q '^vtimer: ' "$T/err" && head -n 1 "$T/err" | grep -q '^timer=' &&
		tail -n 1 "$T/err" | grep -q "^wall .* exit status $rc\$"
}

# A successful QEMU-style run: (0 << 1) | 1, no error, the hello line.
boots() {
	desc=$1
	shift
	vt "$@"
	ok=1
	[ "$rc" = 1 ] && clean_stderr && hello "${1#--kernel=}" "$T/out" && ok=0
	result $ok "$desc (status $rc)"
}

# A refused image: one "vtimer: " line on stderr, non-zero status, no signal.
refused() {
	desc=$1
	shift
	vt "$@"
	ok=1
	[ "$rc" = 64 ] && [ "$(wc -l <"$T/err")" = 1 ] &&
		grep -q '^vtimer: ' "$T/err" && ok=0
	result $ok "$desc refused: $(cat "$T/err") (status $rc)"
}

boots "ELF32 kernel boots with --smp=2 --append" --kernel=$K/hello.elf --smp=2 --append="a b c"
# The kernel found the PM timer through ACPI (RSDP scan, RSDT, FADT) at
# QEMU's port 0x608, measured its rate against the TSC (CPUID 0x40000010)
# within 1% of 3.579545 MHz, and took 5 TSC-deadline interrupts (it exits
# 8, 9, 10 or 11 otherwise).
grep -q '^acpi pmtimer port=1544 rate=[0-9]* tries=[1-5] deadlines=5$' "$T/out"
result $? "ACPI PM timer found and within 1% of 3.579545 MHz: $(grep '^acpi' "$T/out")"
# kvm-unit-tests-style lines: 5 "latency: N" (TSC cycles, deadline to
# handler) and "SUMMARY: 1 tests", picked up by the report and the JSON; an
# unmodified kernel's interrupts are never early either.
grep -q '^kernel latency: 5 lines (TSC cycles at [0-9]* kHz, as ns): min [0-9]* .* early 0, dropped 0$' "$T/err" &&
	grep -qxF 'kernel summary: 1 tests, 0 unexpected failures, 0 expected failures, 0 skipped' "$T/err"
result $? "latency:/SUMMARY: lines in the report: $(grep '^kernel ' "$T/err" | tr '\n' ' ')"
# --cpu: the kernel sees exactly the bits asked turned off, the rest as by
# default (x2APIC bit 21 of leaf 1 ECX, PV EOI bit 6 of KVM's 0x40000001).
def=$(grep '^cpuid ' "$T/out")
ecx=$(echo "$def" | sed -n 's/.*1\.ecx=\([0-9]*\).*/\1/p')
kvm=$(echo "$def" | sed -n 's/.*40000001\.eax=\([0-9]*\).*/\1/p')
[ -n "$ecx" ] && [ $(((ecx >> 21) & 1)) = 1 ] && [ $(((ecx >> 24) & 1)) = 1 ]
result $? "default CPUID: x2apic and tsc-deadline on: $def"
boots "--cpu=-x2apic,-kvm-pv-eoi" --kernel=$K/hello.elf --smp=2 --append="a b c" \
	--cpu=-x2apic,-kvm-pv-eoi
want="cpuid 1.ecx=$((ecx & ~(1 << 21))) 40000001.eax=$((kvm & ~(1 << 6)))"
grep -qxF "$want" "$T/out" && grep -q '^timer=kvm .* cpu=-x2apic,-kvm-pv-eoi$' "$T/err"
result $? "--cpu=-x2apic,-kvm-pv-eoi seen by the guest: $(grep '^cpuid ' "$T/out") (want $want)"
refused "--cpu=+no-such-feature" --kernel=$K/hello.elf --cpu=+no-such-feature
refused "--cpu=-x2apic without --kernel" --cpu=-x2apic
boots "a.out-kludge kernel boots" --kernel=$K/hello.bin --smp=2 --append="a b c"

vt --kernel=$K/hello.elf --smp=2 --append="a b c" --console="$T/console"
ok=1
[ "$rc" = 1 ] && [ ! -s "$T/out" ] &&
	hello $K/hello.elf "$T/console" && ok=0
result $ok "--console=FILE gets the serial output"

# Every mode that needs nothing from the guest runs an unmodified kernel,
# with the engine's counters in the report; the others are refused.
boots "--timer=exitless" --kernel=$K/hello.elf --smp=2 --append="a b c" --timer=exitless \
	--json="$T/run.json"
grep -q '^host engine: msr exits=5 injections=5 ' "$T/err"
result $? "--timer=exitless: the engine took the kernel's 5 deadlines: $(grep '^host engine' "$T/err")"
# The first "host" object in the JSON is the run's total.
msr=$(grep -m1 '"msr_exits"' "$T/run.json" | tr -dc 0-9)
inj=$(grep -m1 '"injections"' "$T/run.json" | tr -dc 0-9)
[ "${msr:-0}" -gt 0 ] && [ "${inj:-0}" -gt 0 ] && grep -q '"workload": "kernel"' "$T/run.json"
result $? "--timer=exitless JSON: host.msr_exits=$msr injections=$inj"
# Under exitless too, every one of the kernel's interrupts came at or after its deadline.
grep -q '^kernel latency: 5 lines .* early 0, dropped 0$' "$T/err" &&
	grep -q '"kernel_output": {' "$T/run.json" && grep -q '"early": 0' "$T/run.json"
result $? "--timer=exitless: kernel latencies never early: $(grep '^kernel latency' "$T/err")"
boots "--program=msr --deliver=vcpu" --kernel=$K/hello.elf --smp=2 --append="a b c" \
	--program=msr --deliver=vcpu
for t in lazy pvtimer hybrid apicv-model; do
	refused "--timer=$t (needs guest support)" --kernel=$K/hello.elf --timer=$t
done

# The kernel checks the command line itself: exit value 4 -> status 9.
vt --kernel=$K/hello.elf --append="a b"
ok=1
[ "$rc" = 9 ] && grep -qF "cpus=1 cmdline=[$K/hello.elf a b]" "$T/out" && ok=0
result $ok "wrong command line is seen by the guest (status $rc)"

head -c 6000 /dev/zero | tr '\0' 'x' >"$T/garbage"
: >"$T/empty"
head -c 100 $K/hello.elf >"$T/short.elf"
# Keeps the multiboot header (file offset 0x1000) but cuts the text segment.
head -c 4200 $K/hello.elf >"$T/cut.elf"
head -c 2000 $K/hello.bin >"$T/cut.bin"

refused "garbage file" --kernel="$T/garbage"
refused "empty file" --kernel="$T/empty"
refused "ELF truncated before the header" --kernel="$T/short.elf"
refused "ELF truncated inside a segment" --kernel="$T/cut.elf"
refused "flat image shorter than load_end_addr" --kernel="$T/cut.bin"
refused "ELF64 with a multiboot header" --kernel=$K/hello64.elf
refused "vtimer's own ELF64 guest" --kernel=build/guest.elf
refused "missing file" --kernel="$T/does-not-exist"

echo "1..$n"
[ "$failed" = 0 ]
