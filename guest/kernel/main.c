// SPDX-License-Identifier: MIT
/*
 * Guest kernel entry. The VMM starts every vCPU in long mode at _start (it
 * plays the firmware's role in SMP bring-up); each CPU sets up its own
 * descriptor tables and x2APIC, waits for the others, then drops to CPL3 to
 * run its workload task. The task leaves through SYS_EXIT -> cpu_finish().
 */
#include "kernel.h"

const struct vtimer_boot *boot;
uint64_t tick_cycles;
static struct cpu cpus[VTIMER_MAX_VCPUS];
static volatile uint32_t online;
static struct vtimer_boot boot_copy;
static uint32_t boot_ready;

static void check_boot(const struct vtimer_boot *b)
{
	if (b->magic != VTIMER_BOOT_MAGIC || b->version != VTIMER_ABI_VERSION)
		panic("boot record: bad magic or ABI version");
	if (!b->nr_cpus || b->nr_cpus > VTIMER_MAX_VCPUS || !b->tsc_khz)
		panic("boot record: bad CPU count or TSC frequency");
}

void kmain(uint64_t id, const struct vtimer_boot *b)
{
	struct cpu *c = &cpus[id < VTIMER_MAX_VCPUS ? id : 0];

	c->id = id;
	c->ucall = (struct vtimer_ucall *)VTIMER_GPA_UCALL + c->id;
	cpu_init(c);
	check_boot(b);
	if (id >= b->nr_cpus)
		panic("CPU index beyond the boot record's CPU count");
	/* The guest runs on its own copy: the record in guest memory is just
	 * memory (the hostile workload overwrites it). */
	if (id == 0) {
		boot_copy = *b;
		__atomic_store_n(&boot_ready, 1, __ATOMIC_RELEASE);
	}
	while (!__atomic_load_n(&boot_ready, __ATOMIC_ACQUIRE))
		cpu_relax();
	/*
	 * From here on only the copy: once every CPU is online the hostile
	 * workload overwrites the record, and a CPU still reading it for the
	 * CPU count would wait forever (seen nested: --attack=records, 73).
	 */
	boot = &boot_copy;
	tick_cycles = boot->tick_ns * boot->tsc_khz / 1000000;
	c->res = (struct vtimer_result *)boot->results_gpa + id;
	c->samples = (int64_t *)boot->samples_gpa + id * boot->samples_per_cpu;
	c->res->version = VTIMER_ABI_VERSION;
	c->res->cpu = id;
	c->res->apic_id = c->apic_id;
	c->lapic_mode = boot->lapic_mode;
	pv_discover();
	pv_enable();
	pv_eoi_enable();
	clockevent_init();
	clockevent_calibrate();
	if (id == 0)
		printk("vtimer guest: %u CPUs, TSC %lu kHz, LAPIC timer %s\n", boot->nr_cpus,
		       boot->tsc_khz, c->pv ? "with PV page" : "plain");
	__atomic_add_fetch(&online, 1, __ATOMIC_SEQ_CST);
	while (online < boot->nr_cpus)
		cpu_relax();
	c->res->state = VTIMER_RES_RUNNING;
	c->res->tsc_start = rdtsc();
	c->measuring = true;
	enter_user(workload_main, id, c->ustack + sizeof(c->ustack));
}

void cpu_finish(int status)
{
	struct cpu *c = this_cpu();

	tick_stop();
	clockevent_program(0, 0, false);
	c->res->tsc_end = rdtsc();
	c->measuring = false;
	c->res->state = status ? VTIMER_RES_FAILED : VTIMER_RES_DONE;
	ucall(VTIMER_UCALL_DONE, status, 0);
	for (;;)
		__asm__ volatile("cli; hlt");
}
