# SPDX-License-Identifier: MIT
# Multiboot test kernels for `vtimer run --kernel`. Plain `as --32` and
# `ld -m elf_i386`, which every binutils has, so no gcc multilib is needed.
# hello.elf takes the ELF path, hello.bin the header's address fields and
# hello64.elf must be refused.
MB_OUT := $(BUILD)/tests/multiboot
MB_KERNELS := $(MB_OUT)/hello.elf $(MB_OUT)/hello.bin $(MB_OUT)/hello64.elf
MB_LDFLAGS := -m elf_i386 -T tests/multiboot/hello.ld --build-id=none -z noexecstack
OBJCOPY ?= objcopy

$(MB_OUT)/hello.o: tests/multiboot/hello.s
	@mkdir -p $(dir $@)
	$(call say,AS,$<)$(AS) --32 -o $@ $<

$(MB_OUT)/hello-aout.o: tests/multiboot/hello.s
	@mkdir -p $(dir $@)
	$(call say,AS,$@)$(AS) --32 --defsym AOUT=1 -o $@ $<

$(MB_OUT)/%.elf: $(MB_OUT)/%.o tests/multiboot/hello.ld
	$(call say,LD,$@)$(LD) $(MB_LDFLAGS) -o $@ $<

$(MB_OUT)/hello.bin: $(MB_OUT)/hello-aout.elf
	$(call say,OBJCOPY,$@)$(OBJCOPY) -O binary $< $@

$(MB_OUT)/hello64.elf: $(MB_OUT)/hello.elf
	$(call say,OBJCOPY,$@)$(OBJCOPY) -O elf64-x86-64 $< $@

# The script is a source file: naming the kernels here makes `make test`
# build them before running it.
tests/multiboot/test.sh: $(MB_KERNELS)
TEST_BINS += tests/multiboot/test.sh
