# SPDX-License-Identifier: MIT
# Guest integration tests: cmocka programs that drive build/vtimer.
INTEG_BINS := $(BUILD)/tests/integration/test_guest $(BUILD)/tests/integration/test_modes \
	$(BUILD)/tests/integration/test_workloads
TEST_BINS += $(INTEG_BINS)

$(BUILD)/tests/integration/test_%: tests/integration/test_%.c tests/integration/harness.c \
		tests/integration/harness.h
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(HOST_CFLAGS) -o $@ $< tests/integration/harness.c -lcmocka -ljansson
