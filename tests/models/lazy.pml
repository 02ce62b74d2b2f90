/* SPDX-License-Identifier: MIT */
/*
 * The vtimer PV timer protocol (docs/pv-abi.md, include/vtimer/pv.h) between
 * one guest vCPU and the host. The guest publishes `pending` and writes the
 * TSC-deadline MSR only when the host might not otherwise look in time; the
 * host publishes `armed` (LAZY) and `horizon` (HORIZON), reads `pending` again
 * on every expiry and scan, and injects only deadlines that have passed.
 *
 * -DFEATURES=n selects the VTIMER_F_* bits in force: 1 lazy, 2 pvtimer
 * (horizon), 3 hybrid, 4 direct (a poller reads `pending` every tick).
 *
 * The due rule (guest/kernel/timer.c, run_due): a new deadline D that is due,
 * or within DUE_MARGIN of now, when it is to be programmed is never
 * programmed: the guest waits until D and runs the expiry itself, storing
 * neither `pending` nor the MSR; what was programmed before stays programmed.
 * By default this is the guest's choice for such a D (an ABI v1 guest
 * programs it, and the host must still serve that); -DDUE_ALWAYS makes it the
 * rule, as in the vtimer guest.
 *
 * -DLOOK adds the host's look-ahead (pv-abi.md 5.4): after each injection the
 * host arms a look at now + LOOK_L instead of nothing, published as `armed`;
 * a look's expiry that finds `pending` == `seen` arms the next look until
 * LOOK_WINDOW has passed, and acts on the first change as any expiry does.
 * Any arm, disarm or MSR exit ends the look; a scan that finds `pending` equal
 * to the look time arms it as a deadline (the look alone would not inject).
 *
 * -DIDLE_LOOK adds the idle look (pv-abi.md 4.1): a program whose test says
 * "exit" may instead leave the write owed, and a later guest step makes it
 * as the look, an MSR exit for the value in `pending`. Meanwhile the guest
 * may take interrupts and program again (in the vtimer guest only a host
 * that broke sti's shadow allows that; the model allows it always); a
 * stored program replaces what was owed, and so does running the owed
 * deadline in the handler (the re-program that follows it). never_lost
 * counts an owed write as a program not yet finished.
 *
 * Checked over every interleaving (assertions, pan -DNOCLAIM):
 *   never_lost   the clock never moves past a deadline the guest has finished
 *                programming unless its interrupt is pending or was taken.
 *                The host is prompt (the clock cannot pass a due host timer,
 *                a published horizon by more than SCAN_LATE, or in DIRECT
 *                mode an unread `pending`), so "eventually delivered" is this
 *                safety property; at the end of time it is checked in every
 *                quiescent state.
 *   never_early  the guest's handler never runs while its current deadline is
 *                in the future (or stopped) unless it is a stale interrupt:
 *                each deadline replaced after it had passed licenses one; and
 *                the guest never runs a due deadline's expiry before it.
 *   host_due     the host injects only for a pending deadline that has passed.
 *   host_asked   the host never injects when pending == 0.
 *   once         no program(D) call gets two interrupts, nor one after the
 *                guest ran D itself (ghost ids travel with `pending`;
 *                injections coalesce in IRR as on hardware).
 *
 * Memory is x86-TSO: each side's stores go through a one-entry store buffer
 * drained nondeterministically (one legal TSO behaviour, so whatever is found
 * is real); a full fence waits for the drain; WRMSR, VM exit and VM entry are
 * serializing, and the host lock's acquire waits for the previous holder's
 * stores. The clock does not tick while a store is buffered or the host holds
 * its lock: drains and host handlers take nanoseconds, deadlines are
 * microseconds apart. The guest may be stopped anywhere in program(D).
 *
 * Broken variants (tests/models/test.sh), each must be caught:
 *   -DNO_ARMED_CLEAR     expiry reads `pending` before clearing `armed`
 *   -DNO_FENCE           neither side fences; -DNO_GUEST_FENCE and
 *                        -DNO_HOST_FENCE drop one side's fence only
 *   -DNO_HORIZON_MARGIN  margin 0 although a scan may be SCAN_LATE late
 *   -DEXPIRY_NO_RECHECK  expiry injects whenever its timer fires
 *   -DSCAN_MOVES_ARMED   the scan re-arms later or disarms without first
 *                        retracting `armed` (loses deadlines with LAZY)
 *   -DMSR_ARMS_PAST      the MSR handler arms a host timer for a deadline
 *                        that has already passed instead of injecting
 *                        (a second interrupt for one deadline)
 *   -DMSR_KEEPS_SEEN     the MSR handler does not record D as seen: a
 *                        later scan arms D again (a second interrupt)
 *   -DPAST_MAY_SKIP      the guest may skip the MSR for a passed deadline:
 *                        a stale horizon hides a re-stored, served value
 *   -DGUEST_STALE_FLAG   the guest's stale bookkeeping is one flag cleared
 *                        by every interrupt: a stale interrupt looks early
 *   -DCREDIT_CAP=1       the guest holds one credit at most (it holds
 *                        STALE_MAX = 2, the default): a stale interrupt looks
 *                        early. -DCREDIT_CAP=9 -DCREDIT_REACH=3 shows a third
 *                        credit is reachable (NPROG=4), so the cap binds
 *   -DDUE_STORES_PENDING the guest runs a due deadline itself but also
 *                        stores it in `pending`: the host injects it again
 *   -DNO_DUE_WAIT        the guest runs a deadline within DUE_MARGIN at
 *                        once instead of waiting for it: early
 *   -DLOOK_SCAN_KEEPS_LOOK (with -DLOOK) a scan finding `pending` equal to
 *                        the look time only publishes `armed` again and keeps
 *                        the look, whose expiry then sees P == seen and does
 *                        not inject (vt_scan before the fix): lost
 *   -DLOOK_DROPS_OWED    (with -DIDLE_LOOK) the owed write is forgotten, as
 *                        by an idle loop that ends without flushing: lost
 *   -DLOOK_AFTER_RUN     (with -DIDLE_LOOK) the look is still made after
 *                        the handler ran the owed deadline: a second
 *                        interrupt
 *   -DNO_HOST_ASSERTS    leaves the host-side assertions out, so a host bug
 *                        must show in what the guest sees
 * Not in test.sh: -DMSR_DEDUP_SEEN -DMSR_ARMS_PAST (an MSR exit for the value
 * the host last acted on is ignored) loses a re-stored, already served value.
 */

