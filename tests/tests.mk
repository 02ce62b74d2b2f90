# SPDX-License-Identifier: MIT
# `make test`: unit tests (cmocka), guest integration tests (cmocka driving
# build/vtimer), multiboot test kernel, models (spin). Each part has its own
# fragment; this file only strings them together.
TEST_BINS :=
include $(wildcard tests/*/*.mk)

test: all $(TEST_BINS)
	$(Q)tests/run-all.sh $(TEST_BINS)
