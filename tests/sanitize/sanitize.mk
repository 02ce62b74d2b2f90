# SPDX-License-Identifier: MIT
# Sanitizer builds of the host: build-asan/ (ASan + UBSan) and build-tsan/
# (TSan), each with its own vtimer, a copy of $(BUILD)/guest.elf next to it
# (where vtimer looks by default), the unit tests and the integration
# programs. build/ is not touched.
#   make test-asan / test-tsan   every unit and integration test (the latter
#                                drive build-*/vtimer via VTIMER_TEST_BIN),
#                                and the multiboot and probe scripts
#   make test                    tests/sanitize/run.sh: the sanitized unit
#                                and integration tests, one TAP case per
#                                program (SANITIZE_INTEGRATION=0: unit only)
SAN_NAMES := asan tsan
SAN_asan := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# gcc warns that TSan does not model atomic_thread_fence (the PV page's
# store-fence-load protocol, checked by tests/models/lazy.pml instead).
SAN_tsan := -fsanitize=thread -Wno-tsan
SAN_CFLAGS = $(filter-out -O2,$(HOST_CFLAGS)) -O1 $(SAN_$(1))

# $(1): asan or tsan
define san_rules
SAN_OBJS_$(1) := $$(LIB_OBJS:$(BUILD)/%=build-$(1)/%)
SAN_UNIT_$(1) := $$(patsubst tests/%.c,build-$(1)/tests/%,$$(wildcard tests/unit/test_*.c))
SAN_INTEG_$(1) := $$(patsubst tests/%.c,build-$(1)/tests/%,\
	$$(wildcard tests/integration/test_*.c))

build-$(1)/src/%.o: src/%.c
	@mkdir -p $$(dir $$@)
	$$(call say,CC-$(1),$$<)$$(CC) $$(call SAN_CFLAGS,$(1)) -c -o $$@ $$<

build-$(1)/vtimer: $$(SAN_OBJS_$(1)) build-$(1)/src/cli/main.o
	$$(call say,LD,$$@)$$(CC) $$(SAN_$(1)) -o $$@ $$^ $$(HOST_LIBS)

build-$(1)/guest.elf: $(BUILD)/guest.elf
	$$(Q)cp $$< $$@

build-$(1)/tests/unit/%: tests/unit/%.c $$(SAN_OBJS_$(1))
	@mkdir -p $$(dir $$@)
	$$(call say,CCLD,$$@)$$(CC) $$(call SAN_CFLAGS,$(1)) -Isrc -o $$@ $$< \
		$$(SAN_OBJS_$(1)) -lcmocka $$(HOST_LIBS)

build-$(1)/tests/integration/test_%: tests/integration/test_%.c tests/integration/harness.c \
		tests/integration/harness.h
	@mkdir -p $$(dir $$@)
	$$(call say,CCLD,$$@)$$(CC) $$(call SAN_CFLAGS,$(1)) -o $$@ $$< \
		tests/integration/harness.c -lcmocka -ljansson

san-build-$(1): build-$(1)/vtimer build-$(1)/guest.elf $$(SAN_UNIT_$(1)) $$(SAN_INTEG_$(1))

test-$(1): all san-build-$(1) $(MB_KERNELS)
	$$(Q)SAN=$(1) tests/sanitize/run.sh --all

.PHONY: san-build-$(1) test-$(1)
-include $$(SAN_OBJS_$(1):.o=.d) build-$(1)/src/cli/main.d $$(SAN_UNIT_$(1):=.d)
endef
$(foreach s,$(SAN_NAMES),$(eval $(call san_rules,$(s))))

# make test also runs the integration programs on the sanitizer builds (they
# skip where /dev/kvm is missing); SANITIZE_INTEGRATION=0 leaves them out.
SANITIZE_INTEGRATION ?= 1
export SANITIZE_INTEGRATION
tests/sanitize/run.sh: $(foreach s,$(SAN_NAMES),$(SAN_UNIT_$(s)) \
	$(if $(filter 1,$(SANITIZE_INTEGRATION)),san-build-$(s)))
TEST_BINS += tests/sanitize/run.sh