#ifndef FEATURES
#define FEATURES	3
#endif
#define LAZY		((FEATURES & 1) != 0)
#define HORIZON		((FEATURES & 2) != 0)
#define DIRECT		((FEATURES & 4) != 0)
#define SCANS		((FEATURES & 6) != 0)	/* a scanner or poller runs */

#ifndef MAXT
#define MAXT		6	/* deadlines 1..MAXT; the clock runs 0..MAXT+1 */
#endif
#ifndef NPROG
#define NPROG		3	/* program(D) calls, ids 1..NPROG */
#endif
#define PERIOD		2	/* scan period */
#define SCAN_LATE	1	/* a scan may run this long after its horizon */
#ifdef NO_HORIZON_MARGIN
#define MARGIN		0
#else
#define MARGIN		SCAN_LATE
#endif

#ifndef CREDIT_CAP
#define CREDIT_CAP	2	/* credits held at most: the guest's STALE_MAX */
#endif
#ifndef DUE_MARGIN
#define DUE_MARGIN	1	/* run_due: a deadline this near is waited out */
#endif
#ifdef NO_DUE_WAIT
#define DUE_READY(d)	true	/* runs it at once, even if still ahead */
#else
#define DUE_READY(d)	(d <= now)	/* waits (cpu_relax) until it is due */
#endif
#ifdef DUE_ALWAYS
#define DUE_PROGRAM(d)	(d == 0 || d > now + DUE_MARGIN)
#else
#define DUE_PROGRAM(d)	true	/* ABI v1 guests program due deadlines */
#endif

#define LOOK_L		1	/* LOOK: look interval */
#define LOOK_WINDOW	2	/* LOOK: keep looking this long after an injection */

#ifdef NO_FENCE
#define NO_GUEST_FENCE
#define NO_HOST_FENCE
#endif

#define W_ARMED		1
#define W_HORIZON	2

byte now = 0;

/* The shared page as memory holds it; margin is the constant MARGIN. */
byte pending = 0;	/* guest writes */
byte pend_id = 0;	/* ghost: the program(D) call that stored it */
byte armed = 0;		/* host writes */
byte horizon = 0;	/* host writes */

