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

for cfg in sandbox sandbox-amd; do
  C=corpus/configs/$cfg.json
  R=$fw/fw_runtime_services.elf
  H=$fw/fw_hostile.elf
  t=${cfg#sandbox}
  # Runtime services (MS x64, as EFI calls them).
  check "get-time$t" 0 "ea 07 0c 04 0d 2d 3b 00 00 00 00 00 ff 07 00 00" $C $R get_time --abi ms out:16 0
  check "get-time-null$t" 0 "result: 0x8000000000000002" $C $R get_time --abi ms 0 0
  check "monotonic$t" 0 "01 00 00 00 00 00 00 00" $C $R get_next_monotonic_count --abi ms out:8
  printf 'BootOrder\0' >"$tmp/name"
  check "get-variable-absent$t" 0 "result: 0x800000000000000e" $C $R get_variable --abi ms "@$tmp/name" 0 out:8 0
  printf '\x01\x00\x02\x00' >"$tmp/data"
  check "set-variable$t" 0 "result: 0x0" $C $R set_variable --abi ms "@$tmp/name" 7 4 "@$tmp/data"
  # Several calls on one sandbox: state persists, a reset forgets it.
  printf '\x08\x00\x00\x00\x00\x00\x00\x00' >"$tmp/size8"
  check "variable-round-trip$t" 0 "01 00 02 00 00 00 00 00" $C $R --abi ms set_variable "@$tmp/name" 7 4 "@$tmp/data" \
    --then get_variable "@$tmp/name" out:4 "inout:$tmp/size8" out:8
  check "monotonic-counts-on$t" 0 "02 00 00 00 00 00 00 00" $C $R --abi ms get_next_monotonic_count out:8 \
    --then get_next_monotonic_count out:8
  check "reset-forgets$t" 0 "result: 0x800000000000000e" $C $R --abi ms set_variable "@$tmp/name" 7 4 "@$tmp/data" \
    --reset-then get_variable "@$tmp/name" out:4 "inout:$tmp/size8" out:8
  check "call-after-fault$t" 1 "result: 0xcc (204)" $C $fw/fw_hostile.elf undefined_insn --then add 1 2 3 4 5 6 7 8
  check "reset-system$t" 1 "a reset of the machine was requested; nothing was reset" $C $R reset_system --abi ms 0
  # Arguments in registers and on the stack, both conventions.
  check "sysv-8-args$t" 0 "result: 0xcc (204)" $C $H add 1 2 3 4 5 6 7 8
  check "ms-6-args$t" 0 "result: 0x5b (91)" $C $H add_ms --abi ms 1 2 3 4 5 6
  # Hostile functions: contained, reported, the caller carries on.
  check "wrmsr-lstar$t" 1 "WRMSR MSR 0xc0000082: refused (exception)" $C $H write_lstar
  check "wrmsr-efer$t" 1 "WRMSR MSR 0xc0000080: refused (exception)" $C $H write_efer
  check "rdmsr-host$t" 1 "RDMSR MSR 0x3a: refused (exception)" $C $H read_host_msr
  check "wild-read$t" 1 "access to GPA 0x70000000 (read): refused (exception)" $C $H wild_read 0x70000000
  check "wild-write-unmapped$t" 1 "access to GPA 0x1000000 (write): refused (exception)" $C $H wild_write 0x1000000
  # The guard page under the call's stack (sandbox.json).
  check "wild-write-guard$t" 1 "access to GPA 0x300800 (write): refused (exception)" $C $H wild_write 0x300800
  check "stack-overflow$t" 1 "fault: vector 13 (#GP)" $C $H stack_overflow
  check "ud2$t" 1 "fault: vector 6 (#UD)" $C $H undefined_insn
  check "divide-by-zero$t" 1 "fault: vector 0 (#DE)" $C $H divide_by_zero 0
  check "hlt$t" 1 "not ended: halted: hlt" $C $H halt
  check "spin$t" 1 "not ended: timeout" $C $H spin --timeout 1
  check "pci-config$t" 1 "OUT port 0xcf8 (4 bytes): refused (exception)" $C $H pci_config
  check "smi-port$t" 1 "OUT port 0xb2 (1 byte): refused (exception)" $C $H smi
  check "self-modifying$t" 0 "result: 0x2 (2)" $C $H self_modify
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
check "missing-symbol" 2 "missing CONFIG.json, IMAGE.elf or SYMBOL" $C $fw/fw_hostile.elf

# The C library (harness/sandbox/hx_sandbox.h) as a program uses it.
ex=$build/hx-sandbox-example
if [ ! -x "$ex" ]; then
  failed=$((failed + 1)) failures+=(library)
  echo "call: FAIL library: $ex not built"
else
  for cfg in sandbox sandbox-amd; do
    "$ex" corpus/configs/$cfg.json "$fw/fw_runtime_services.elf" "$fw/fw_hostile.elf" >"$tmp/lib.out" 2>&1
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
      failed=$((failed + 1)) failures+=("library-$cfg")
      sed 's/^/    /' "$tmp/lib.out" | tail -14
    else
      passed=$((passed + 1))
      echo "call: ok   library ($cfg): open, 8 calls, reset, a fault, a timeout, a refusal"
    fi
  done
fi

[ "$failed" -ne 0 ] && echo "call: failed: ${failures[*]}"
echo "call: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
