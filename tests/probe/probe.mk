# SPDX-License-Identifier: MIT
# `vtimer probe` against this host's real /dev/kvm; a TAP script, no build step.
TEST_BINS += tests/probe/test.sh
