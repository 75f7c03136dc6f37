#!/usr/bin/env python3
"""Extract the PE32 images of an EDK2 firmware image (OVMF_CODE.fd, say).

usage: ovmf_extract.py FIRMWARE.fd OUT_DIR [--runtime]

Walks every firmware volume in the file (UEFI PI spec Vol. 3: the "_FVH"
volume header, FFS files, their sections), opens LZMA-compressed GUID-defined
sections and the volumes inside them, and writes each PE32 section as
OUT_DIR/<name>.efi, named by the file's user-interface section. With
--runtime only EFI runtime drivers (PE Subsystem 12) are written. Prints one
line per image: name, subsystem, size. Exit status 2 on bad input.
"""
import lzma
import os
import stat
import struct
import sys

MAX_FIRMWARE = 64 << 20

LZMA_GUID = bytes.fromhex("98584eee143959429d6edc7bd79403cf")  # EE4E5898-3914-4259-9D6E-DC7BD79403CF
SEC_COMPRESSION, SEC_GUID_DEFINED, SEC_PE32, SEC_UI, SEC_FV_IMAGE = 0x01, 0x02, 0x10, 0x15, 0x17
FILE_PAD, FILE_FREE = 0xF0, 0xFF
FFS_LARGE = 0x01


class Bad(Exception):
    pass


def align(n, a):
    return (n + a - 1) & ~(a - 1)


def sections(data, found, name_hint, depth):
    """Sections of one FFS file: (type, body); GUID-defined LZMA ones opened."""
    off, pe, name = 0, [], name_hint
    while off + 4 <= len(data):
        size = int.from_bytes(data[off:off + 3], "little")
        typ = data[off + 3]
        hdr = 4
        if size == 0xFFFFFF:
            if off + 8 > len(data):
                raise Bad("truncated extended section header")
            size = struct.unpack_from("<I", data, off + 4)[0]
            hdr = 8
        if size < hdr or off + size > len(data):
            raise Bad("section of %d bytes at 0x%x runs past its file" % (size, off))
        body = data[off + hdr:off + size]
        if typ == SEC_UI:
            name = body.decode("utf-16-le", "replace").rstrip("\0")
        elif typ == SEC_PE32:
            pe.append(body)
        elif typ == SEC_FV_IMAGE:
            volumes(body, found, depth + 1)
        elif typ == SEC_GUID_DEFINED and len(body) >= 20:
            guid = body[:16]
            data_off = struct.unpack_from("<H", body, 16)[0] - hdr
            if guid == LZMA_GUID and 0 <= data_off <= len(body):
                try:
                    inner = lzma.decompress(body[data_off:], format=lzma.FORMAT_ALONE)
                except lzma.LZMAError as e:
                    raise Bad("LZMA section: %s" % e)
                sub, n = sections(inner, found, name, depth)
                pe += sub
                name = n or name
        off = align(off + size, 4)
    return pe, name


def volumes(data, found, depth=0):
    """Every firmware volume whose header starts at a 16-byte boundary."""
    if depth > 4:
        return
    off = 0
    while True:
        sig = data.find(b"_FVH", off + 0x28)
        if sig < 0:
            return
        start = sig - 0x28
        if start % 16:
            off = start + 1
            continue
        length = struct.unpack_from("<Q", data, start + 0x20)[0]
        hlen, ext = struct.unpack_from("<HxxH", data, start + 0x30)
        if length < hlen or start + length > len(data) or hlen < 0x38:
            off = start + 16
            continue
        fv = data[start:start + length]
        first = hlen
        if ext:
            if ext + 20 > len(fv):
                raise Bad("volume at 0x%x: extended header past the volume" % start)
            first = align(ext + struct.unpack_from("<I", fv, ext + 16)[0], 8)
        files(fv, first, found, depth)
        off = start + length


def files(fv, off, found, depth):
    while off + 24 <= len(fv):
        typ, attrs = fv[off + 0x12], fv[off + 0x13]
        size = int.from_bytes(fv[off + 0x14:off + 0x17], "little")
        hdr = 24
        if attrs & FFS_LARGE:
            if off + 32 > len(fv):
                raise Bad("truncated large-file header at 0x%x" % off)
            size = struct.unpack_from("<Q", fv, off + 0x18)[0]
            hdr = 32
        if fv[off:off + 24] == b"\xff" * 24 or typ == FILE_FREE:
            return
        if size < hdr or off + size > len(fv):
            raise Bad("file of %d bytes at 0x%x runs past its volume" % (size, off))
        if typ != FILE_PAD:
            guid = fv[off:off + 16]
            pe, name = sections(fv[off + hdr:off + size], found, None, depth)
            for i, image in enumerate(pe):
                found.append((name or guid[::-1].hex(), image))
        off = align(off + size, 8)


def subsystem(image):
    if image[:2] != b"MZ" or len(image) < 0x40:
        return None
    pe = struct.unpack_from("<I", image, 0x3C)[0]
    if pe + 0x5E > len(image) or image[pe:pe + 4] != b"PE\0\0":
        return None
    return struct.unpack_from("<H", image, pe + 24 + 68)[0]


def esc(text):
    """Printable ASCII as is, anything else as \\xNN: paths come from the user."""
    return "".join(c if 0x20 <= ord(c) < 0x7F and c != "\\" else "\\x%02x" % (ord(c) & 0xFF)
                   if ord(c) < 0x100 else "\\u%04x" % ord(c) for c in text)


def read_firmware(src):
    """The file's bytes; a FIFO, a directory or an oversized file is refused
    before anything is read from it."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise Bad(e.strerror)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise Bad("is a directory, not a firmware image")
        if not stat.S_ISREG(st.st_mode):
            raise Bad("is not a regular file (a FIFO or a device?)")
        if st.st_size > MAX_FIRMWARE:
            raise Bad("%d bytes: larger than %d MiB" % (st.st_size, MAX_FIRMWARE >> 20))
        with os.fdopen(fd, "rb") as f:
            fd = -1
            return f.read(MAX_FIRMWARE + 1)
    finally:
        if fd >= 0:
            os.close(fd)


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    runtime = "--runtime" in argv
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    src, out = args
    found = []
    try:
        try:
            volumes(read_firmware(src), found)
        except (struct.error, IndexError, ValueError, UnicodeError) as e:
            raise Bad("malformed firmware volume (%s)" % e)
    except Bad as e:
        print("ovmf_extract: %s: %s" % (esc(src), e), file=sys.stderr)
        return 2
    if not found:
        print("ovmf_extract: %s: no firmware volume with PE32 images" % esc(src), file=sys.stderr)
        return 2
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        print("ovmf_extract: %s: %s" % (esc(out), e.strerror), file=sys.stderr)
        return 2
    seen, lines = set(), []
    for name, image in found:
        sub = subsystem(image)
        if runtime and sub != 12:
            continue
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        while safe in seen:
            safe += "_"
        seen.add(safe)
        path = os.path.join(out, safe + ".efi")
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(image)
        os.replace(tmp, path)
        lines.append("%s subsystem %s %d bytes" % (safe, sub, len(image)))
    try:
        print("\n".join(lines))
        sys.stdout.flush()
    except BrokenPipeError:  # a reader that stopped early (| head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
