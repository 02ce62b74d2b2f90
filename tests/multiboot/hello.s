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
 *
 * Then, as an unmodified kernel would: finds the ACPI PM timer (RSDP scan,
 * RSDT, FADT), measures its rate against the TSC (kHz from CPUID
 * 0x40000010, QEMU's timing leaf) and takes 5 TSC-deadline interrupts
 * through the xAPIC, and prints "acpi pmtimer port=P rate=HZ tries=N
 * deadlines=5", then a kvm-unit-tests-style "latency: N" line per shot
 * and "SUMMARY: 1 tests" (vtimer's report picks both up). Before that, "cpuid 1.ecx=N 40000001.eax=N": the
 * features --cpu shapes.
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
	.set	E_ACPI, 8	/* no RSDP, RSDT or FADT with a PM timer */
	.set	E_TSCKHZ, 9	/* no CPUID 0x40000010 timing leaf */
	.set	E_PMRATE, 10	/* PM timer rate off by more than 1% */
	.set	E_TIMER, 11	/* a TSC-deadline interrupt did not arrive */

	.set	PM_HZ, 3579545
	.set	PM_TICKS, 715909	/* measure over 200 ms of PM timer */
	.set	APIC, 0xfee00000
	.set	TIMER_VEC, 0x40
	.set	TIMER_SHOTS, 5

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

	call	cpuid_line
	call	pmtimer_check
	call	deadline_check
	mov	$msg_summary, %esi
	call	puts

	xor	%eax, %eax
exit:
	mov	$DEBUG_EXIT, %dx
	outl	%eax, %dx
1:	hlt
	jmp	1b

/*
 * ACPI: the RSDP by the standard scan (16-byte steps over 0xE0000-0xFFFFF,
 * signature and checksum), RSDT -> FACP, PM_TMR_BLK. Then the PM timer's
 * rate against the TSC, whose rate is CPUID 0x40000010.EAX (kHz), must be
 * within 1% of 3.579545 MHz. Prints " pmtimer=PORT rate=HZ".
 */
pmtimer_check:
	mov	$0xe0000, %esi
1:	cmpl	$0x20445352, (%esi)	/* "RSD " */
	jne	2f
	cmpl	$0x20525450, 4(%esi)	/* "PTR " */
	jne	2f
	mov	$20, %ecx
	call	sum
	jz	3f
2:	add	$16, %esi
	cmp	$0x100000, %esi
	jb	1b
	jmp	acpi_fail
3:	mov	16(%esi), %esi		/* RSDT */
	cmpl	$0x54445352, (%esi)	/* "RSDT" */
	jne	acpi_fail
	mov	4(%esi), %ecx
	call	sum
	jnz	acpi_fail
	mov	4(%esi), %ecx
	lea	(%esi,%ecx), %edi	/* end of the RSDT */
	add	$36, %esi
4:	cmp	%edi, %esi
	jae	acpi_fail
	mov	(%esi), %ebx
	add	$4, %esi
	cmpl	$0x50434146, (%ebx)	/* "FACP" */
	jne	4b
	mov	%ebx, %esi
	mov	4(%esi), %ecx
	cmp	$80, %ecx
	jb	acpi_fail
	call	sum
	jnz	acpi_fail
	mov	76(%ebx), %ebx		/* PM_TMR_BLK */
	test	%ebx, %ebx
	jz	acpi_fail
	mov	%ebx, pm_port
	mov	$msg_pm, %esi
	call	puts
	mov	%ebx, %eax
	call	putdec

	/* The TSC's rate: KVM's signature leaf must reach the timing leaf. */
	mov	$0x40000000, %eax
	cpuid
	cmp	$0x4b4d564b, %ebx	/* "KVMK" */
	jne	tsc_fail
	cmp	$0x40000010, %eax
	jb	tsc_fail
	mov	$0x40000010, %eax
	cpuid
	test	%eax, %eax
	jz	tsc_fail
	mov	%eax, tsc_khz

	/*
	 * PM_TICKS of PM timer (24 bits, wraps every 4.7 s) against the TSC.
	 * Each end is the best of 8 reads (narrowest rdtsc bracket, its
	 * midpoint), so one slow exit does not skew the rate. If the two
	 * brackets still span 1% of the interval (a host that stalled for
	 * milliseconds), the measurement says nothing: it is repeated, up to
	 * 5 times. Prints the number of tries.
	 */
measure:
	incl	pm_tries
	call	pm_sample
	mov	best_width, %eax
	mov	%eax, width0
	mov	best_pm, %ebx		/* pm0 */
	mov	best_tsc, %eax
	mov	%eax, tsc0
	mov	best_tsc + 4, %eax
	mov	%eax, tsc0 + 4
5:	mov	pm_port, %edx
	inl	%dx, %eax
	sub	%ebx, %eax
	and	$0xffffff, %eax
	cmp	$PM_TICKS, %eax
	jb	5b
	call	pm_sample
	mov	best_pm, %eax
	sub	%ebx, %eax
	and	$0xffffff, %eax
	mov	%eax, pm_delta
	/* kcycles = (tsc1 - tsc0) / 1000, must fit 32 bits */
	mov	best_tsc, %edi
	mov	best_tsc + 4, %ebp	/* %ebp is the mbi, not needed any more */
	sub	tsc0, %edi
	sbb	tsc0 + 4, %ebp
	mov	$1000, %ecx
	mov	%ebp, %eax
	xor	%edx, %edx
	div	%ecx
	test	%eax, %eax
	jnz	rate_fail
	mov	%edi, %eax
	div	%ecx			/* %edx: remainder of the high part */
	mov	%eax, %ecx		/* kcycles */
	imul	$10, %ecx, %edx		/* 1% of the interval, in cycles */
	mov	width0, %eax
	add	best_width, %eax
	jc	1f
	cmp	%edx, %eax
	jb	2f
1:	cmpl	$5, pm_tries
	jb	measure
	jmp	rate_fail
2:
	/* rate = delta * tsc_khz / kcycles, in Hz */
	mov	pm_delta, %eax
	mull	tsc_khz
	cmp	%ecx, %edx
	jae	rate_fail
	div	%ecx
	mov	%eax, %ebx
	mov	$msg_rate, %esi
	call	puts
	mov	%ebx, %eax
	call	putdec
	mov	$msg_tries, %esi
	call	puts
	mov	pm_tries, %eax
	call	putdec
	sub	$(PM_HZ - PM_HZ / 100), %ebx
	cmp	$(2 * (PM_HZ / 100)), %ebx
	ja	rate_fail
	ret
acpi_fail:
	mov	$E_ACPI, %eax
	jmp	exit
tsc_fail:
	mov	$E_TSCKHZ, %eax
	jmp	exit
rate_fail:
	mov	$E_PMRATE, %eax
	jmp	exit

/*
 * Best of 8 PM timer reads: the one with the narrowest rdtsc bracket ->
 * best_pm, and best_tsc = the bracket's midpoint. Clobbers all but %ebx.
 */
pm_sample:
	movl	$-1, best_width
	mov	$8, %ecx
1:	push	%ecx
	rdtsc
	mov	%eax, %edi
	mov	%edx, %ebp		/* bracket start */
	mov	pm_port, %edx
	inl	%dx, %eax
	mov	%eax, %esi
	rdtsc
	sub	%edi, %eax
	sbb	%ebp, %edx		/* width */
	test	%edx, %edx
	jnz	2f
	cmp	best_width, %eax
	jae	2f
	mov	%eax, best_width
	mov	%esi, best_pm
	shr	$1, %eax
	add	%edi, %eax
	adc	$0, %ebp
	mov	%eax, best_tsc
	mov	%ebp, best_tsc + 4
2:	pop	%ecx
	loop	1b
	ret

/* %esi, %ecx bytes -> ZF set if they sum to 0 mod 256. Clobbers %al, %ecx. */
sum:
	push	%esi
	xor	%al, %al
1:	add	(%esi), %al
	inc	%esi
	loop	1b
	pop	%esi
	test	%al, %al
	ret

/*
 * TSC_SHOTS TSC-deadline interrupts, 100 us apart, through the xAPIC (as an
 * unmodified kernel in 32-bit mode sees it): LVTT in TSC-deadline mode,
 * one IDT gate, wrmsr IA32_TSC_DEADLINE, sti; hlt until it arrives.
 * Prints " deadlines=N".
 */
deadline_check:
	mov	$timer_isr, %eax
	mov	$(idt + 8 * TIMER_VEC), %edi
	mov	%ax, (%edi)
	mov	%cs, %dx
	mov	%dx, 2(%edi)
	movw	$0x8e00, 4(%edi)	/* present, DPL0, 32-bit interrupt gate */
	shr	$16, %eax
	mov	%ax, 6(%edi)
	lidt	idt_desc
	movl	$0x1ff, APIC + 0xf0	/* SVR: enabled, spurious vector 0xff */
	movl	$(TIMER_VEC | (2 << 17)), APIC + 0x320	/* LVTT: TSC-deadline */
	xor	%esi, %esi		/* shots done */
1:	rdtsc
	add	$100000, %eax
	adc	$0, %edx
	mov	%eax, deadline
	mov	%edx, deadline + 4
	mov	$0x6e0, %ecx
	wrmsr
	mov	timer_irqs, %ebx
2:	sti
	hlt
	cli
	cmp	timer_irqs, %ebx
	je	2b
	inc	%esi
	cmp	$TIMER_SHOTS, %esi
	jb	1b
	mov	$msg_deadlines, %esi
	call	puts
	mov	timer_irqs, %eax
	call	putdec
	mov	$msg_nl, %esi
	call	puts
	cmpl	$TIMER_SHOTS, timer_irqs
	mov	$E_TIMER, %eax
	jne	exit

	/*
	 * "latency: N" per shot, TSC cycles from deadline to handler, as
	 * kvm-unit-tests' tscdeadline_latency prints them (negative = early;
	 * beyond 32 bits shown as 4294967295).
	 */
	xor	%ebx, %ebx
3:	mov	$msg_latency, %esi
	call	puts
	mov	lat_table(, %ebx, 8), %eax
	mov	lat_table + 4(, %ebx, 8), %edx
	test	%edx, %edx
	jns	4f
	push	%eax
	push	%edx
	mov	$msg_minus, %esi
	call	puts
	pop	%edx
	pop	%eax
	neg	%eax
	adc	$0, %edx
	neg	%edx
4:	test	%edx, %edx
	jz	5f
	mov	$0xffffffff, %eax
5:	call	putdec
	mov	$msg_nl, %esi
	call	puts
	inc	%ebx
	cmp	$TIMER_SHOTS, %ebx
	jb	3b
	ret

/* Counts the interrupt and keeps its lateness (rdtsc - deadline) per shot. */
timer_isr:
	push	%eax
	push	%ecx
	push	%edx
	rdtsc
	sub	deadline, %eax
	sbb	deadline + 4, %edx
	mov	timer_irqs, %ecx
	cmp	$TIMER_SHOTS, %ecx
	jae	1f
	mov	%eax, lat_table(, %ecx, 8)
	mov	%edx, lat_table + 4(, %ecx, 8)
1:	incl	timer_irqs
	movl	$0, APIC + 0xb0		/* EOI */
	pop	%edx
	pop	%ecx
	/*
	 * Returns as iret would, without iret: a PVM host emulates guest CPL0
	 * with KVM's instruction emulator, which handles iret only in real
	 * mode (a 32-bit iret there is "KVM internal error, suberror 1").
	 * Same privilege, so the frame is EIP, CS, EFLAGS: turn it into
	 * EFLAGS, EIP, CS, then popfl; lret. An interrupt taken between the
	 * two nests on the frame and returns to the lret.
	 */
	mov	8(%esp), %eax		/* stack: eax, eip, cs, eflags */
	xchg	%eax, 4(%esp)		/* eflags in eip's slot; eax = eip */
	xchg	%eax, 8(%esp)		/* eip in cs's slot; eax = cs */
	mov	%eax, 12(%esp)		/* cs in eflags' slot */
	pop	%eax
	popfl
	lret

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

/* "cpuid 1.ecx=N 40000001.eax=N\n": CPUID 1 ECX, KVM's PV feature bits. */
cpuid_line:
	push	%ebx
	mov	$msg_cpuid, %esi
	call	puts
	mov	$1, %eax
	xor	%ecx, %ecx
	cpuid
	mov	%ecx, %eax
	call	putdec
	mov	$msg_kvmfeat, %esi
	call	puts
	mov	$0x40000001, %eax
	xor	%ecx, %ecx
	cpuid
	call	putdec
	mov	$msg_nl, %esi
	call	puts
	pop	%ebx
	ret

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
msg_pm:		.asciz	"acpi pmtimer port="
msg_rate:	.asciz	" rate="
msg_tries:	.asciz	" tries="
msg_deadlines:	.asciz	" deadlines="
msg_nl:		.asciz	"\n"
msg_cpuid:	.asciz	"cpuid 1.ecx="
msg_latency:	.asciz	"latency: "
msg_minus:	.asciz	"-"
msg_summary:	.asciz	"SUMMARY: 1 tests\n"
msg_kvmfeat:	.asciz	" 40000001.eax="
expect_cmdline:	.asciz	"a b c"
	.set	expect_len, . - expect_cmdline	/* with the NUL: exact match */

	.balign	4
idt_desc:	.word	8 * 256 - 1
		.long	idt

	.data
data_canary:	.long	0xc0ffee42

	.bss
	.balign	16
idt:	.skip	8 * 256
pm_port:	.long	0
pm_delta:	.long	0
tsc_khz:	.long	0
tsc0:		.quad	0
best_tsc:	.quad	0
best_pm:	.long	0
best_width:	.long	0
width0:		.long	0
pm_tries:	.long	0
timer_irqs:	.long	0
	.balign	8
deadline:	.quad	0
lat_table:	.skip	8 * TIMER_SHOTS
	.balign	16
	.skip	4096
stack_top:

	.section .note.GNU-stack, "", @progbits
