# SPDX-License-Identifier: MIT
# `vtimer bench engine` runs without KVM: its table and its own checks.
TEST_BINS += tests/bench/engine.sh
# `vtimer bench host-floor` runs cyclictest on the host: no KVM either.
TEST_BINS += tests/bench/hostfloor.sh