/* Store buffers, one entry per side. */
bit g_sb = 0;		/* guest's store to pending in flight */
byte g_sb_val = 0;
byte g_sb_id = 0;
byte h_sb = 0;		/* host's store in flight: W_ARMED or W_HORIZON */
byte h_sb_val = 0;

/* Host private state. */
byte htimer = 0;	/* host timer deadline, 0 = off */
byte seen = 0;		/* pending as the last expiry or scan read it */
bit hlock = 0;		/* the vCPU's host lock */
bit dirty = 0;		/* DIRECT: pending stored since the poller read it */
bit look = 0;		/* LOOK: htimer is a look at the page, not a deadline */
byte look_until = 0;	/* LOOK: stop looking at this time */

/* The local APIC's IRR bit for the timer vector. */
bit irr = 0;
byte irr_ids = 0;	/* ghost: program(D) calls it stands for */
byte delivered = 0;	/* ghost: program(D) calls whose interrupt was taken */

/* Guest private state: its clockevent. */
byte cur = 0;		/* deadline last programmed, 0 = stopped */
byte cur_id = 0;
bit got = 0;		/* an interrupt was taken at or after cur */
#ifdef GUEST_STALE_FLAG
bit credit = 0;		/* the guest's c->stale: reset by every interrupt */
#else
byte credit = 0;	/* replaced deadlines that had passed: each may still
			 * interrupt once (a stale interrupt) */
#endif
byte stored = 0;	/* ghost: values ever stored to pending (DIRECT) */
bit in_prog = 0;	/* inside program(D), IF = 0 */
bit in_due = 0;		/* inside run_due(D), IF = 0 */
bit owed = 0;		/* IDLE_LOOK: an MSR write deferred to the idle look */

bit never_lost = 1;
bit never_early = 1;
bit host_due = 1;
bit host_asked = 1;
bit once = 1;

#ifdef NO_GUEST_FENCE
#define guest_fence()	true
#else
#define guest_fence()	(g_sb == 0)
#endif
#ifdef NO_HOST_FENCE
#define host_fence()	true
#else
#define host_fence()	(h_sb == 0)
#endif

/* The guest's test: may it skip the MSR write for D? */
#ifdef PAST_MAY_SKIP
#define NOT_PAST(d)	true
#else
#define NOT_PAST(d)	(d > now)	/* rdtsc: a passed deadline exits */
#endif
#define NOEXIT(d, a, h)	(NOT_PAST(d) && \
			 ((LAZY && a != 0 && d >= a) || \
			  (HORIZON && h != 0 && d >= h + MARGIN)))

/* Must the scan retract `armed` before acting on pending P? */
#ifdef SCAN_MOVES_ARMED
#define RETRACT(p)	false
#else
#define RETRACT(p)	(LAZY && (p == 0 || htimer == 0 || p > htimer))
#endif

inline host_store(what, val)
{
	h_sb == 0 -> h_sb_val = val; h_sb = what
}

inline arm(v)
{
	htimer = v; look = 0;
	host_store(W_ARMED, v)
}

inline disarm()
{
	htimer = 0; look = 0;
	host_store(W_ARMED, 0)
}

/* LOOK: arm a look at the page, published as `armed` like any deadline. */
inline arm_look()
{
	arm(now + LOOK_L);
	look = 1
}

/*
 * The scan acts on P (vt_scan's tail). A timer already at P is only
 * published again, but a look at P is not P's deadline: its expiry would
 * find P == seen and not inject, so it is re-armed as a deadline.
 */
inline scan_act()
{
	seen = P;
	if
	:: P == 0 -> disarm()
#ifdef LOOK_SCAN_KEEPS_LOOK
	:: P != 0 && P == htimer -> host_store(W_ARMED, P)	/* look left set */
	:: P != 0 && P != htimer -> arm(P)
#else
	:: else -> arm(P)
#endif
	fi
}

inline inject(id)
{
	irr = 1;
	irr_ids = irr_ids | (1 << id)
}

active proctype memory()
{
end_mem:
	do
	:: atomic { g_sb -> pending = g_sb_val; pend_id = g_sb_id;
		g_sb = 0; g_sb_val = 0; g_sb_id = 0; dirty = 1 }
	:: atomic { h_sb == W_ARMED -> armed = h_sb_val; h_sb = 0; h_sb_val = 0 }
	:: atomic { h_sb == W_HORIZON -> horizon = h_sb_val; h_sb = 0; h_sb_val = 0 }
	od
}

