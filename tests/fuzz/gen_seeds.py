#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora under tests/fuzz/corpus/ (committed; rerun after
changing a harness's input format). Every seed is a few hundred bytes:
minimal valid images plus near-misses for the loaders, and short operation
sequences for the timer engine (input format: tests/fuzz/fuzz_vtimer.c)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL = 0x100000
CODE = bytes([0xfa, 0xf4, 0xeb, 0xfd])  # cli; hlt; jmp .


def write(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    assert len(data) < 4096, name
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- ELF64 images for load_vtimer_image ----
def ehdr64(entry, phoff, phnum):
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    return ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, phoff, 0, 0, 64, 56,
                               phnum, 0, 0, 0)


def phdr64(ptype, off, paddr, filesz, memsz, flags=5):
    return struct.pack("<IIQQQQQQ", ptype, flags, off, paddr, paddr, filesz, memsz, 16)


def elf64(segs, entry=KERNEL, phoff=64, pad=b""):
    """segs: (type, paddr, payload, memsz); payloads follow the table."""
    off = phoff + 56 * len(segs)
    table, body = b"", b""
    for t, paddr, payload, memsz in segs:
        table += phdr64(t, off + len(body), paddr, len(payload), memsz)
        body += payload
    head = ehdr64(entry, phoff, len(segs))
    return head + pad + table + body


write("loader", "minimal", elf64([(1, KERNEL, CODE, 0x40)]))
write("loader", "two-segments", elf64([(1, KERNEL, CODE, 0x1000),
                                       (1, KERNEL + 0x1000, b"data" * 8, 0x2000)]))
write("loader", "note-and-load", elf64([(4, 0, b"note" * 4, 16), (1, KERNEL, CODE, 4)]))
write("loader", "overlapping", elf64([(1, KERNEL, CODE * 4, 0x100),
                                      (1, KERNEL + 8, CODE, 0x10)]))
write("loader", "bss-only", elf64([(1, KERNEL, CODE, 4), (1, KERNEL + 0x10000, b"", 0x8000)]))
# Program headers at an offset that is not 8-byte aligned (valid per the file format).
write("loader", "unaligned-phoff", elf64([(1, KERNEL, CODE, 0x40)], phoff=68, pad=bytes(4)))
write("loader", "entry-below-kernel", elf64([(1, KERNEL, CODE, 0x40)], entry=0x5000))
write("loader", "past-ram", elf64([(1, 0x3ff00000, CODE, 0x200000)]))

# ---- Multiboot v1 kernels for load_multiboot ----
MB_MAGIC = 0x1BADB002


def mb_header(flags, addrs=()):
    h = struct.pack("<III", MB_MAGIC, flags, (-(MB_MAGIC + flags)) & 0xffffffff)
    return h + struct.pack("<%dI" % len(addrs), *addrs)


def ehdr32(entry, phoff, phnum):
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    return ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, phoff, 0, 0, 52, 32, phnum,
                               0, 0, 0)


def phdr32(ptype, off, paddr, filesz, memsz):
    return struct.pack("<IIIIIIII", ptype, off, paddr, paddr, filesz, memsz, 5, 4)


def elf32_mb(segs, entry, flags=0x3):
    """ELF header, table, then the payloads; the first payload starts with the
    multiboot header. segs: (paddr, payload, memsz)."""
    off = 52 + 32 * len(segs)
    table, body = b"", b""
    for i, (paddr, payload, memsz) in enumerate(segs):
        if i == 0:
            payload = mb_header(flags) + payload
        table += phdr32(1, off + len(body), paddr, len(payload), memsz)
        body += payload
    return ehdr32(entry, 52, len(segs)) + table + body


write("multiboot", "elf32", elf32_mb([(KERNEL, CODE, 0x1000)], entry=KERNEL + 12))
write("multiboot", "elf32-two", elf32_mb([(KERNEL, CODE, 0x100),
                                          (KERNEL + 0x1000, b"data" * 4, 0x1000)],
                                         entry=KERNEL + 12))
write("multiboot", "elf64-with-header",
      elf64([(1, KERNEL, mb_header(3) + CODE, 0x40)]))
# a.out kludge: header at file offset 0 loaded at 1 MiB, entry after it.
kl = KERNEL
write("multiboot", "kludge-whole-file",
      mb_header(0x10003, (kl, kl, 0, kl + 0x2000, kl + 32)) + CODE * 4)
write("multiboot", "kludge-load-end",
      mb_header(0x10003, (kl, kl, kl + 48, 0, kl + 32)) + CODE * 4)
# header 16 bytes into the file: header_addr - load_addr = 16.
write("multiboot", "kludge-offset",
      bytes(16) + mb_header(0x10000, (kl + 16, kl, 0, kl + 0x100, kl + 48)) + CODE * 4)
