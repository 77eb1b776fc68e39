#!/usr/bin/env python3
"""Marks one symbol-version requirement of an ELF64 shared library weak (VER_FLG_WEAK), so that the dynamic loader
only notes, instead of refusing, a libstdc++ that lacks that version. ELF gABI 'Symbol Versioning' (Verneed/Vernaux,
SHT_GNU_verneed = 0x6ffffffe); glibc's dl-version.c treats a missing weak version as a warning. Usage:
    weaken_verneed.py LIBRARY VERSION         e.g. weaken_verneed.py libLibTorchSharp.so GLIBCXX_3.4.32
Prints what it changed; exits 0 when the requirement is (now) weak, 1 when the library does not require it."""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def main(path, version):
    with open(path, 'r+b') as f:
        data = bytearray(f.read())
        if data[:4] != b'\x7fELF' or data[4] != 2 or data[5] != 1:
            sys.exit(f'{path}: not a little-endian ELF64 file')
        shoff, = struct.unpack_from('<Q', data, 0x28)
        shentsize, shnum = struct.unpack_from('<HH', data, 0x3A)
        sections = [struct.unpack_from('<IIQQQQIIQQ', data, shoff + i * shentsize) for i in range(shnum)]
        for (_, sh_type, _, _, offset, _, link, info, _, _) in sections:
            if sh_type != SHT_GNU_VERNEED:
                continue
            strtab = sections[link][4]
            need = offset
            for _ in range(info):
                _, cnt, _, aux, nxt = struct.unpack_from('<HHIII', data, need)
                a = need + aux
                for _ in range(cnt):
                    _, flags, _, name, anext = struct.unpack_from('<IHHII', data, a)
                    end = data.index(b'\0', strtab + name)
                    if data[strtab + name:end].decode() == version:
                        if not flags & VER_FLG_WEAK:
                            struct.pack_into('<H', data, a + 4, flags | VER_FLG_WEAK)
                            f.seek(0)
                            f.write(data)
                            print(f'{path}: {version} requirement marked weak')
                        return 0
                    a += anext
                need += nxt
    print(f'{path}: does not require {version}')
    return 1


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
