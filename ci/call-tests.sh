#!/usr/bin/env bash
# Sandboxed firmware calls (hx call, harness/kvm/call.h) on /dev/kvm: the
# runtime-services image answers, every hostile function is contained and
# reported as it must be, bad input exits 2.
#
# usage: ci/call-tests.sh BUILD_DIR
# Without /dev/kvm it prints "call: SKIPPED" and succeeds, unless
# HX_REQUIRE_KVM=1. Exit status: 0 all passed, 1 any failure.
set -uo pipefail
build=$(cd "${1:?usage: ci/call-tests.sh BUILD_DIR}" && pwd) || exit 2
cd "$(dirname "$0")/.." || exit 2
if [ ! -e /dev/kvm ]; then
  if [ "${HX_REQUIRE_KVM:-0}" = 1 ]; then echo "call: FAILED: /dev/kvm not present and HX_REQUIRE_KVM=1"; exit 1; fi
  echo "call: SKIPPED: /dev/kvm not present"
  exit 0
fi
hx=$build/hx
fw=$build/harness/guest
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hx-call.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 failures=()

# check NAME WANT_RC "LINE" ARGS...: exit code and a line of the output.
check() {
  local name=$1 want=$2 line=$3
  shift 3
  timeout 60 "$hx" call "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    failed=$((failed + 1)) failures+=("$name")
    echo "call: FAIL $name: exit $rc, want $want"
    sed 's/^/    /' "$tmp/out" | tail -8
  elif ! grep -qF -- "$line" "$tmp/out"; then
    failed=$((failed + 1)) failures+=("$name")
    echo "call: FAIL $name: output lacks: $line"
    sed 's/^/    /' "$tmp/out" | tail -8
  else
    passed=$((passed + 1))
    echo "call: ok   $name: $(grep -m1 -E '^(result|fault|not ended):' "$tmp/out" || tail -n 1 "$tmp/out")"
  fi
}

# The UCS-2 name and vendor GUID (EFI_GLOBAL_VARIABLE) of a variable.
printf 'B\0o\0o\0t\0O\0r\0d\0e\0r\0\0\0' >"$tmp/name"
printf '\x61\xdf\xe4\x8b\xca\x93\xd2\x11\xaa\x0d\x00\xe0\x98\x03\x2b\x8c' >"$tmp/guid"
printf '\x61\xdf\xe4\x8b\xca\x93\xd2\x11\xaa\x0d\x00\xe0\x98\x03\x2b\x8d' >"$tmp/guid2"
printf '\x01\x00\x02\x00' >"$tmp/data"
printf '\x08\x00\x00\x00\x00\x00\x00\x00' >"$tmp/size8"
N="@$tmp/name" G="@$tmp/guid"

