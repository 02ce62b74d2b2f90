#!/bin/bash
# SPDX-License-Identifier: MIT
# nested-tcg.sh: run a command against a real /dev/kvm on a machine that has
# none (as some machines of this kind: their kernel is itself a PVM guest and
# kvm_pvm will not bind). It boots Debian's kernel under QEMU's software
# emulation (TCG) with an emulated AMD SVM CPU, loads kvm_amd there, and runs
# the command inside with this tree's build/ at the same path.
#
# For functional checks only: under TCG an exit costs ~200-300 us and timers
# are late by tens of ms, so latencies and host-cost figures mean nothing, and
# with vGIF emulated (-cpu max) QEMU 7.2 sometimes loses or hangs L2 timer
# interrupts (hence the default -cpu max,-vgif; 4-vCPU runs with the tick on
# still lose some). Developers' tool: `make test` does not use it.
#
# usage: scripts/nested-tcg.sh [-s SRC] [-f FILE[:DEST]]... [-c CPU] [-m MEM] [-t SECS] 'command'
#   -s SRC    project tree whose build/ is copied (default: this tree); it
#             appears at the same absolute path inside L1 and the command
#             runs with cwd = SRC (so relative build/vtimer works)
#   -f FILE   extra file to add (at the same path, or DEST); ELF shared-lib
#             deps (ldd) are added automatically. /tmp inside is a tmpfs.
#   -c CPU    QEMU -cpu model (default: max,-vgif)
#   -a ARGS   extra qemu-system-x86_64 arguments (word-split)
#   -m MEM    L1 memory (default 2G)
#   -t SECS   kill QEMU after SECS (default 900)
#   -k ARGS   extra kvm_amd module args (default: "nested=0")
#   -v        show full kernel boot log
# Prints the command's output; exit status = the command's exit status
# (or 124 on timeout, 125 if /dev/kvm could not be set up).
# Needs (installed when missing, as root): qemu-system-x86, linux-image-amd64,
# busybox-static, cpio, kmod, file, bc.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd) CPU=max,-vgif MEM=2G TMO=900 KARGS="nested=0" VERBOSE=0
EXTRA=() QARGS=
while getopts "s:f:c:m:t:k:a:v" o; do
	case $o in
	s) SRC=$(realpath "$OPTARG") ;;
	f) EXTRA+=("$OPTARG") ;;
	c) CPU=$OPTARG ;;
	a) QARGS=$OPTARG ;;
	m) MEM=$OPTARG ;;
	t) TMO=$OPTARG ;;
	k) KARGS=$OPTARG ;;
	v) VERBOSE=1 ;;
	*) sed -n 2,22p "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n 2,22p "$0"; exit 2; }
CMD="$*"

need=
for c in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static cpio:cpio \
	 modprobe:kmod file:file bc:bc; do
	command -v "${c%%:*}" >/dev/null || need="$need ${c#*:}"
done
ls /lib/modules 2>/dev/null | grep -q amd64 || need="$need linux-image-amd64"
if [ -n "$need" ]; then
	echo "nested-tcg: installing$need" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null ||
		{ echo "nested-tcg: cannot install$need (run apt-get update?)" >&2; exit 125; }
fi
KVER=$(ls /lib/modules | grep -m1 amd64)
KERNEL=/boot/vmlinuz-$KVER
W=$(mktemp -d /tmp/nested-tcg.XXXXXX)
R=$W/root
mkdir -p $R/{bin,sbin,dev,proc,sys,tmp,mods,etc,root}
cp /bin/busybox $R/bin/busybox
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox $R/bin/$a; done

# kvm_amd and deps, in load order
modprobe -S $KVER --show-depends kvm_amd | awk '$1=="insmod"{print $2}' > $W/mods
i=0
while read -r m; do
	i=$((i + 1))
	n=$(printf '%02d-%s' $i "$(basename "${m%.xz}")")
	case $m in *.xz) xz -dc "$m" > $R/mods/$n ;; *) cp "$m" $R/mods/$n ;; esac
done < $W/mods

addfile() { # src [dest]
	local s=$1 d=${2:-$1}
	mkdir -p "$R$(dirname "$d")"
	cp -a "$s" "$R$d"
	if [ -f "$s" ] && file -L "$s" | grep -q 'ELF.*dynamic'; then
		ldd "$s" | grep -o '/[^ ]*' | while read -r l; do
			[ -e "$R$l" ] || { mkdir -p "$R$(dirname "$l")"; cp -L "$l" "$R$l"; }
		done
	fi
}
mkdir -p "$R$SRC"
cp -a "$SRC/build" "$R$SRC/"
find "$R$SRC/build" -type f -perm -u+x | while read -r f; do
	file "$f" | grep -q 'ELF.*dynamic' || continue
	ldd "$f" | grep -o '/[^ ]*' | while read -r l; do
		[ -e "$R$l" ] || { mkdir -p "$R$(dirname "$l")"; cp -L "$l" "$R$l"; }
	done
done
for e in "${EXTRA[@]+"${EXTRA[@]}"}"; do
	case $e in *:*) addfile "${e%%:*}" "${e#*:}" ;; *) addfile "$(realpath "$e")" ;; esac
done

printf '%s\n' "$CMD" > $R/cmd.sh
cat > $R/init <<EOF
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin HOME=/root
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
for m in /mods/*.ko; do
	case \$m in *kvm-amd*) insmod \$m $KARGS ;; *) insmod \$m ;; esac
done
if [ ! -c /dev/kvm ]; then
	echo "@@L1 no /dev/kvm"; dmesg | grep -i -E 'kvm|svm' | tail -20
	echo "@@L1-EXIT 125"; poweroff -f
fi
echo "@@L1-READY \$(cut -d' ' -f1 /proc/uptime)"
cd $SRC
sh /cmd.sh 2>&1
rc=\$?
echo "@@L1-EXIT \$rc \$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
EOF
chmod +x $R/init
(cd $R && find . | cpio -o -H newc 2>/dev/null | gzip -1) > $W/initrd.gz
rm -rf $R

T0=$(date +%s.%N)
timeout $TMO qemu-system-x86_64 -machine q35 -accel tcg,thread=multi -smp 2 -m $MEM \
	-cpu $CPU $QARGS -nographic -no-reboot -monitor none -serial stdio \
	-kernel $KERNEL -initrd $W/initrd.gz \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" > $W/log 2>&1
qrc=$?
T1=$(date +%s.%N)
tr -d '\r' < $W/log > $W/log.txt
if [ $VERBOSE = 1 ]; then cat $W/log.txt; else
	sed -n '/@@L1-READY/,/@@L1-EXIT/{/@@L1-/!p}' $W/log.txt
	grep -q '@@L1-READY' $W/log.txt || cat $W/log.txt
fi
rc=$(sed -n 's/.*@@L1-EXIT \([0-9]*\).*/\1/p' $W/log.txt | tail -1)
ready=$(sed -n 's/.*@@L1-READY \(.*\)/\1/p' $W/log.txt)
end=$(sed -n 's/.*@@L1-EXIT [0-9]* \(.*\)/\1/p' $W/log.txt)
[ -n "$rc" ] || rc=124
echo "[nested-tcg] exit=$rc wall=$(echo "$T1 - $T0" | bc)s L1-uptime-at-ready=${ready:-?}s at-exit=${end:-?}s qemu-rc=$qrc log=$W/log.txt" >&2
exit $rc
