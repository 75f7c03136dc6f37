#!/usr/bin/env bash
# Bad input to the booted hypervisor itself: config blobs and guest ELFs
# that `hx boot` would never write (corrupted, truncated, misplaced), wrong
# module lists, memory that is not there, a CPU without SVM. QEMU boots the
# image on each; the image must refuse with a precise message on its serial
# console and end QEMU with the fatal status (3), never run a guest.
#
# usage: ci/boot-inputs.sh BUILD_DIR   (QEMU required; boot-tests.sh calls it)
set -uo pipefail
build=$(cd "${1:?usage: ci/boot-inputs.sh BUILD_DIR}" && pwd) || exit 2
cd "$(dirname "$0")/.." || exit 2
hx=$build/hx
image=$build/hx_boot.elf
guests=$build/harness/guest
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hx-boot-inputs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0 failed=0 failures=()

# A good module set to start from.
good=$tmp/good
"$hx" boot corpus/configs/kvm-amd-two.json "$guests/cpuid.elf" --write-modules "$good" >/dev/null || {
  echo "boot-inputs: FAILED: hx boot --write-modules"
  exit 1
}

# boot NAME MEM CPU MODULES... : QEMU's status, the serial log in $tmp/NAME.serial
boot() {
  local name=$1 mem=$2 cpu=$3
  shift 3
  local mods
  mods=$(IFS=,; echo "$*")
  timeout 30 qemu-system-x86_64 -accel tcg -cpu "$cpu" -smp 1 -m "$mem" -nodefaults -display none \
    -monitor none -no-reboot -kernel "$image" ${mods:+-initrd "$mods"} -serial "file:$tmp/$name.serial" \
    -chardev "file,id=hxev,path=$tmp/$name.events" -device isa-debugcon,iobase=0x6e9,chardev=hxev \
    -device isa-debug-exit,iobase=0xf4,iosize=4 2>"$tmp/$name.qemu"
}

# expect NAME WANT-TEXT MEM CPU MODULES...
expect() {
  local name=$1 want=$2
  shift 2
  boot "$name" "$@"
  local rc=$?
  if [ "$rc" -ne 3 ]; then
    failed=$((failed + 1)) failures+=("$name")
    echo "boot-inputs: FAIL $name: QEMU exited $rc, want 3 (the image's fatal exit)"
    sed 's/^/    /' "$tmp/$name.serial" 2>/dev/null | tail -5
  elif ! grep -qF -- "$want" "$tmp/$name.serial"; then
    failed=$((failed + 1)) failures+=("$name")
    echo "boot-inputs: FAIL $name: serial console lacks: $want"
    sed 's/^/    /' "$tmp/$name.serial" | tail -5
  elif grep -q "partitions, pool" "$tmp/$name.serial"; then
    failed=$((failed + 1)) failures+=("$name")
    echo "boot-inputs: FAIL $name: the image started guests"
  else
    passed=$((passed + 1))
    echo "boot-inputs: ok   $name: $(grep -m1 'fatal:' "$tmp/$name.serial" | sed 's/^hx-boot: fatal: //')"
  fi
}

# patch SRC DST OFFSET HEXBYTES [reseal]: bytes at OFFSET of a copy of SRC;
# reseal recomputes the blob checksum (FNV-1a 32 of the config bytes).
patch() {
  python3 - "$@" <<'PY'
import struct, sys
src, dst, off, hexbytes = sys.argv[1:5]
reseal = len(sys.argv) > 5
b = bytearray(open(src, "rb").read())
v = bytes.fromhex(hexbytes)
off = int(off, 0)
b[off:off + len(v)] = v
if reseal:
    h = 2166136261
    for x in b[48:]:
        h = ((h ^ x) * 16777619) & 0xffffffff
    b[24:28] = struct.pack("<I", h)
open(dst, "wb").write(b)
PY
}

blob=$good/config.blob g0=$good/guest0.elf g1=$good/guest1.elf
cfgoff=48 # the config after the blob header (hv/boot.h)

patch "$blob" "$tmp/flip.blob" $((cfgoff + 100)) ff
expect blob-checksum "checksum" 64M EPYC "$tmp/flip.blob" "$g0" "$g1"
head -c 1000 "$blob" >"$tmp/short.blob"
expect blob-truncated "bytes, expected" 64M EPYC "$tmp/short.blob" "$g0" "$g1"
head -c 20 "$blob" >"$tmp/tiny.blob"
expect blob-tiny "smaller than the blob header" 64M EPYC "$tmp/tiny.blob" "$g0" "$g1"
patch "$blob" "$tmp/magic.blob" 0 00
expect blob-magic "bad magic" 64M EPYC "$tmp/magic.blob" "$g0" "$g1"
patch "$blob" "$tmp/version.blob" 8 63000000
expect blob-version "version 99" 64M EPYC "$tmp/version.blob" "$g0" "$g1"
patch "$blob" "$tmp/flags.blob" 28 00000080
expect blob-flags "unknown option bits" 64M EPYC "$tmp/flags.blob" "$g0" "$g1"
# Field offsets of struct hv_system_config (hv/config.h): vendor at 24,
# partition 0 at 40, its region 0 at 40 + 48 (size at +16).
patch "$blob" "$tmp/intel.blob" $((cfgoff + 24)) 00000000 reseal
expect config-intel "config says vendor intel" 64M EPYC "$tmp/intel.blob" "$g0" "$g1"
patch "$blob" "$tmp/align.blob" $((cfgoff + 40 + 48 + 16)) 3412000000000000 reseal
expect config-invalid "config rejected: " 64M EPYC "$tmp/align.blob" "$g0" "$g1"
expect no-modules "no modules" 64M EPYC
expect missing-guest "2 modules, expected 3: the config and one guest ELF per partition" 64M EPYC "$blob" "$g0"
expect guest-first "bad magic" 64M EPYC "$g0" "$blob" "$g1"
expect guest-not-elf "partition 1: guest image is not an ELF file" 64M EPYC "$blob" "$g0" "$blob"
head -c 100 "$g0" >"$tmp/short.elf"
expect guest-truncated "partition 0: guest image has a malformed program header table" 64M EPYC "$blob" "$tmp/short.elf" "$g1"
# The first program header's p_paddr (ELF-64: phoff at 32, paddr at +24).
phoff=$(python3 -c "import struct,sys; print(struct.unpack_from('<Q', open(sys.argv[1],'rb').read(), 32)[0])" "$g0")
patch "$g0" "$tmp/low.elf" $((phoff + 24)) 0010000000000000
expect guest-below-load-min "is below 0x10000" 64M EPYC "$blob" "$tmp/low.elf" "$g1"
patch "$g0" "$tmp/far.elf" $((phoff + 24)) 0000f07f00000000
expect guest-outside-ram "is not inside one RAM region of the partition" 64M EPYC "$blob" "$tmp/far.elf" "$g1"
patch "$g0" "$tmp/entry.elf" 24 0000000000000000
expect guest-entry "entry point 0x0 is not in an executable loaded segment" 64M EPYC "$blob" "$tmp/entry.elf" "$g1"
# The channel at 32M and beta's RAM are not memory when QEMU has 24 MiB.
expect memory-missing "is not RAM in the memory map" 24M EPYC "$blob" "$g0" "$g1"
expect cpu-intel "this CPU is not AMD" 64M Skylake-Client "$blob" "$g0" "$g1"
expect cpu-no-svm "has no SVM" 64M EPYC,-svm "$blob" "$g0" "$g1"

[ "$failed" -ne 0 ] && echo "boot-inputs: failed: ${failures[*]}"
echo "boot-inputs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
