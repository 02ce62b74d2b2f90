# SPDX-License-Identifier: MIT
# Guest integration tests: a cmocka program that drives build/vtimer.
INTEG_BIN := $(BUILD)/tests/integration/test_guest
TEST_BINS += $(INTEG_BIN)

$(INTEG_BIN): tests/integration/test_guest.c tests/integration/harness.c \
		tests/integration/harness.h
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(HOST_CFLAGS) -o $@ tests/integration/test_guest.c \
		tests/integration/harness.c -lcmocka -ljansson
