// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm.h"
#include "probe.h"
#include "../util.h"

#define CAP(x) { #x, x }

/* The capabilities vtimer relies on now or is expected to. */
static const struct { const char *name; long cap; } probe_caps[] = {
	CAP(KVM_CAP_IRQCHIP), CAP(KVM_CAP_X2APIC_API), CAP(KVM_CAP_TSC_DEADLINE_TIMER),
	CAP(KVM_CAP_GET_TSC_KHZ), CAP(KVM_CAP_TSC_CONTROL), CAP(KVM_CAP_VM_TSC_CONTROL),
	CAP(KVM_CAP_SIGNAL_MSI), CAP(KVM_CAP_IRQ_ROUTING), CAP(KVM_CAP_X86_USER_SPACE_MSR),
	CAP(KVM_CAP_X86_MSR_FILTER), CAP(KVM_CAP_BINARY_STATS_FD), CAP(KVM_CAP_IMMEDIATE_EXIT),
	CAP(KVM_CAP_SPLIT_IRQCHIP), CAP(KVM_CAP_VCPU_ATTRIBUTES),
#ifdef KVM_CAP_X86_APIC_BUS_CYCLES_NS
	CAP(KVM_CAP_X86_APIC_BUS_CYCLES_NS),
#endif
	CAP(KVM_CAP_MAX_VCPUS),
};
_Static_assert(ARRAY_SIZE(probe_caps) <= PROBE_MAX_CAPS, "grow PROBE_MAX_CAPS");

/* Timer and interrupt-delivery knobs; which exist depends on vendor and kernel age. */
static const char *const probe_params[] = {
	"kvm_intel.enable_apicv", "kvm_intel.enable_ipiv", "kvm_intel.preemption_timer",
	"kvm_amd.avic", "kvm.pi_inject_timer", "kvm.lapic_timer_advance",
	"kvm.lapic_timer_advance_ns", "kvm.min_timer_period_us",
};

static const char *const vendor_modules[] = { "kvm_intel", "kvm_amd", "kvm_pvm" };

static bool module_loaded(const char *mod)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s", mod);
	return access(path, F_OK) == 0;
}

/* "mod.param" -> its sysfs value, trailing newline dropped. */
static bool read_param(const char *mod, const char *param, char *val, size_t size)
{
	char path[256];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod, param);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(val, size, f) != NULL;
	fclose(f);
	if (!ok)
		val[0] = 0;
	val[strcspn(val, "\n")] = 0;
	return true;
}

static void probe_param_read(struct probe_param *pp, const char *modparam)
{
	char mod[32];
	const char *dot = strchr(modparam, '.');

	snprintf(pp->name, sizeof(pp->name), "%s", modparam);
	snprintf(mod, sizeof(mod), "%.*s", (int)(dot - modparam), modparam);
	pp->present = read_param(mod, dot + 1, pp->value, sizeof(pp->value));
}

/*
 * Hardware APIC-timer virtualization would show up as a vendor-module switch;
 * kvm.ko's own lapic_timer_advance is the software timer, so only vendor
 * modules are searched.
 */
static void probe_timer_virt(struct kvm_host_probe *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(vendor_modules); i++) {
		const char *mod = vendor_modules[i];
		char dir[128];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "/sys/module/%s/parameters", mod);
		d = opendir(dir);
		if (!d)
			continue;
		snprintf(p->timer_virt_searched + strlen(p->timer_virt_searched),
			 sizeof(p->timer_virt_searched) - strlen(p->timer_virt_searched),
			 "%s%s", p->timer_virt_searched[0] ? " " : "", mod);
		while ((de = readdir(d)) && p->nr_timer_virt < PROBE_MAX_PARAMS) {
			struct probe_param *pp = &p->timer_virt[p->nr_timer_virt];

			if (!strstr(de->d_name, "apic_timer") && !strstr(de->d_name, "timer_virt"))
				continue;
			if ((size_t)snprintf(pp->name, sizeof(pp->name), "%s.%s", mod, de->d_name) >=
			    sizeof(pp->name))
				continue;	/* longer than any real parameter name */
			pp->present = read_param(mod, de->d_name, pp->value, sizeof(pp->value));
			p->nr_timer_virt++;
		}
		closedir(d);
	}
}

