# SPDX-License-Identifier: MIT
# `vtimer bench engine` runs without KVM: its table and its own checks.
TEST_BINS += tests/bench/engine.sh