write("multiboot", "unknown-required-flag", mb_header(0x8) + CODE)

# ---- Operation sequences for the timer engine (fuzz_vtimer.c) ----
# config byte: vcpus-1 (bits 0-1), housekeeping (bit 2), features (bits 3-5), look (bit 6)
LAZY, HORIZON, DIRECT = 1, 2, 4


def cfg(vcpus, hk, features, look):
    return bytes([(vcpus - 1) | (4 if hk else 0) | (features << 3) | (0x40 if look else 0)])


def raw(v):
    return bytes([0x80]) + struct.pack("<Q", v & (2**64 - 1))


# edge value indices (value() in fuzz_vtimer.c)
ZERO, ONE, ALL1, NOW, NOW1, NOW_US, NOW_MS, FAR, PAST = 0, 1, 3, 8, 9, 11, 12, 13, 14
PAGE0, PAGE1, PAST_RAM, RESERVED, NO_ENABLE = 15, 39, 16, 17, 18
LVTT_DL, LVTT_MASKED, LVTT_BADVEC, LVTT_ONESHOT = 20, 21, 22, 23


def op(code, sel, *vals):
    out = bytes([code, sel])
    for v in vals:
        out += v if isinstance(v, bytes) else bytes([v])
    return out


WR_DL, WR_PV, WR_ANY, RD, PAGE, RAM, SCAN, EXPIRE, LVTT, KICK = range(10)

write("vtimer", "pv-lazy-scan", cfg(2, True, LAZY | HORIZON, True) + b"\x00" +
      op(WR_PV, 0, PAGE0) + op(WR_PV, 1, PAGE1) +
      op(PAGE, 0, 8, NOW_MS) + op(PAGE, 0, 40, LVTT_DL) +
      op(SCAN, 0, FAR, NOW_US) + op(WR_DL, 0, NOW1) + op(EXPIRE, 0) + op(RD, 0) +
      op(PAGE, 1, 8, PAST) + op(SCAN, 1, FAR, ZERO) + op(EXPIRE, 1) + op(EXPIRE, 1) +
      op(RD, 0x41) + op(WR_PV, 0, ZERO) + op(RD, 0))
write("vtimer", "msr-only", cfg(1, False, 0, False) + b"\x01" +
      op(LVTT, 1, LVTT_DL) + op(WR_DL, 0, NOW_MS) + op(RD, 0) + op(KICK, 0) +
      op(EXPIRE, 0) + op(WR_DL, 0, PAST) + op(WR_PV, 0, PAGE0) + op(RD, 0x40) +
      op(LVTT, 0, LVTT_ONESHOT) + op(WR_DL, 0, NOW_US) + op(WR_DL, 0, ZERO))
write("vtimer", "edges", cfg(4, True, LAZY | HORIZON | DIRECT, True) + b"\x04" +
      op(WR_DL, 0, raw(2**63 - 1)) + op(WR_DL, 1, raw(2**63)) + op(WR_DL, 2, raw(2**63 + 1)) +
      op(WR_DL, 3, ALL1) + op(WR_DL, 0, ONE) + op(WR_PV, 1, PAST_RAM) +
      op(WR_PV, 1, RESERVED) + op(WR_PV, 1, NO_ENABLE) + op(WR_PV, 1, raw(2**64 - 1)) +
      op(WR_ANY, 2, raw(0x56544d01), ONE) + op(RD, 0x80, raw(0x6e0)) +
      op(SCAN, 0, ALL1, ALL1) + op(EXPIRE, 0) + op(EXPIRE, 3))
write("vtimer", "look-ahead", cfg(1, True, LAZY, True) + b"\x00" +
      op(WR_PV, 0, PAGE0) + op(PAGE, 0, 40, LVTT_MASKED) + op(PAGE, 0, 8, ONE) +
      op(SCAN, 0, FAR, ZERO) + op(EXPIRE, 0) + op(SCAN, 0, FAR, ZERO) + op(RD, 0) +
      op(EXPIRE, 0) + op(EXPIRE, 0) + op(PAGE, 0, 8, NOW) + op(SCAN, 0, NOW, NOW))
write("vtimer", "vcpu-kick", cfg(2, False, LAZY | HORIZON, True) + b"\x03" +
      op(WR_PV, 1, PAGE1) + op(PAGE, 1, 8, NOW_US) + op(PAGE, 1, 40, LVTT_BADVEC) +
      op(SCAN, 1, NOW_MS, ONE) + op(KICK, 1) + op(EXPIRE, 1) + op(KICK, 1) +
      op(RAM, 0, raw(0x1008), NOW) + op(SCAN, 1, FAR, ONE) + op(WR_PV, 1, PAGE0))
