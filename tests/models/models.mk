# SPDX-License-Identifier: MIT
# Models checked with spin (tests/models/test.sh).
TEST_BINS += tests/models/test.sh
