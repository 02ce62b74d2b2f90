/* SPDX-License-Identifier: MIT */
/*
 * The guest's sleep path (guest/kernel/timer.c idle_wait, guest/arch/x86/x86.h
 * safe_halt) against the LAPIC timer: the task arms a deadline, then waits
 * with "check condition with IF=0; sti; hlt" until the timer callback has set
 * the condition. The timer may fire at any moment after it is armed; an
 * interrupt is taken only while IF=1. "sti; hlt" is one atomic step because
 * sti holds off interrupts for one instruction (SDM vol. 2, STI).
 *
 * Checked: no invalid end state (the task never halts forever with its wake-up
 * already consumed) and the task always finishes all ROUNDS sleeps. Built with
 * -DBROKEN the wait is "sti; check; hlt" and spin must find the lost wake-up:
 * that is what makes this model able to fail (tests/models/test.sh).
 *
 * -DSHADOW_BROKEN: a host that does not honour sti's shadow (seen under
 * nested KVM in QEMU's emulator) may deliver between sti and hlt. The
 * interrupt stubs then move the return RIP past the hlt (entry.S,
 * HALT_SHADOW_CHECK), and the model must still verify clean; with
 * -DNO_FIXUP as well, the hlt after the handler sleeps through the wake-up
 * it brought and spin must find it.
 */
#define ROUNDS 3

bit IF = 0;		/* interrupts enabled */
bit halted = 0;
bit irr = 0;		/* timer interrupt pending */
bit armed = 0;		/* deadline programmed, not yet fired */
bit woken = 0;		/* set by the timer callback */
bit at_hlt = 0;		/* between sti and hlt (SHADOW_BROKEN only) */
bit skip_hlt = 0;	/* the stub moved the return RIP past the hlt */
byte done = 0;

active proctype lapic_timer()
{
end_idle:
	do
	:: atomic { armed -> armed = 0; irr = 1 }	/* deadline passes */
	od
}

active proctype interrupt_delivery()
{
end_idle:
	do
	:: atomic {
		irr && IF -> irr = 0; woken = 1; halted = 0;
#if defined(SHADOW_BROKEN) && !defined(NO_FIXUP)
		if
		:: at_hlt -> skip_hlt = 1
		:: else -> skip
		fi
#endif
	   }
	od
}

active proctype task()
{
	byte i = 0;

	do
	:: i < ROUNDS ->
		woken = 0;
		armed = 1;		/* timer_add -> clockevent_program */
		do
		:: woken -> break
		:: else ->
#ifdef BROKEN
			IF = 1;
			atomic { !woken -> skip };	/* the check, racing the interrupt */
			halted = 1;
#elif defined(SHADOW_BROKEN)
			atomic { IF = 1; at_hlt = 1 };	/* sti, its shadow not honoured */
			atomic {
				at_hlt = 0;
				if
				:: skip_hlt -> skip_hlt = 0	/* resumed past the hlt */
				:: else -> halted = 1		/* hlt */
				fi
			};
#else
			atomic { IF = 1; halted = 1 }	/* sti; hlt */
#endif
			!halted;		/* woken by the interrupt */
			IF = 0			/* cli */
		od;
		i++
	:: else -> break
	od;
	done = 1;
	assert(woken)
}

ltl finishes { <> (done == 1) }
