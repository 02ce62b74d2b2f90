/* SPDX-License-Identifier: MIT */
/*
 * The virtual machine: guest memory, vCPU threads, port-I/O devices and the
 * one exit dispatch table (exit.c).
 *
 * Locking: vm->lock protects console output and device state shared between
 * vCPU threads. vm->stop_lock protects the stop/exit-status/error triple and
 * each vcpu.running; it is never held across anything that can wait, so the
 * watchdog can always stop the run. Per-vCPU counters are written only by the
 * owning vCPU thread and read after it has been joined.
 */
#ifndef VTIMER_MACHINE_H
#define VTIMER_MACHINE_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/kvm.h>

#include "../kvm/kvm.h"
#include "cpufeat.h"
#include "../status.h"

#define VM_MAX_PIO	16
#define VTIMER_SERIAL_BASE	0x3f8
#define VM_SIG_KICK	SIGUSR1		/* kicks a vCPU thread out of KVM_RUN */
#define VM_EXIT_REASONS	64	/* KVM_EXIT_* values we count; larger ones go to "other" */

struct vm;
struct vcpu;
struct timer_engine;

/* A port-I/O device: handler returns 0, or -1 to stop the run (error set). */
typedef int (*pio_fn)(struct vcpu *vcpu, uint16_t port, bool out, int size, uint8_t *data,
		      void *opaque);

struct pio_region {
	uint16_t base, len;
	pio_fn fn;
	void *opaque;
};

/* How vCPU 0 (and the APs) start. */
enum boot_mode {
	BOOT_LONG64,	/* vtimer image: 64-bit long mode, paging on, all vCPUs runnable */
	BOOT_PROT32,	/* multiboot: 32-bit flat protected mode, APs wait for SIPI */
};

struct boot_entry {
	enum boot_mode mode;
	uint64_t rip;
	uint64_t rax, rbx, rdi, rsi;
};

/*
 * Hooks of the timer engine (src/timer/). MSR handlers return 0, or 1 to
 * inject #GP; started/kicked run on the vCPU thread (at start, and when a
 * signal made KVM_RUN return).
 */
struct vm_timer_ops {
	int (*wrmsr)(struct vcpu *vcpu, uint32_t msr, uint64_t val);
	int (*rdmsr)(struct vcpu *vcpu, uint32_t msr, uint64_t *val);
	void (*started)(struct vcpu *vcpu);
	void (*kicked)(struct vcpu *vcpu);
	void (*exited)(struct vcpu *vcpu);	/* after every KVM_RUN return, in its thread */
	void (*describe)(struct vcpu *vcpu, FILE *f);	/* one line, for vm_postmortem */
};

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool running;			/* thread not yet ended: may be kicked (stop_lock) */
	bool done;			/* guest reported this vCPU finished */
	uint64_t exits[VM_EXIT_REASONS + 1];	/* userspace exits by KVM_EXIT_* */
	uint64_t exits_total;
	struct kvm_stats stats;
	/* wake guard (machine.c): set by the run loop, read by vm_run */
	_Atomic uint64_t in_run_ns;	/* CLOCK_MONOTONIC at KVM_RUN entry, 0 outside */
	_Atomic bool guard_kicked;	/* the last kick was the guard's */
	uint64_t guard_kicks;		/* kicks after VM_WAKE_GUARD_NS in KVM_RUN */
	int sched_policy;		/* the thread's scheduling policy as it started */
};

/*
 * A vCPU that stays in KVM_RUN this long without returning is kicked out
 * once, and re-enters. A PVM host can lose a halted vCPU's wake-up: the
 * vCPU stayed halted with IF=1 and the timer vector in its IRR for good
 * (post-mortem of `--timer=lazy` under TSan, about 1 run in 4); a kick and
 * re-entry delivers it (0 hangs in 35 runs: 20 with a kick every 100 ms,
 * 15 with this guard). User space cannot tell such a
 * kick from one that finds a guest simply idle: a vCPU waiting for a far
 * timer costs one kick and one KVM_RUN re-entry per period, nothing else,
 * and a lost wake-up costs at most this much lateness.
 */
#define VM_WAKE_GUARD_NS	100000000ULL

struct vm {
	int kvm_fd, fd;
	uint8_t *mem;
	uint64_t mem_size;
	int nr_vcpus;
	struct vcpu *vcpus;
	int run_size;
	uint64_t tsc_khz;
	uint64_t image_end;		/* first free GPA after the loaded image */
	struct boot_entry entry;
	int pin_cpus;
	struct kvm_cpuid2 *cpuid;

	struct pio_region pio[VM_MAX_PIO];
	int nr_pio;
	void *fwcfg;			/* fw_cfg device state, freed by vm_destroy() */
	void *acpi;			/* ACPI PM device state, freed by vm_destroy() */

