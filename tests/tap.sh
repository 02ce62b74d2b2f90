# SPDX-License-Identifier: MIT
# Shared by the TAP test scripts (sourced, from the tree's top): a scratch
# directory $T removed on exit, the case counter and result(), which prints
# "ok N - what" or "not ok N - what" followed by $T/out and $T/err as TAP
# comments. A script ends with: [ "$failed" = 0 ]
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
n=0
failed=0

# result STATUS DESCRIPTION
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		sed 's/^/# /' "$T/out" "$T/err" 2>/dev/null
	fi
}
