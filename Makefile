# SPDX-License-Identifier: MIT
# vtimer: `make` builds build/vtimer and build/guest.elf; `make test` runs every
# test; `make run` runs the main job. Quiet unless V=1; WERROR=0 relaxes -Werror.
# `make fuzz` runs the libFuzzer harnesses (tests/fuzz/fuzz.mk); `make test-asan`
# and `make test-tsan` rerun the tests on sanitizer builds (tests/sanitize/).

V ?= 0
WERROR ?= 1
Q := $(if $(filter 1,$(V)),,@)
say = $(if $(filter 1,$(V)),,@printf '  %-7s %s\n' $(1) $(2);)

CC ?= cc
BUILD := build
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
WARN += $(if $(filter 1,$(WERROR)),-Werror,)

HOST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -D_GNU_SOURCE -pthread -MMD -MP
HOST_LIBS := -ljansson -pthread

GUEST_CFLAGS := -std=gnu11 -O2 -flto $(WARN) -Wno-missing-prototypes -Iinclude -ffreestanding \
	-fno-builtin -nostdlib -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-mno-red-zone -mno-sse -mno-mmx -mno-sse2 -mno-avx -mgeneral-regs-only -fno-pic \
	-fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
	-mcmodel=small -MMD -MP
GUEST_LDFLAGS := -O2 -flto -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
	-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

HOST_SRCS := $(wildcard src/*.c src/kvm/*.c src/machine/*.c src/timer/*.c src/bench/*.c \
	src/cli/*.c)
HOST_OBJS := $(HOST_SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(filter-out $(BUILD)/src/cli/main.o,$(HOST_OBJS))

GUEST_SRCS := $(wildcard guest/arch/x86/*.S guest/arch/x86/*.c guest/kernel/*.c guest/pv/*.c \
	guest/workloads/*.c)
GUEST_OBJS := $(patsubst %,$(BUILD)/%.o,$(basename $(GUEST_SRCS)))

# Debian packages the build and the tests need; installed when root, else
# named. This runs while the Makefile is read, before any rule: a parallel
# build cannot compile ahead of the install, and the checks made at parse
# time (clang's libFuzzer in tests/fuzz/fuzz.mk) see the installed tools.
BUILD_PKGS := libjansson-dev
TEST_PKGS := libcmocka-dev spin clang libclang-rt-14-dev rt-tests
RUN_PKGS := gnuplot-nox rt-tests
GOALS := $(or $(MAKECMDGOALS),all)
ifneq ($(filter-out clean,$(GOALS)),)
DEPS := $(BUILD_PKGS) \
	$(if $(filter test test-asan test-tsan fuzz fuzz-build,$(GOALS)),$(TEST_PKGS)) \
	$(if $(filter run,$(GOALS)),$(RUN_PKGS))
ifneq ($(shell scripts/deps.sh $(DEPS) >&2 && echo ok),ok)
$(error vtimer: the packages this build needs are missing (see above))
endif
endif

all: $(BUILD)/vtimer $(BUILD)/guest.elf

$(BUILD)/vtimer: $(HOST_OBJS)
	$(call say,LD,$@)$(CC) -o $@ $^ $(HOST_LIBS)

$(BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(HOST_CFLAGS) -c -o $@ $<

$(BUILD)/guest.elf: $(GUEST_OBJS) guest/guest.ld
	$(call say,LD,$@)$(CC) $(GUEST_LDFLAGS) -T guest/guest.ld -o $@ $(GUEST_OBJS)

$(BUILD)/guest/%.o: guest/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/guest/%.o: guest/%.S
	@mkdir -p $(dir $@)
	$(call say,AS,$<)$(CC) $(GUEST_CFLAGS) -c -o $@ $<

include tests/tests.mk

deps-build:
	$(Q)scripts/deps.sh $(BUILD_PKGS)
deps-test:
	$(Q)scripts/deps.sh $(BUILD_PKGS) $(TEST_PKGS)

deps-run:
	$(Q)scripts/deps.sh $(BUILD_PKGS) $(RUN_PKGS)

# The main job: every preset on every workload, side by side, with the
# series' tables and the plots in build/bench/.
run: all
	$(BUILD)/vtimer bench --quick --out=$(BUILD)/bench

clean:
	rm -rf $(BUILD) build-asan build-tsan

.PHONY: all run clean deps-build deps-test deps-run test
-include $(HOST_OBJS:.o=.d) $(GUEST_OBJS:.o=.d)
