/* SPDX-License-Identifier: MIT */
/*
 * Guest entry points. The VMM starts every vCPU here in 64-bit mode with
 * %rdi = CPU index and %rsi = boot record (include/vtimer/abi.h).
 *
 * Interrupt stubs are kept minimal: on a PVM host each CPL0 instruction is
 * emulated (~1 us), so the timer path saves only the caller-saved registers.
 * On entry the CPU has pushed 5 words onto a 16-byte aligned stack, so an odd
 * number of pushes re-aligns it for the C call.
 */
#include "x86.h"

#define STACK_SIZE 16384

	.section .text.entry, "ax"
	.globl _start
_start:
	cli
	lea	boot_stacks(%rip), %rsp
	mov	%rdi, %rax
	inc	%rax
	shl	$14, %rax
	add	%rax, %rsp
	call	kmain
1:	hlt
	jmp	1b

	.text
.macro SAVE_SCRATCH
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
.endm
.macro RESTORE_SCRATCH
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
.endm

/*
 * An interrupt taken in sti's shadow, before the hlt of safe_halt (a host
 * that broke the shadow): resume after the hlt instead, so the caller
 * re-checks what it waits for. Two instructions on the common path.
 */
.macro HALT_SHADOW_CHECK
	cmpq	$safe_halt_hlt, (%rsp)
	jne	1f
	movq	$safe_halt_end, (%rsp)
	SAVE_SCRATCH
	call	halt_shadow_broken
	RESTORE_SCRATCH
1:
	cmpq	$safe_look_wrmsr, (%rsp)
	jne	2f
	movq	$safe_look_end, (%rsp)
	SAVE_SCRATCH
	call	look_shadow_broken
	RESTORE_SCRATCH
2:
.endm

	.globl safe_halt
safe_halt:
	sti
	.globl safe_halt_hlt
safe_halt_hlt:
	hlt
	.globl safe_halt_end
safe_halt_end:
	cli
	ret

/* void safe_idle_look(uint32_t msr): sti; wrmsr(msr, 0); cli (x86.h) */
	.globl safe_idle_look
safe_idle_look:
	mov	%edi, %ecx
	xor	%eax, %eax
	xor	%edx, %edx
	sti
	.globl safe_look_wrmsr
safe_look_wrmsr:
	wrmsr
	.globl safe_look_end
safe_look_end:
	cli
	ret

	.globl timer_entry
timer_entry:
	HALT_SHADOW_CHECK
	SAVE_SCRATCH
	call	timer_interrupt
	RESTORE_SCRATCH
	iretq

	.globl spurious_entry
spurious_entry:
	iretq

	.globl other_irq_entry
other_irq_entry:
	HALT_SHADOW_CHECK
	SAVE_SCRATCH
	call	other_interrupt
	RESTORE_SCRATCH
	iretq

	.globl ipi_entry
ipi_entry:
	HALT_SHADOW_CHECK
	SAVE_SCRATCH
	call	ipi_interrupt
	RESTORE_SCRATCH
	iretq

/* int $4 from CPL3: %rax = number, %rdi/%rsi/%rdx = arguments, result in %rax. */
	.globl syscall_entry
syscall_entry:
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	sub	$8, %rsp
	mov	%rax, %rcx
	call	syscall_dispatch
	add	$8, %rsp
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	iretq

/*
 * Exceptions: exception() either returns a fix-up RIP (a #GP on the
 * wrmsr_safe instruction) or reports and stops. Only caller-saved registers
 * are clobbered, so a fix-up may resume a C caller of wrmsr_safe.
 */
.macro EXC vec, has_err
	.globl exc_\vec
exc_\vec:
	.if \has_err == 0
	push	$0
	.endif
	mov	$\vec, %edi
	jmp	exc_common
.endm
	EXC 0,0; EXC 1,0; EXC 2,0; EXC 3,0; EXC 5,0; EXC 6,0; EXC 7,0; EXC 8,1
	EXC 9,0; EXC 10,1; EXC 11,1; EXC 12,1; EXC 13,1; EXC 14,1; EXC 16,0; EXC 17,1
	EXC 18,0; EXC 19,0; EXC 20,0; EXC 21,1

exc_common:
	push	%rbx
	mov	%rsp, %rbx
	mov	8(%rbx), %rsi		/* error code */
	mov	16(%rbx), %rdx		/* RIP */
	and	$-16, %rsp
	call	exception
	mov	%rax, 16(%rbx)		/* resume at the fix-up */
	mov	%rbx, %rsp
	pop	%rbx
	add	$8, %rsp		/* error code */
	iretq

/* int wrmsr_safe(uint32_t msr, uint64_t val): 0, or 1 if the write raised #GP. */
	.globl wrmsr_safe, wrmsr_safe_insn, wrmsr_safe_fault
wrmsr_safe:
	mov	%edi, %ecx
	mov	%esi, %eax
	mov	%rsi, %rdx
	shr	$32, %rdx
wrmsr_safe_insn:
	wrmsr
	xor	%eax, %eax
	ret
wrmsr_safe_fault:
	mov	$1, %eax
	ret

/* Enter CPL3 at fn(arg) on stack: never returns; the task leaves by syscall. */
	.globl enter_user
enter_user:
	push	$SEL_UDATA
	push	%rdx
	push	$0x202
	push	$SEL_UCODE
	push	%rdi
	mov	%rsi, %rdi
	mov	$SEL_UDATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	iretq

	.bss
	.align	4096
	.globl boot_stacks
boot_stacks:
	.skip	STACK_SIZE * 64