active proctype clock()
{
end_clock:
	do
	:: atomic {
		!hlock && !g_sb && h_sb == 0 &&
		!(htimer != 0 && htimer <= now) &&
		!(HORIZON && horizon != 0 && now >= horizon + SCAN_LATE) &&
		!(DIRECT && dirty) ->
		never_lost = (in_prog || owed || cur == 0 || cur > now || got || irr);
		assert(never_lost);
		if
		:: now <= MAXT -> now++
		:: else		/* end of time: quiescent states still checked */
		fi }
	od
}

active proctype host()
{
	byte P, Pid;
	bit retract;

end_host:
	do
	:: atomic { !hlock && h_sb == 0 && htimer != 0 && htimer <= now ->
		hlock = 1; htimer = 0;		/* the timer fired: expiry */
#ifndef NO_ARMED_CLEAR
		host_store(W_ARMED, 0)
#endif
	}
		atomic { host_fence() ->
		P = pending; Pid = pend_id;
		if
		:: look && P == seen ->		/* a look found nothing new */
			look = 0;
			if
			:: now < look_until -> arm_look()
			:: else
			fi;
			goto exp_done
		:: else -> look = 0
		fi;
		seen = P;
		if
#ifdef EXPIRY_NO_RECHECK
		:: true ->
#else
		:: P != 0 && P <= now ->
#endif
#ifdef NO_ARMED_CLEAR
			host_store(W_ARMED, 0);
#endif
#ifndef NO_HOST_ASSERTS
			host_asked = (P != 0);
			assert(host_asked);
			host_due = (P <= now);
			assert(host_due);
#endif
			inject(Pid)
#ifdef LOOK
			;
			look_until = now + LOOK_WINDOW;
			arm_look()
#endif
		:: P != 0 && P > now ->
			arm(P)		/* re-armed without exit */
		:: P == 0 ->
#ifdef NO_ARMED_CLEAR
			host_store(W_ARMED, 0);
#endif
			skip		/* dropped */
		fi;
exp_done:
		P = 0; Pid = 0; hlock = 0 }

	:: atomic { SCANS && !hlock && h_sb == 0 ->
		hlock = 1;			/* scan */
		host_store(W_HORIZON, now + PERIOD) }
		atomic { host_fence() ->
		P = pending; dirty = 0;
		if
		:: P == seen
		:: P != seen && RETRACT(P) ->
			/*
			 * Moving the timer later or off breaks the promise a
			 * published `armed` makes: retract it first, as expiry
			 * does, and read pending again after the fence.
			 */
			host_store(W_ARMED, 0);
			retract = 1
		:: P != seen && !RETRACT(P) ->
			scan_act()
		fi;
		if
		:: !retract -> P = 0; hlock = 0
		:: else
		fi }
		if
		:: retract ->
			atomic { host_fence() ->
			P = pending; dirty = 0;
			scan_act();
			P = 0; retract = 0; hlock = 0 }
		:: else
		fi
	od
}

/*
 * The TSC-deadline MSR exit for value d (pv-abi.md 5.1), under the host lock
 * while the guest waits: past deadlines are injected at once, so they
 * coalesce in IRR with an expiry that read the same pending (the guest has
 * IF = 0). The idle look (pv-abi.md 4.1) is the same exit for d = pending.
 */
inline msr_exit(d)
{
#ifdef MSR_DEDUP_SEEN
	if
	:: d == seen -> skip
	:: else ->
#endif
#ifndef MSR_KEEPS_SEEN
	seen = d;
#endif
#ifndef MSR_ARMS_PAST
	if
	:: d <= now ->
		htimer = 0; armed = 0; look = 0;
		inject(cur_id)
	:: else ->
#endif
		htimer = d; armed = d; look = 0
#ifndef MSR_ARMS_PAST
	fi
#endif
#ifdef MSR_DEDUP_SEEN
	fi
#endif
}

