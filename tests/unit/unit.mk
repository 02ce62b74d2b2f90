# SPDX-License-Identifier: MIT
# Unit tests (cmocka) for the host logic: one binary per tests/unit/test_*.c,
# linked against every host object except main.o. No KVM needed.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
TEST_BINS += $(UNIT_BINS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(HOST_CFLAGS) -Isrc -o $@ $< $(LIB_OBJS) -lcmocka $(HOST_LIBS)

unit: $(UNIT_BINS)
	$(Q)tests/run-all.sh $(UNIT_BINS)

.PHONY: unit
-include $(UNIT_BINS:=.d)
