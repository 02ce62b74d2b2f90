# SPDX-License-Identifier: MIT
# libFuzzer harnesses (clang, ASan + UBSan) for the guest-facing input paths
# that run without KVM: the vtimer image loader, the multiboot loader and the
# timer engine's MSR/page entry points. Host sources are compiled again with
# clang into $(FUZZ_OUT)/src and archived, so each harness links only the
# objects it needs.
#   make fuzz [FUZZ_SECONDS=60]   each harness for N seconds, exec counts
#   make test                     tests/fuzz/run.sh: corpus + FUZZ_TEST_SECONDS
FUZZ_CC ?= clang
FUZZ_OUT := $(BUILD)/fuzz
FUZZ_HARNESSES := loader multiboot vtimer
FUZZ_BINS := $(FUZZ_HARNESSES:%=$(FUZZ_OUT)/fuzz_%)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer $(WARN) -Iinclude -Isrc \
	-D_GNU_SOURCE -pthread -MMD -MP $(FUZZ_SAN)
FUZZ_OBJS := $(LIB_OBJS:$(BUILD)/src/%.o=$(FUZZ_OUT)/src/%.o)
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 10
# y when clang can link a libFuzzer program (checked only for `make test`):
# otherwise the harnesses are not built and run.sh skips.
ifneq ($(filter test,$(MAKECMDGOALS)),)
FUZZ_OK := $(shell echo 'int LLVMFuzzerTestOneInput(const char *d, long n){return 0;}' | \
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -x c -o /dev/null - >/dev/null 2>&1 && echo y)
endif

$(FUZZ_OUT)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$<)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_OUT)/libvtimer.a: $(FUZZ_OBJS)
	$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OUT)/libvtimer.a
	$(call say,FUZZLD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_OUT)/libvtimer.a $(HOST_LIBS)

ifeq ($(FUZZ_OK),y)
tests/fuzz/run.sh: $(FUZZ_BINS)
endif
TEST_BINS += tests/fuzz/run.sh

fuzz: $(FUZZ_BINS)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh --long

fuzz-build: $(FUZZ_BINS)

.PHONY: fuzz fuzz-build
-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