bool kvm_probe_timer_virt(const struct kvm_host_probe *p)
{
	for (int i = 0; i < p->nr_timer_virt; i++)
		if (!strcmp(p->timer_virt[i].value, "Y") || !strcmp(p->timer_virt[i].value, "1"))
			return true;
	return false;
}

static void probe_cpuinfo(struct kvm_host_probe *p)
{
	char *line = NULL;
	size_t cap = 0;
	bool vendor = false, flags = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(p->cpu_vendor, sizeof(p->cpu_vendor), "unknown");
	if (!f)
		return;
	while ((!vendor || !flags) && getline(&line, &cap, f) > 0) {
		char *v = strchr(line, ':');

		if (!v)
			continue;
		v++;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = 0;
		if (!vendor && !strncmp(line, "vendor_id", 9)) {
			snprintf(p->cpu_vendor, sizeof(p->cpu_vendor), "%s", v);
			vendor = true;
		} else if (!flags && !strncmp(line, "flags", 5)) {
			for (char *t = strtok(v, " "); t; t = strtok(NULL, " "))
				if (!strcmp(t, "hypervisor"))
					p->host_is_guest = true;
			flags = true;
		}
	}
	free(line);
	fclose(f);
}

static void probe_flavour(struct kvm_host_probe *p)
{
	static const char *const flavours[] = { "vmx", "svm", "pvm" };

	p->flavour = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(vendor_modules); i++) {
		if (!module_loaded(vendor_modules[i]))
			continue;
		if (!p->flavour)
			p->flavour = flavours[i];
		snprintf(p->modules + strlen(p->modules), sizeof(p->modules) - strlen(p->modules),
			 "%s%s", p->modules[0] ? " " : "", vendor_modules[i]);
	}
	if (!p->flavour)
		p->flavour = "unknown";
}

int kvm_probe_host(int kvm_fd, struct kvm_host_probe *p)
{
	int vm_fd, vcpu_fd = -1;

	memset(p, 0, sizeof(*p));
	p->api_version = __kvm_ioctl(kvm_fd, KVM_GET_API_VERSION, NULL);
	probe_flavour(p);
	probe_cpuinfo(p);
	for (size_t i = 0; i < ARRAY_SIZE(probe_params); i++)
		probe_param_read(&p->params[p->nr_params++], probe_params[i]);
	probe_timer_virt(p);

	vm_fd = kvm_ioctl(kvm_fd, KVM_CREATE_VM, 0);
	p->vm_caps = vm_fd >= 0 && kvm_check_cap(kvm_fd, KVM_CAP_CHECK_EXTENSION_VM) > 0;
	for (size_t i = 0; i < ARRAY_SIZE(probe_caps); i++) {
		struct probe_cap *c = &p->caps[p->nr_caps++];

		c->name = probe_caps[i].name;
		c->cap = probe_caps[i].cap;
		c->sys = kvm_check_cap(kvm_fd, c->cap);
		c->vm = p->vm_caps ? kvm_check_cap(vm_fd, c->cap) : c->sys;
	}
	if (vm_fd < 0) {
		p->tsc_khz = vm_fd;
		return -1;
	}
	/* The TSC rate is a per-vCPU property: a VM's vCPUs may differ from the host's. */
	vcpu_fd = kvm_ioctl(vm_fd, KVM_CREATE_VCPU, 0L);
	p->tsc_khz = vcpu_fd < 0 ? vcpu_fd : __kvm_ioctl(vcpu_fd, KVM_GET_TSC_KHZ, NULL);
	if (vcpu_fd >= 0)
		close(vcpu_fd);
	close(vm_fd);
	return vcpu_fd < 0 ? -1 : 0;
}
