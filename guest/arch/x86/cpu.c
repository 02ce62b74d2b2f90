// SPDX-License-Identifier: MIT
/* Per-CPU descriptor tables, the x2APIC and the IDT. */
#include "../../kernel/kernel.h"

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, rsv;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));

extern char timer_entry[], spurious_entry[], other_irq_entry[], ipi_entry[], syscall_entry[];
extern char exc_0[], exc_1[], exc_2[], exc_3[], exc_5[], exc_6[], exc_7[], exc_8[],
	exc_9[], exc_10[], exc_11[], exc_12[], exc_13[], exc_14[], exc_16[], exc_17[],
	exc_18[], exc_19[], exc_20[], exc_21[];

static void set_gate(int vec, void *fn, int dpl)
{
	uint64_t a = (uint64_t)fn;

	idt[vec] = (struct idt_gate){
		.off0 = a, .sel = SEL_KCODE, .type = 0x8e | (dpl << 5),
		.off1 = a >> 16, .off2 = a >> 32,
	};
}

/*
 * Every CPU writes the same gates; the IDT is shared. Every vector from 32
 * up has a gate: one the kernel does not use counts as other_interrupts and
 * is acknowledged, so an interrupt on any vector an LVT names (a hostile
 * guest's own LVTT mirror included) cannot fault on a missing gate.
 */
static void idt_init(void)
{
	static void *const exc[22] = {
		exc_0, exc_1, exc_2, exc_3, 0, exc_5, exc_6, exc_7, exc_8, exc_9, exc_10,
		exc_11, exc_12, exc_13, exc_14, 0, exc_16, exc_17, exc_18, exc_19, exc_20, exc_21,
	};
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) d = {
		sizeof(idt) - 1, (uint64_t)idt,
	};

	for (int i = 0; i < 22; i++)
		if (exc[i])
			set_gate(i, exc[i], 0);
	for (int v = 32; v < 256; v++)
		set_gate(v, other_irq_entry, 0);
	set_gate(VEC_SYSCALL, syscall_entry, 3);
	set_gate(VEC_TIMER, timer_entry, 0);
	set_gate(VEC_WAKE, other_irq_entry, 0);
	set_gate(VEC_IPI, ipi_entry, 0);
	set_gate(VEC_SPURIOUS, spurious_entry, 0);
	__asm__ volatile("lidt %0" : : "m"(d));
}

static void gdt_init(struct cpu *c)
{
	uint64_t base = (uint64_t)&c->tss, limit = sizeof(c->tss) - 1;
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) d = {
		sizeof(c->gdt) - 1, (uint64_t)c->gdt,
	};

	c->gdt[0] = 0;
	c->gdt[1] = 0x00af9b000000ffffULL;	/* kernel code, 64-bit */
	c->gdt[2] = 0x00cf93000000ffffULL;	/* kernel data */
	c->gdt[3] = 0x00cff3000000ffffULL;	/* user data, DPL3 */
	c->gdt[4] = 0x00affb000000ffffULL;	/* user code, 64-bit, DPL3 */
	c->gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
		    (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	c->gdt[6] = base >> 32;
	c->tss.rsp[0] = (uint64_t)(c->kstack + sizeof(c->kstack));
	c->tss.iomap = sizeof(c->tss);
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq $0x08\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1: movw $0x10, %%ax\n\t"
		"movw %%ax, %%ss\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw $0x28, %%ax\n\t"
		"ltr %%ax"
		: : "m"(d) : "rax", "memory");
}

void cpu_init(struct cpu *c)
{
	c->self = c;
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	gdt_init(c);
	idt_init();
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EN | APIC_BASE_EXTD);
	wrmsr(MSR_X2APIC_SVR, APIC_SVR_ENABLE | VEC_SPURIOUS);
	wrmsr(MSR_X2APIC_TPR, 0);
	c->apic_id = rdmsr(MSR_X2APIC_ID);
}

void other_interrupt(void)
{
	struct cpu *c = this_cpu();

	apic_eoi(c);
	c->res->c.spurious++;
}

/* entry.S: an interrupt came between safe_halt's sti and hlt (x86.h). */
void halt_shadow_broken(void)
{
	struct cpu *c = this_cpu();

	c->res->c.halt_shadow_breaks++;
	if (c->measuring && c->res->c.op_hlt)
		c->res->c.op_hlt--;	/* khalt() counted a hlt that is now skipped */
}

extern char wrmsr_safe_insn[], wrmsr_safe_fault[];

uint64_t exception(uint64_t vec, uint64_t err, uint64_t rip)
{
	if (vec == 13 && rip == (uint64_t)wrmsr_safe_insn)
		return (uint64_t)wrmsr_safe_fault;
	printk("guest: exception %lu error 0x%lx at rip 0x%lx\n", vec, err, rip);
	panic("guest CPU exception");
}