for cfg in sandbox sandbox-amd; do
  C=corpus/configs/$cfg.json
  t=${cfg#sandbox}
  # The runtime-services image as a static ELF and as a PE32+ runtime
  # driver (gnu-efi), by its functions' symbols (MS x64, as EFI calls).
  for R in $fw/fw_runtime_services.elf $fw/fw_runtime_services.efi; do
    f=$t-${R##*.}
    check "get-time$f" 0 "ea 07 0c 04 0d 2d 3b 00 00 00 00 00 ff 07 00 00" $C $R get_time --abi ms out:16 0
    check "get-time-null$f" 0 "result: 0x8000000000000002" $C $R get_time --abi ms 0 0
    check "monotonic$f" 0 "01 00 00 00 00 00 00 00" $C $R get_next_monotonic_count --abi ms out:8
    check "get-variable-absent$f" 0 "result: 0x800000000000000e" $C $R get_variable --abi ms "$N" "$G" 0 out:8 0
    check "set-variable$f" 0 "result: 0x0" $C $R set_variable --abi ms "$N" "$G" 7 4 "@$tmp/data"
    # Several calls on one sandbox: state persists, a reset forgets it.
    check "variable-round-trip$f" 0 "01 00 02 00 00 00 00 00" $C $R --abi ms set_variable "$N" "$G" 7 4 "@$tmp/data" \
      --then get_variable "$N" "$G" out:4 "inout:$tmp/size8" out:8
    check "variable-guid-counts$f" 0 "result: 0x800000000000000e" $C $R --abi ms set_variable "$N" "$G" 7 4 "@$tmp/data" \
      --then get_variable "$N" "@$tmp/guid2" out:4 "inout:$tmp/size8" out:8
    check "monotonic-counts-on$f" 0 "02 00 00 00 00 00 00 00" $C $R --abi ms get_next_monotonic_count out:8 \
      --then get_next_monotonic_count out:8
    # A port-I/O call after another call: no violation (the oracle takes
    # the re-arm between calls).
    check "io-after-a-call$f" 0 "ea 07 0c 04 0d 2d 3b 00" $C $R --abi ms get_next_monotonic_count out:8 \
      --then get_time out:16 0
    check "reset-forgets$f" 0 "result: 0x800000000000000e" $C $R --abi ms set_variable "$N" "$G" 7 4 "@$tmp/data" \
      --reset-then get_variable "$N" "$G" out:4 "inout:$tmp/size8" out:8
    check "reset-system$f" 1 "a reset of the machine was requested; nothing was reset" $C $R reset_system --abi ms 0
  done
  # The PE32+ runtime driver started as UEFI starts it: its entry point
  # installs its services in the system table, called by their names.
  E=$fw/fw_runtime_services.efi
  check "efi-started$t" 0 "-- end of the image's EFI entry point" $C $E GetTime --abi ms out:16 0
  check "efi-get-time$t" 0 "ea 07 0c 04 0d 2d 3b 00 00 00 00 00 ff 07 00 00" $C $E GetTime --abi ms out:16 0
  check "efi-variable-round-trip$t" 0 "01 00 02 00 00 00 00 00" $C $E --abi ms SetVariable "$N" "$G" 7 4 "@$tmp/data" \
    --then GetVariable "$N" "$G" out:4 "inout:$tmp/size8" out:8
  check "efi-high-monotonic$t" 0 "01 00 00 00 01 00 00 00" $C $E --abi ms GetNextHighMonotonicCount out:4 \
    --then get_next_monotonic_count out:8
  check "efi-reset-restarts$t" 0 "result: 0x800000000000000e" $C $E --abi ms SetVariable "$N" "$G" 7 4 "@$tmp/data" \
    --reset-then GetVariable "$N" "$G" out:4 "inout:$tmp/size8" out:8
  check "efi-reset-system$t" 1 "a reset of the machine was requested; nothing was reset" $C $E ResetSystem --abi ms 0 0 0 0
  check "call-after-fault$t" 1 "result: 0xcc (204)" $C $fw/fw_hostile.elf undefined_insn --then add 1 2 3 4 5 6 7 8
  # The hostile image as a static ELF and as a PE32+ driver (gnu-efi).
  for H in $fw/fw_hostile.elf $fw/fw_hostile.efi; do
    h=$t-${H##*.}
    # Arguments in registers and on the stack, both conventions.
    check "sysv-8-args$h" 0 "result: 0xcc (204)" $C $H add 1 2 3 4 5 6 7 8
    check "ms-6-args$h" 0 "result: 0x5b (91)" $C $H add_ms --abi ms 1 2 3 4 5 6
    # Hostile functions: contained, reported, the caller carries on.
    check "wrmsr-lstar$h" 1 "WRMSR MSR 0xc0000082: refused (exception)" $C $H write_lstar
    check "wrmsr-efer$h" 1 "WRMSR MSR 0xc0000080: refused (exception)" $C $H write_efer
    check "rdmsr-host$h" 1 "RDMSR MSR 0x3a: refused (exception)" $C $H read_host_msr
    check "wild-read$h" 1 "access to GPA 0x70000000 (read): refused (exception)" $C $H wild_read 0x70000000
    check "wild-write-unmapped$h" 1 "access to GPA 0x1000000 (write): refused (exception)" $C $H wild_write 0x1000000
    # The guard page under the call's stack (sandbox.json).
    check "wild-write-guard$h" 1 "access to GPA 0x300800 (write): refused (exception)" $C $H wild_write 0x300800
    check "stack-overflow$h" 1 "fault: vector 13 (#GP)" $C $H stack_overflow
    check "ud2$h" 1 "fault: vector 6 (#UD)" $C $H undefined_insn
    check "divide-by-zero$h" 1 "fault: vector 0 (#DE)" $C $H divide_by_zero 0
    check "hlt$h" 1 "not ended: halted: hlt" $C $H halt
    check "spin$h" 1 "not ended: timeout" $C $H spin --timeout 1
    check "pci-config$h" 1 "OUT port 0xcf8 (4 bytes): refused (exception)" $C $H pci_config
    check "smi-port$h" 1 "OUT port 0xb2 (1 byte): refused (exception)" $C $H smi
    check "self-modifying$h" 0 "result: 0x2 (2)" $C $H self_modify
    # A call that overwrites the stub's IDT in its own RAM, then one that
    # faults: hx writes the stub again before each call, the fault is reported.
    check "idt-smashed-then-fault$h" 1 "fault: vector 6 (#UD)" $C $H smash_idt --then undefined_insn
    # A call with an IDT of its own: a fault it cannot take shuts the vCPU
    # down, contained; one it handles is its own business.
    check "own-idt-shutdown$h" 1 "not ended: halted: triple-fault" $C $H own_idt
    check "own-idt-handled$h" 0 "result: 0x1d7 (471)" $C $H own_idt_handled
    # Control registers: KVM here reports no CR writes, so a change the
    # CPU allows is found after the call; one it refuses faults.
    check "cr0-wp-cleared$h" 1 "control register: CR0 0x80010033 -> 0x80000033 (WP cleared)" $C $H clear_cr0_wp
    check "cr4-vmxe$h" 1 "fault: vector 13 (#GP)" $C $H set_cr4_vmxe
    check "cr0-pg-cleared$h" 1 "fault: vector 13 (#GP)" $C $H clear_cr0_pg
    check "buffer-overrun$h" 1 "buffer (argument 0, 8 bytes at GPA 0x3effe0): the call wrote outside it" $C $H overflow_buffer out:8 8
    check "buffer-in-bounds$h" 0 "42 42 42 42 42 42 42 42" $C $H overflow_buffer out:8 7
  done
done

# Bad input: a precise message and exit 2.
C=corpus/configs/sandbox.json
check "no-symbol" 2 "the image has no symbol nonexistent" $C $fw/fw_hostile.elf nonexistent
check "address-outside-code" 2 "0x1234 is not in an executable segment of the image" $C $fw/fw_hostile.elf 0x1234
check "bad-argument" 2 "argument 12q is not an integer, @FILE, out:LEN or inout:FILE" $C $fw/fw_hostile.elf add 12q
check "bad-abi" 2 "--abi win: expected sysv or ms" $C $fw/fw_hostile.elf add --abi win
check "out-zero" 2 "out:LEN needs a length of 1 to 1048576 bytes" $C $fw/fw_hostile.elf add out:0
check "in-buffer-fifo" 2 "is a FIFO, not a regular file" $C $fw/fw_hostile.elf add "@$(mkfifo "$tmp/fifo" && echo "$tmp/fifo")"
check "too-many-args" 2 "too many arguments (at most 16)" $C $fw/fw_hostile.elf add 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17
# -o never replaces a FIFO (written as traces are: temp file, rename).
mkfifo "$tmp/out-fifo"
check "out-file-fifo" 2 "out-fifo: is a FIFO, not a regular file: refusing to replace it with a copy of the out-buffer" \
  $C $fw/fw_runtime_services.elf get_time --abi ms out:16 0 -o "$tmp/out-fifo"
if [ ! -p "$tmp/out-fifo" ]; then
  failed=$((failed + 1)) failures+=(out-file-fifo-kept)
  echo "call: FAIL out-file-fifo-kept: the FIFO was replaced"
fi
check "missing-symbol" 2 "missing CONFIG.json, IMAGE or SYMBOL" $C $fw/fw_hostile.elf
# EFI images whose entry point spins or faults (fw_hostile.efi with its
# AddressOfEntryPoint moved onto spin and divide_by_zero): the call is not
# made, the start is reported, contained.
python3 - "$fw/fw_hostile.efi" "$tmp" <<'PY'
import struct, subprocess, sys
src, out = sys.argv[1], sys.argv[2]
data = bytearray(open(src, "rb").read())
pe = struct.unpack_from("<I", data, 0x3C)[0]
syms = subprocess.run(["objdump", "-t", src], capture_output=True, text=True).stdout
text_rva = struct.unpack_from("<I", data, pe + 24 + 240 + 12)[0]  # the first section, .text
for name in ("spin", "divide_by_zero"):
    value = [int(l.split()[-2], 16) for l in syms.splitlines() if l.endswith(" " + name)][0]
    img = bytearray(data)
    struct.pack_into("<I", img, pe + 24 + 16, text_rva + value)
    open("%s/entry-%s.efi" % (out, name), "wb").write(img)
PY
check "efi-entry-spins" 1 "(in the image's EFI entry point, before the call)" $C "$tmp/entry-spin.efi" add 1 2 --timeout 1
check "efi-entry-faults" 1 "the image's EFI entry point faulted (vector 0" $C "$tmp/entry-divide_by_zero.efi" add 1 2
check "efi-not-installed" 2 "SetTime: the image's entry point did not install it" $C $fw/fw_runtime_services.efi SetTime --abi ms 0
check "efi-no-such-service" 2 "the image has no symbol GetTim (and it is not an EFI runtime service)" $C $fw/fw_runtime_services.efi GetTim
# Malformed PE32+ images (harness/unit/test_kvm_pe.c tries each field).
E=$fw/fw_runtime_services.efi
head -c 500 "$E" >"$tmp/short.efi"
check "pe-truncated" 2 "the section table (5 entries at 0x188) runs past the end of the file (500 bytes)" $C "$tmp/short.efi" GetTime
# patch FILE OFFSET HEXBYTES: a copy of the image with bytes replaced.
patch() {
  cp "$E" "$tmp/$1.efi" && printf "$3" | dd of="$tmp/$1.efi" bs=1 seek=$(($2)) conv=notrunc status=none
}
patch nsec 0x86 '\x50'
check "pe-many-sections" 2 "NumberOfSections 80: expected 1 to 15" $C "$tmp/nsec.efi" GetTime
patch machine 0x84 '\x4c\x01'
check "pe-i386" 2 "Machine 0x14c, expected 0x8664 (x64)" $C "$tmp/machine.efi" GetTime
patch entry 0xa8 '\x00\x30'
check "pe-entry-in-data" 2 "AddressOfEntryPoint 0x3000 lies outside every executable section" $C "$tmp/entry.efi" GetTime

# The C library (harness/sandbox/hx_sandbox.h) as a program uses it.
ex=$build/hx-sandbox-example
if [ ! -x "$ex" ]; then
  failed=$((failed + 1)) failures+=(library)
  echo "call: FAIL library: $ex not built"
else
  for cfg in sandbox sandbox-amd; do
    for R in $fw/fw_runtime_services.elf $fw/fw_runtime_services.efi; do
    "$ex" corpus/configs/$cfg.json "$R" "$fw/fw_hostile.elf" >"$tmp/lib.out" 2>&1
    rc=$?
    ok=1
    for want in "time: 2026-12-04 13:45:59" "variable: attrs 7 size 4 data 01 00 02 00" \
                "monotonic after three calls: 3" "get_variable after reset: returned 0x800000000000000e" \
                "no such function: refused: the image has no symbol no_such_function" \
                "divide_by_zero: faulted: vector 0" "add after the fault: returned 0xcc" \
                "spin: failed: timeout" "add after the timeout: refused: an earlier call neither returned nor faulted"; do
      grep -qF -- "$want" "$tmp/lib.out" || { ok=0; echo "call: FAIL library ($cfg): output lacks: $want"; }
    done
    if [ "$rc" -ne 0 ] || [ "$ok" -ne 1 ]; then
      failed=$((failed + 1)) failures+=("library-$cfg-${R##*.}")
      sed 's/^/    /' "$tmp/lib.out" | tail -14
    else
      passed=$((passed + 1))
      echo "call: ok   library ($cfg, ${R##*.}): open, 8 calls, reset, a fault, a timeout, a refusal"
    fi
    done
  done
fi

# Runtime drivers of a real EDK2 build (Debian's ovmf, ci/deps.sh): PE32+
# images from an independent toolchain, extracted from OVMF_CODE.fd by
# harness/sandbox/ovmf_extract.py and started as UEFI starts them.
ovmf=/usr/share/OVMF/OVMF_CODE.fd
if [ ! -f "$ovmf" ]; then
  if [ "${CI:-}" = true ]; then
    failed=$((failed + 1)) failures+=(ovmf)
    echo "call: FAIL ovmf: $ovmf not installed (ci/deps.sh installs ovmf)"
  else
    echo "call: skip ovmf: $ovmf not installed (ci/deps.sh installs ovmf)"
  fi
else
  if python3 harness/sandbox/ovmf_extract.py "$ovmf" "$tmp/ovmf" --runtime >"$tmp/ovmf.txt" 2>&1 &&
     [ "$(wc -l <"$tmp/ovmf.txt")" -ge 5 ] && grep -q '^MonotonicCounterRuntimeDxe subsystem 12' "$tmp/ovmf.txt"; then
    passed=$((passed + 1))
    echo "call: ok   ovmf-extract: $(wc -l <"$tmp/ovmf.txt") runtime drivers from $ovmf"
  else
    failed=$((failed + 1)) failures+=(ovmf-extract)
    echo "call: FAIL ovmf-extract"; sed 's/^/    /' "$tmp/ovmf.txt" | tail -5
  fi
  O=corpus/configs/sandbox-ovmf.json
  # Started with 16 MiB of RAM, the monotonic counter driver installs its
  # service; each call moves the high count on, then fails to store it,
  # as the variable services are not there (EFI_UNSUPPORTED).
  check "ovmf-monotonic-counter" 0 "03 00 00 00" $O "$tmp/ovmf/MonotonicCounterRuntimeDxe.efi" \
    --abi ms GetNextHighMonotonicCount out:4 --then GetNextHighMonotonicCount out:4
  check "ovmf-monotonic-needs-variables" 0 "result: 0x8000000000000003" $O "$tmp/ovmf/MonotonicCounterRuntimeDxe.efi" \
    --abi ms GetNextHighMonotonicCount out:4
  # In the 3 MiB sandbox, OVMF's fixed work area at 0x80b000 is not the
  # sandbox's: the read is refused and the start fails, contained.
  check "ovmf-work-area" 1 "access to GPA 0x80b000 (read): refused (exception)" $C "$tmp/ovmf/PcRtc.efi" \
    --abi ms GetTime out:16 0
  # PcRtc reads a dynamic PCD through the PCD protocol, which the sandbox's
  # boot services cannot locate: its start faults, contained.
  check "ovmf-rtc-needs-pcd-protocol" 1 "the image's EFI entry point faulted" $O "$tmp/ovmf/PcRtc.efi" \
    --abi ms GetTime out:16 0
fi

# The call fuzz target (harness/fuzz/fuzz_call.c, replay driver): its seeds
# and 2000 random inputs, each followed by a reset from KVM's dirty log and
# the check that the sandbox then equals its state after loading; and the
# negative control, a reset that leaves one page behind, caught.
# fuzz_expect NAME WANT(0|fail) "LINE" ENV... -- ARGS...
fuzz_expect() {
  local name=$1 want=$2 line=$3
  shift 3
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" timeout 300 "$build/fuzz/fuzz_call" "$@" >"$tmp/fuzz.out" 2>&1
  local rc=$?
  if { [ "$want" = 0 ] && [ "$rc" -ne 0 ]; } || { [ "$want" = fail ] && [ "$rc" -eq 0 ]; } ||
     ! grep -qF -- "$line" "$tmp/fuzz.out"; then
    failed=$((failed + 1)) failures+=("$name")
    echo "call: FAIL $name: exit $rc (want $want), or the output lacks: $line"
    sed 's/^/    /' "$tmp/fuzz.out" | tail -6
  else
    passed=$((passed + 1))
    echo "call: ok   $name: $(grep -m1 -F -- "$line" "$tmp/fuzz.out")"
  fi
}
if [ ! -x "$build/fuzz/fuzz_call" ]; then
  failed=$((failed + 1)) failures+=(fuzz-target)
  echo "call: FAIL fuzz-target: $build/fuzz/fuzz_call not built"
else
  mkdir -p "$tmp/random"
  python3 - "$tmp/random" <<'PY'
import os, random, sys
rng = random.Random(20261204)
for i in range(2000):
    with open(os.path.join(sys.argv[1], "r%04d" % i), "wb") as f:
        f.write(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 160))))
PY
  nseeds=$(ls corpus/call | wc -l)
  fuzz_expect fuzz-seeds 0 "$nseeds inputs replayed, no failures" HX_FUZZ_CALL_CHECK=1 -- corpus/call
  fuzz_expect fuzz-seeds-pe 0 "$nseeds inputs replayed, no failures" HX_FUZZ_CALL_CHECK=1 \
    "HX_FUZZ_CALL_IMAGE=$fw/fw_runtime_services.efi" -- corpus/call
  fuzz_expect fuzz-random-reset-eq 0 "2000 inputs replayed, no failures" HX_FUZZ_CALL_CHECK=1 -- "$tmp/random"
  fuzz_expect fuzz-planted-leak fail "invariant RESET-EQ violated: after the reset, the page at HPA" \
    HX_FUZZ_CALL_CHECK=1 HX_FUZZ_CALL_PLANT_LEAK=1 -- corpus/call/seed-set-get
fi

[ "$failed" -ne 0 ] && echo "call: failed: ${failures[*]}"
echo "call: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
