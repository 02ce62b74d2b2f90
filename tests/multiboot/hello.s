/* SPDX-License-Identifier: MIT */
/*
 * A minimal multiboot kernel for vtimer's --kernel path. Assembled with
 * `as --32` so it builds without gcc multilib. Built twice: as an ELF32
 * (the kvm-unit-tests path) and, with --defsym AOUT=1, as a flat image that
 * relies on the header's address fields.
 *
 * It prints what it learned to the serial port, checks the boot protocol
 * and exits through isa-debug-exit: 0 on success, else the failing check.
 * Every instruction costs ~1 us on an emulating host, so it stays short.
 */
	.set	MB_MAGIC, 0x1BADB002
	.set	MB_BOOT_MAGIC, 0x2BADB002
	.ifdef	AOUT
	.set	MB_FLAGS, 0x00010002	/* address fields valid, memory info */
	.else
	.set	MB_FLAGS, 0x00000002
	.endif

	.set	SERIAL, 0x3f8
	.set	DEBUG_EXIT, 0xf4
	.set	FW_CFG_SEL, 0x510
	.set	FW_CFG_DATA, 0x511

	/* Exit codes, one per check, so a failure names itself. */
	.set	E_MAGIC, 2
	.set	E_FLAGS, 3
	.set	E_CMDLINE, 4
	.set	E_FWCFG, 5
	.set	E_MEM, 6
	.set	E_DATA, 7

	.section .mbheader, "a"
	.balign	4
mb_header:
	.long	MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
	.ifdef	AOUT
	.long	mb_header, __image_start, _edata, _end, _start
	.endif

	.text
	.code32
	.globl	_start
_start:
	cli
	mov	$stack_top, %esp
	cmp	$MB_BOOT_MAGIC, %eax
	mov	$E_MAGIC, %eax
	jne	exit
	mov	%ebx, %ebp		/* the multiboot info, kept for later */

	mov	$msg_hello, %esi
	call	puts

	xor	%eax, %eax		/* FW_CFG_SIGNATURE */
	call	fwcfg_u32
	mov	%eax, %ebx
	mov	$SERIAL, %dx
	mov	$4, %ecx
1:	outb	%al, %dx
	shr	$8, %eax
	loop	1b

	mov	$msg_cpus, %esi
	call	puts
	/* FW_CFG_NB_CPUS is a u16: bytes 2 and 3 read past its end, as zeros. */
	mov	$5, %eax
	call	fwcfg_u32
	call	putdec

	mov	$msg_cmdline, %esi
	call	puts
	testl	$(1 << 2), (%ebp)	/* MBI_CMDLINE */
	mov	$E_FLAGS, %eax
	jz	exit
	mov	16(%ebp), %esi
	call	puts
	mov	$msg_end, %esi
	call	puts

	cmp	$0x554d4551, %ebx	/* "QEMU" */
	mov	$E_FWCFG, %eax
	jne	exit
	mov	$1, %eax		/* FW_CFG_ID: traditional interface only */
	call	fwcfg_u32
	cmp	$1, %eax
	mov	$E_FWCFG, %eax
	jne	exit
	mov	$0x19, %eax		/* FW_CFG_FILE_DIR: not offered, reads as zeros */
	call	fwcfg_u32
	test	%eax, %eax
	mov	$E_FWCFG, %eax
	jne	exit

	/* "FILE ARGS", as QEMU passes it: ARGS must be what the test gave. */
	mov	16(%ebp), %esi
1:	lodsb
	test	%al, %al
	mov	$E_CMDLINE, %eax
	jz	exit
	cmpb	$' ', -1(%esi)
	jne	1b
	mov	$expect_cmdline, %edi
	mov	$expect_len, %ecx
	repe	cmpsb
	mov	$E_CMDLINE, %eax
	jne	exit

	/* Memory: 640 KiB low, and mem_upper agrees with fw_cfg's RAM size. */
	testl	$1, (%ebp)		/* MBI_MEM */
	mov	$E_FLAGS, %eax
	jz	exit
	cmpl	$640, 4(%ebp)
	mov	$E_MEM, %eax
	jne	exit
	mov	$3, %eax		/* FW_CFG_RAM_SIZE, low 32 bits suffice */
	call	fwcfg_u32
	mov	%eax, %ebx
	mov	8(%ebp), %eax
	shl	$10, %eax
	add	$0x100000, %eax
	cmp	%eax, %ebx
	mov	$E_MEM, %eax
	jne	exit

	/* .data sits on its own page at the end of the file: was it loaded? */
	cmpl	$0xc0ffee42, data_canary
	mov	$E_DATA, %eax
	jne	exit

	xor	%eax, %eax
exit:
	mov	$DEBUG_EXIT, %dx
	outl	%eax, %dx
1:	hlt
	jmp	1b

/* %eax: fw_cfg key -> %eax: the item's first four bytes, little endian. */
fwcfg_u32:
	mov	$FW_CFG_SEL, %dx
	outw	%ax, %dx
	mov	$FW_CFG_DATA, %dx
	mov	$4, %ecx
1:	inb	%dx, %al
	ror	$8, %eax		/* after four rounds byte 0 is lowest */
	loop	1b
	ret

/* %esi: NUL-terminated string to the serial port. */
puts:
	mov	$SERIAL, %dx
1:	lodsb
	test	%al, %al
	jz	2f
	outb	%al, %dx
	jmp	1b
2:	ret

/* %eax: unsigned number in decimal, digits pushed then popped. */
putdec:
	mov	$10, %ecx
	xor	%edi, %edi
1:	xor	%edx, %edx
	div	%ecx
	add	$'0', %dl
	push	%edx
	inc	%edi
	test	%eax, %eax
	jnz	1b
	mov	$SERIAL, %dx
2:	pop	%eax
	outb	%al, %dx
	dec	%edi
	jnz	2b
	ret

	.section .rodata
msg_hello:	.asciz	"multiboot hello fwcfg="
msg_cpus:	.asciz	" cpus="
msg_cmdline:	.asciz	" cmdline=["
msg_end:	.asciz	"]\n"
expect_cmdline:	.asciz	"a b c"
	.set	expect_len, . - expect_cmdline	/* with the NUL: exact match */

	.data
data_canary:	.long	0xc0ffee42

	.bss
	.balign	16
	.skip	4096
stack_top:

	.section .note.GNU-stack, "", @progbits
