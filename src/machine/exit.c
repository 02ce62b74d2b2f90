// SPDX-License-Identifier: MIT
/*
 * The one VM-exit dispatch table. Every KVM_RUN return that KVM hands to
 * user space is counted by reason, then handled here; a reason without a
 * handler stops the run with its name as the error (VT_FAIL_UNHANDLED_EXIT).
 */
#include <stdio.h>
#include <string.h>

#include "machine.h"
#include "../util.h"

typedef int (*exit_fn)(struct vcpu *vcpu);

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "unknown",
	[KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io",
	[KVM_EXIT_HYPERCALL] = "hypercall",
	[KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open",
	[KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail_entry",
	[KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_SET_TPR] = "set_tpr",
	[KVM_EXIT_TPR_ACCESS] = "tpr_access",
	[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	[KVM_EXIT_SYSTEM_EVENT] = "system_event",
	[KVM_EXIT_IOAPIC_EOI] = "ioapic_eoi",
	[KVM_EXIT_X86_RDMSR] = "rdmsr",
	[KVM_EXIT_X86_WRMSR] = "wrmsr",
};

const char *exit_reason_name(unsigned int reason)
{
	if (reason < ARRAY_SIZE(exit_names) && exit_names[reason])
		return exit_names[reason];
	return "other";
}

static int handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	for (int i = 0; i < vm->nr_pio; i++) {
		struct pio_region *p = &vm->pio[i];

		if (run->io.port < p->base || run->io.port >= p->base + p->len)
			continue;
		for (uint32_t n = 0; n < run->io.count; n++, data += run->io.size)
			if (p->fn(vcpu, run->io.port, out, run->io.size, data, p->opaque) < 0)
				return -1;
		return 0;
	}
	/* Unclaimed ports read as all ones and ignore writes, as on a PC. */
	if (!out)
		memset(data, 0xff, (size_t)run->io.size * run->io.count);
	return 0;
}

static int handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	/* No MMIO devices in user space: reads return ones, writes are dropped. */
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	return 0;
}

/* MSR exits (filter or unknown MSR): the timer engine decides, else #GP. */
static int handle_wrmsr(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	const struct vm_timer_ops *ops = vcpu->vm->timer_ops;

	run->msr.error = ops ? ops->wrmsr(vcpu, run->msr.index, run->msr.data) : 1;
	return 0;
}

static int handle_rdmsr(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	const struct vm_timer_ops *ops = vcpu->vm->timer_ops;
	uint64_t v = 0;

	run->msr.error = ops ? ops->rdmsr(vcpu, run->msr.index, &v) : 1;
	run->msr.data = v;
	return 0;
}

static int handle_intr(struct vcpu *vcpu)
{
	(void)vcpu;
	return 0;	/* a signal kicked us out; the run loop checks vm->stop */
}

static int handle_shutdown(struct vcpu *vcpu)
{
	vm_fail(vcpu->vm, VT_FAIL_TRIPLE_FAULT, "vCPU %d: guest triple fault (shutdown)",
		vcpu->id);
	return -1;
}

static int handle_system_event(struct vcpu *vcpu)
{
	vm_fail(vcpu->vm, VT_FAIL_SYSTEM_EVENT, "vCPU %d: system event %u (reset or power-off)",
		vcpu->id, vcpu->run->system_event.type);
	return -1;
}

static int handle_internal_error(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_regs regs;
	char data[160] = "";
	size_t len = 0;
	unsigned int n = run->internal.ndata;

	/* KVM's data words (for emulation failures: the instruction bytes among them) */
	if (n > sizeof(run->internal.data) / sizeof(run->internal.data[0]))
		n = sizeof(run->internal.data) / sizeof(run->internal.data[0]);
	for (unsigned int i = 0; i < n && len < sizeof(data) - 20; i++)
		len += (size_t)snprintf(data + len, sizeof(data) - len, " %#llx",
					(unsigned long long)run->internal.data[i]);
	if (__kvm_ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		regs.rip = 0;
	vm_fail(vcpu->vm, VT_FAIL_INTERNAL,
		"vCPU %d: KVM internal error, suberror %u%s at rip %#llx, data:%s", vcpu->id,
		run->internal.suberror,
		run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? " (emulation failed)" : "",
		(unsigned long long)regs.rip, n ? data : " none");
	return -1;
}

static int handle_fail_entry(struct vcpu *vcpu)
{
	vm_fail(vcpu->vm, VT_FAIL_ENTRY, "vCPU %d: VM entry failed, reason 0x%llx", vcpu->id,
		(unsigned long long)vcpu->run->fail_entry.hardware_entry_failure_reason);
	return -1;
}

static const exit_fn exit_handlers[] = {
	[KVM_EXIT_IO] = handle_io,
	[KVM_EXIT_MMIO] = handle_mmio,
	[KVM_EXIT_INTR] = handle_intr,
	[KVM_EXIT_X86_WRMSR] = handle_wrmsr,
	[KVM_EXIT_X86_RDMSR] = handle_rdmsr,
	[KVM_EXIT_SHUTDOWN] = handle_shutdown,
	[KVM_EXIT_SYSTEM_EVENT] = handle_system_event,
	[KVM_EXIT_INTERNAL_ERROR] = handle_internal_error,
	[KVM_EXIT_FAIL_ENTRY] = handle_fail_entry,
};

int vcpu_handle_exit(struct vcpu *vcpu)
{
	unsigned int r = vcpu->run->exit_reason;

	vcpu->exits[r < VM_EXIT_REASONS ? r : VM_EXIT_REASONS]++;
	vcpu->exits_total++;
	if (r < ARRAY_SIZE(exit_handlers) && exit_handlers[r])
		return exit_handlers[r](vcpu);
	vm_fail(vcpu->vm, VT_FAIL_UNHANDLED_EXIT, "vCPU %d: unhandled exit reason %u (%s)",
		vcpu->id, r, exit_reason_name(r));
	return -1;
}
