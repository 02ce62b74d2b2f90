# SPDX-License-Identifier: MIT
# The guest's timer code built for the host (GUEST_HOSTED) and run on a
# simulated CPU and host (tests/guest/sim.c). No KVM needed. Also built
# with each sanitizer (tests/sanitize/: ASan + UBSan, TSan) and run there.
GSIM_SRCS := tests/guest/test_guest_timer.c tests/guest/sim.c \
	guest/kernel/timer.c guest/kernel/clockevent.c guest/pv/pv.c guest/pv/pv_eoi.c
GSIM_DEPS := $(GSIM_SRCS) tests/guest/sim.h guest/kernel/kernel.h guest/arch/x86/x86.h \
	$(wildcard include/vtimer/*.h)
GSIM_FLAGS := -Wno-missing-prototypes -DGUEST_HOSTED
GSIM_BIN := $(BUILD)/tests/guest/test_guest_timer
TEST_BINS += $(GSIM_BIN)

$(GSIM_BIN): $(GSIM_DEPS)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(filter-out -MMD -MP,$(HOST_CFLAGS)) $(GSIM_FLAGS) -o $@ \
		$(GSIM_SRCS) -lcmocka

build-%/tests/guest/test_guest_timer: $(GSIM_DEPS)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(filter-out -MMD -MP,$(call SAN_CFLAGS,$*)) $(GSIM_FLAGS) \
		-o $@ $(GSIM_SRCS) -lcmocka

tests/sanitize/run.sh: build-asan/tests/guest/test_guest_timer build-tsan/tests/guest/test_guest_timer
san-build-asan: build-asan/tests/guest/test_guest_timer
san-build-tsan: build-tsan/tests/guest/test_guest_timer