active proctype guest()
{
	byte n = 0;
	byte D, A, H;

end_guest:
	do
	:: atomic { irr && !in_prog && !in_due ->	/* the timer interrupt handler */
		if
		:: cur == 0 || now < cur ->	/* nothing due: stale or early */
			never_early = (credit > 0);
			assert(never_early);
#ifdef GUEST_STALE_FLAG
		:: else
		fi;
		credit = 0;
#else
			credit--
		:: else
		fi;
#endif
		once = ((irr_ids & delivered) == 0);
		assert(once);
		delivered = delivered | irr_ids;
		irr = 0; irr_ids = 0;
		if
		:: cur != 0 && cur <= now -> got = 1;
			/* IDLE_LOOK: the handler that runs cur re-programs
			 * (the next deadline, or 0), which replaces the write
			 * owed for cur (guest/kernel/clockevent.c);
			 * -DLOOK_AFTER_RUN keeps it: a second interrupt */
#ifndef LOOK_AFTER_RUN
			owed = 0
#else
			skip
#endif
		:: else
		fi }

#ifdef IDLE_LOOK
	/*
	 * The idle look (pv-abi.md 4.1), or idle_end()'s write if the loop
	 * ends without halting: the host takes `pending` as written to the
	 * MSR. Between the deferral and here the guest may take interrupts and
	 * re-program (a host that broke sti's shadow, pv/pv.c), which this
	 * model lets happen at any point. -DLOOK_DROPS_OWED forgets the write
	 * instead (a loop end that does not flush): lost.
	 */
	:: atomic { owed && !in_prog && !in_due && !hlock && h_sb == 0 && !g_sb ->
#ifdef LOOK_DROPS_OWED
		skip;
#else
		msr_exit(pending);
#endif
		owed = 0 }
#endif
	:: atomic { n < NPROG && !in_prog && !in_due && !g_sb ->	/* IF = 0 */
		select (D : 0 .. MAXT);
		n++;
		if
		:: D != 0 && D <= now + DUE_MARGIN ->
			/*
			 * run_due (guest/kernel/timer.c): the new head is due or
			 * nearer than one exit. Wait for it and run its expiry
			 * here: neither `pending` nor the MSR is written, and
			 * the deadline programmed before stays programmed.
			 */
			in_due = 1;
#ifdef DUE_STORES_PENDING
			if
			:: cur != 0 && cur <= now -> credit++
			:: else
			fi;
			cur = D; cur_id = n;
			got = 1;	/* it runs it below: not lost */
			g_sb_val = D; g_sb_id = n; g_sb = 1;
#endif
			goto prog_done
		:: DUE_PROGRAM(D) -> skip	/* program(D) */
		fi;
		owed = 0;	/* IDLE_LOOK: a stored program replaces what was owed */
		if	/* DIRECT: a passed value is never stored again */
		:: DIRECT && D != 0 && D <= now && (stored & (1 << D)) -> D = 0
		:: else
		fi;
		stored = stored | (1 << D);
		if
		:: cur != 0 && cur <= now && credit < CREDIT_CAP -> credit++
#ifdef CREDIT_REACH
			assert(credit < CREDIT_REACH)
#endif
		:: else
		fi;
		cur = D; cur_id = n; got = 0;
		g_sb_val = D; g_sb_id = n; g_sb = 1;	/* page.pending = D */
		if
		:: DIRECT || D == 0 -> D = 0		/* no exit, done */
		:: else -> in_prog = 1
		fi;
prog_done:
		skip }
		if
		:: in_due ->
			atomic { DUE_READY(D) ->	/* expire_queue: runs D */
				never_early = (D <= now);
				assert(never_early);
				delivered = delivered | (1 << n);
				D = 0; in_due = 0 }
		:: in_prog ->
			atomic { guest_fence() -> A = armed }
			atomic {
				H = horizon;
				if
				:: NOEXIT(D, A, H) -> A = 0; H = 0; D = 0; in_prog = 0
				:: else
				fi }
			if
			:: in_prog ->
				/*
				 * wrmsr TSC_DEADLINE: a VM exit; the host's MSR
				 * handler runs under the host lock, the guest
				 * waits. Past deadlines are injected at once, so
				 * they coalesce in IRR with an expiry that read
				 * the same pending (the guest has IF = 0).
				 */
#ifdef IDLE_LOOK
				/* on the way to idle: defer the write to the idle look */
				if
				:: atomic { owed = 1; A = 0; H = 0; D = 0; in_prog = 0 }
				:: skip
				fi;
				if
				:: in_prog ->
#endif
				atomic { !hlock && h_sb == 0 && !g_sb ->
					msr_exit(D);
					A = 0; H = 0; D = 0; in_prog = 0 }
#ifdef IDLE_LOOK
				:: else
				fi
#endif
			:: else
			fi
		:: else
		fi
	od
}
