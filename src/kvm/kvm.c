// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm.h"
#include "../util.h"

int __kvm_ioctl(int fd, unsigned long req, void *arg)
{
	int r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

int _kvm_ioctl(int fd, unsigned long req, const char *name, void *arg)
{
	int r = __kvm_ioctl(fd, req, arg);

	if (r < 0)
		vt_err("%s: %s", name, strerror(-r));
	return r;
}

int kvm_vcpu_msr(int vcpu_fd, unsigned long req, uint32_t idx, uint64_t *val)
{
	uint64_t buf[(sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)) / 8] = { 0 };
	struct kvm_msrs *m = (struct kvm_msrs *)buf;
	int r;

	m->nmsrs = 1;
	m->entries[0].index = idx;
	m->entries[0].data = *val;
	r = __kvm_ioctl(vcpu_fd, req, m);
	if (r < 0)
		return r;
	if (r != 1)
		return -EINVAL;
	*val = m->entries[0].data;
	return 0;
}

int kvm_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int v;

	if (fd < 0) {
		vt_err("cannot open /dev/kvm: %s%s", strerror(errno),
		       errno == ENOENT ? " (is KVM loaded and exposed here?)" :
		       errno == EACCES ? " (need root or the kvm group)" : "");
		return -1;
	}
	v = __kvm_ioctl(fd, KVM_GET_API_VERSION, NULL);
	if (v != KVM_API_VERSION) {
		vt_err("/dev/kvm: unsupported KVM API version %d (want %d)", v, KVM_API_VERSION);
		close(fd);
		return -1;
	}
	return fd;
}

int kvm_check_cap(int fd, long cap)
{
	return __kvm_ioctl(fd, KVM_CHECK_EXTENSION, (void *)cap);
}

struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd)
{
	int n = 256;

	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		int r;

		if (!c)
			return NULL;
		c->nent = n;
		r = __kvm_ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c);
		if (r >= 0)
			return c;
		free(c);
		if (r != -E2BIG || n > 4096) {
			vt_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(-r));
			return NULL;
		}
		n *= 2;
	}
}

struct kvm_cpuid_entry2 *kvm_cpuid_find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

int kvm_stats_open(int fd, struct kvm_stats *st)
{
	struct kvm_stats_header h;
	size_t dsz;
	char *descs;
	int r;

	memset(st, 0, sizeof(*st));
	st->fd = __kvm_ioctl(fd, KVM_GET_STATS_FD, NULL);
	if (st->fd < 0)
		return st->fd;
	if (pread(st->fd, &h, sizeof(h), 0) != sizeof(h))
		goto fail;
	dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = calloc(h.num_desc, dsz);
	if (!descs || pread(st->fd, descs, dsz * h.num_desc, h.desc_offset) !=
		      (ssize_t)(dsz * h.num_desc)) {
		free(descs);
		goto fail;
	}
	st->n = h.num_desc;
	st->names = calloc(st->n, sizeof(char *));
	st->flags = calloc(st->n, sizeof(uint32_t));
	st->offsets = calloc(st->n, sizeof(uint64_t));
	st->sizes = calloc(st->n, sizeof(uint32_t));
	st->data_off = h.data_offset;
	for (int i = 0; i < st->n; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * dsz);
		uint64_t end = d->offset / 8 + d->size;

		st->names[i] = strndup(d->name, h.name_size);
		st->flags[i] = d->flags;
		st->offsets[i] = d->offset / 8;
		st->sizes[i] = d->size;
		if (end > (uint64_t)st->data_words)
			st->data_words = end;
	}
	free(descs);
	return 0;
fail:
	r = -EIO;
	close(st->fd);
	st->fd = -1;
	return r;
}

int kvm_stats_read(struct kvm_stats *st, uint64_t *vals)
{
	size_t sz = st->data_words * sizeof(uint64_t);
	uint64_t *data = malloc(sz ? sz : 8);

	if (!data)
		return -ENOMEM;
	if (pread(st->fd, data, sz, st->data_off) != (ssize_t)sz) {
		free(data);
		return -EIO;
	}
	/* A histogram stat is reported as its total count (sum of buckets). */
	for (int i = 0; i < st->n; i++) {
		vals[i] = 0;
		for (uint32_t k = 0; k < st->sizes[i]; k++)
			vals[i] += data[st->offsets[i] + k];
	}
	free(data);
	return 0;
}

int kvm_stats_find(const struct kvm_stats *st, const char *name)
{
	for (int i = 0; i < st->n; i++)
		if (!strcmp(st->names[i], name))
			return i;
	return -1;
}

int kvm_stats_read_one(const struct kvm_stats *st, int idx, uint64_t *val)
{
	if (st->fd < 0 || idx < 0 || idx >= st->n)
		return -EINVAL;
	if (pread(st->fd, val, sizeof(*val), st->data_off + st->offsets[idx] * 8) != sizeof(*val))
		return -EIO;
	return 0;
}

void kvm_stats_close(struct kvm_stats *st)
{
	for (int i = 0; i < st->n; i++)
		free(st->names[i]);
	free(st->names);
	free(st->flags);
	free(st->offsets);
	free(st->sizes);
	if (st->fd >= 0)
		close(st->fd);
	memset(st, 0, sizeof(*st));
	st->fd = -1;
}
