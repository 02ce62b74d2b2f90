#!/bin/sh
# SPDX-License-Identifier: MIT
# Makes sure the named Debian packages are installed: installs them when run
# as root (apt-get update once), otherwise names them in one line and fails.
set -e
missing=
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "vtimer: missing packages:$missing (run: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "  APT     installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq $missing >/dev/null