	FILE *console;
	bool console_tty;		/* console is a terminal: serial output sanitised */
	/*
	 * Called with each complete console line (no '\n', under vm->lock);
	 * lines longer than the buffer are not passed on. NULL: none.
	 */
	void (*console_line)(void *arg, const char *line, size_t len);
	void *console_arg;
	char line[256];
	size_t line_len;
	bool line_long;
	pthread_mutex_t lock;
	pthread_mutex_t stop_lock;
	_Atomic bool stop;		/* read by the vCPU loops without stop_lock */
	int exit_status;		/* process exit status once stopped */
	char error[256];		/* first reason the run stopped abnormally */
	uint64_t deadline_ns;		/* CLOCK_MONOTONIC run timeout, 0 = none */
	bool timed_out;

	const struct vm_timer_ops *timer_ops;	/* NULL: MSR exits get #GP */
	struct timer_engine *timer;
};

struct vm_config {
	int nr_vcpus;
	uint64_t mem_size;
	FILE *console;
	int pin_cpus;			/* >0: pin vCPU i to host CPU i mod pin_cpus */
	struct cpu_flags cpu;		/* --cpu: features turned on or off */
};

int vm_create(struct vm *vm, const struct vm_config *cfg);
void vm_destroy(struct vm *vm);
/* Host pointer for [gpa, gpa+len) or NULL if any byte lies outside guest RAM. */
void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len);
/* vm_gpa(gpa + idx * stride, len), NULL also if that arithmetic overflows. */
void *vm_gpa_elem(struct vm *vm, uint64_t gpa, uint64_t idx, uint64_t stride, uint64_t len);
int vm_add_pio(struct vm *vm, uint16_t base, uint16_t len, pio_fn fn, void *opaque);
/*
 * Sets up the vCPUs for vm->entry, runs them to completion or timeout. -1 if a
 * vCPU could not be set up (the VM is then stopped with VT_EXIT_KVM).
 */
int vm_run(struct vm *vm);
/* Kicks vCPU id out of KVM_RUN (its timer hooks' `kicked` runs), if its thread runs. */
void vm_kick_vcpu(struct vm *vm, int id);
/*
 * SIGINT and SIGTERM stop the run in progress (status 130, VT_FAIL_SIGNAL)
 * so the partial report is still printed; a second one kills as usual.
 * vm_stop_signal() is the signal caught, 0 if none.
 */
void vm_catch_stop_signals(void);
int vm_stop_signal(void);
/* One watchdog check: stops vm on a caught signal or past its deadline. */
bool vm_watchdog(struct vm *vm, uint64_t now);
/* Stops every vCPU; the first caller's status and reason win. */
void vm_stop(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* vm_stop() for a host failure, with status vt_failure_status(f). */
void vm_fail(struct vm *vm, enum vt_failure f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *exit_reason_name(unsigned int reason);
/* Adds or replaces a CPUID leaf for every vCPU (before vm_run). */
int vm_cpuid_set(struct vm *vm, uint32_t fn, uint32_t eax, uint32_t ebx, uint32_t ecx,
		 uint32_t edx);

/*
 * QEMU's timing leaf (vmware-cpuid-freq): CPUID 0x40000010 EAX = TSC kHz,
 * EBX = APIC bus kHz, and the KVM signature leaf's EAX raised to cover it.
 */
int vm_cpuid_timing_leaf(struct vm *vm);

/*
 * postmortem.c: what each vCPU was doing when a run hung, as text (malloc'd,
 * NULL if out of memory): its run state, registers, local APIC and KVM's
 * TSC-deadline; the timer engine's view (vm_timer_ops.describe); and the
 * guest's own, from guest(v, guest_tsc, f, arg) where given (guest_tsc: the
 * vCPU's IA32_TSC as KVM reads it, 0 if it could not). Call it after
 * vm_run() has returned, so no vCPU is in KVM_RUN.
 */
char *vm_postmortem(struct vm *vm, void (*guest)(struct vcpu *v, uint64_t guest_tsc, FILE *f,
						 void *arg), void *arg);

/* exit.c */
int vcpu_handle_exit(struct vcpu *vcpu);

/* Devices (devices.c). */
int serial_init(struct vm *vm);
/* What the console shows for guest byte c: on a tty, '?' unless printable, \n or \t. */
int serial_console_char(uint8_t c, bool tty);
int debug_exit_init(struct vm *vm);
int fwcfg_init(struct vm *vm);
/* acpi.c: the tables at ACPI_GPA and the PM timer / PM1a ports (acpi.h). */
int acpi_init(struct vm *vm);

/* Loaders (loader.c, multiboot.c): fill vm->entry; -1 with a one-line error. */
int load_vtimer_image(struct vm *vm, const void *img, size_t size, const char *name);
int load_multiboot(struct vm *vm, const void *img, size_t size, const char *name,
		   const char *cmdline);
void *read_file(const char *path, size_t *size);

#endif
