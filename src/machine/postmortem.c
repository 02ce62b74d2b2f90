// SPDX-License-Identifier: MIT
/*
 * The post-mortem of a hung run: for each vCPU, where it stopped and what its
 * timer looked like, as KVM and the timer engine see them. It answers the
 * first question about a lost timer: did no one arm it (KVM's deadline and
 * the engine's both off), did it never fire (armed, in the past), or did it
 * fire and the interrupt sit undelivered (the vector in IRR with the vCPU
 * halted and interrupts on)? Everything is read with the vCPU threads
 * joined, so no KVM_RUN is in flight.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"

#define MSR_IA32_TSC		0x10
#define MSR_TSC_DEADLINE	0x6e0

static const char *mp_state_name(uint32_t s)
{
	static const char *const names[] = {
		[KVM_MP_STATE_RUNNABLE] = "runnable",
		[KVM_MP_STATE_UNINITIALIZED] = "uninitialized",
		[KVM_MP_STATE_INIT_RECEIVED] = "INIT received",
		[KVM_MP_STATE_HALTED] = "halted",
		[KVM_MP_STATE_SIPI_RECEIVED] = "SIPI received",
	};

	return s < sizeof(names) / sizeof(names[0]) && names[s] ? names[s] : "other state";
}

static uint32_t apic_reg(const struct kvm_lapic_state *la, unsigned int off)
{
	uint32_t v;

	memcpy(&v, &la->regs[off], 4);
	return v;
}

/* The vectors set in the 256-bit register at off (IRR 0x200, ISR 0x100). */
static void apic_vectors(FILE *f, const char *name, const struct kvm_lapic_state *la,
			 unsigned int off)
{
	const char *sep = "";

	fprintf(f, " %s {", name);
	for (unsigned int v = 0; v < 256; v++)
		if (apic_reg(la, off + (v / 32) * 0x10) & (1u << (v % 32))) {
			fprintf(f, "%s%u", sep, v);
			sep = ",";
		}
	fputc('}', f);
}

static void describe_vcpu(struct vcpu *v, FILE *f,
			  void (*guest)(struct vcpu *, uint64_t, FILE *, void *), void *arg)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_vcpu_events ev;
	struct kvm_lapic_state la;
	uint64_t tsc = 0, dl = 0;
	bool have_tsc;

	fprintf(f, "  vCPU %d:", v->id);
	if (__kvm_ioctl(v->fd, KVM_GET_MP_STATE, &mp) >= 0)
		fprintf(f, " %s", mp_state_name(mp.mp_state));
	if (__kvm_ioctl(v->fd, KVM_GET_REGS, &regs) >= 0)
		fprintf(f, ", rip 0x%llx, IF %d", (unsigned long long)regs.rip,
			!!(regs.rflags & (1u << 9)));
	if (__kvm_ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) >= 0) {
		if (ev.interrupt.injected)
			fprintf(f, ", injecting vector %u", ev.interrupt.nr);
		/* sti/mov-ss shadow: a halted vCPU kept in it takes no interrupt */
		if (ev.interrupt.shadow)
			fprintf(f, ", interrupt shadow 0x%x", ev.interrupt.shadow);
	}
	if (__kvm_ioctl(v->fd, KVM_GET_LAPIC, &la) >= 0) {
		fprintf(f, "; lapic: LVTT 0x%08x, TMICT %u, TMCCT %u, TPR %u,",
			apic_reg(&la, 0x320), apic_reg(&la, 0x380), apic_reg(&la, 0x390),
			apic_reg(&la, 0x80));
		apic_vectors(f, "IRR", &la, 0x200);
		apic_vectors(f, "ISR", &la, 0x100);
	}
	have_tsc = kvm_vcpu_msr(v->fd, KVM_GET_MSRS, MSR_IA32_TSC, &tsc) == 0;
	if (kvm_vcpu_msr(v->fd, KVM_GET_MSRS, MSR_TSC_DEADLINE, &dl) == 0) {
		fprintf(f, "; KVM's TSC-deadline %" PRIu64, dl);
		if (dl && have_tsc && v->vm->tsc_khz)
			fprintf(f, " (%+.1f us)",
				(double)(int64_t)(dl - tsc) * 1000.0 / (double)v->vm->tsc_khz);
	}
	if (have_tsc)
		fprintf(f, ", guest TSC %" PRIu64, tsc);
	fputc('\n', f);
	if (v->vm->timer_ops && v->vm->timer_ops->describe) {
		fprintf(f, "  vCPU %d ", v->id);
		v->vm->timer_ops->describe(v, f);
	}
	if (guest)
		guest(v, have_tsc ? tsc : 0, f, arg);
}

char *vm_postmortem(struct vm *vm, void (*guest)(struct vcpu *v, uint64_t guest_tsc, FILE *f,
						 void *arg), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (int i = 0; i < vm->nr_vcpus; i++)
		describe_vcpu(&vm->vcpus[i], f, guest, arg);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
