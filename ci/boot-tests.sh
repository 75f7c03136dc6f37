#!/usr/bin/env bash
# The guest suite under the booted hypervisor: every guest program of
# harness/guest/programs/ run by `hx boot` (hx_boot.elf under QEMU's SVM
# emulation, the production core handling every #VMEXIT) against its AMD
# config with its expected outcome; then the negative control (the
# test-only image hx_boot_break.elf, whose nested table maps the other
# partition's RAM) must be caught with EPT-OWN. REAL-EQ: every run records
# the exits the image handled (hx boot --record), and `hx replay` must
# answer each of them exactly as the booted core did, with every oracle
# passing.
#
# usage: ci/boot-tests.sh BUILD_DIR [--keep] [NAME...]
# Without qemu-system-x86_64 it prints "boot: SKIPPED" and succeeds, unless
# CI=true or HX_REQUIRE_QEMU=1 (then it fails). Exit status: 0 all passed,
# 1 any failure, 2 usage.
set -uo pipefail

usage() { echo "usage: ci/boot-tests.sh BUILD_DIR [--keep] [NAME...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
build_arg=$1
shift
keep=0 only=()
for a in "$@"; do
  case $a in
  --keep) keep=1 ;;
  -*) usage ;;
  *) only+=("$a") ;;
  esac
done
build=$(cd "$build_arg" 2>/dev/null && pwd) || { echo "boot: FAILED: no build directory $build_arg" >&2; exit 2; }
cd "$(dirname "$0")/.." || exit 2

if ! command -v qemu-system-x86_64 >/dev/null; then
  if [ "${CI:-}" = true ] || [ "${HX_REQUIRE_QEMU:-0}" = 1 ]; then
    echo "boot: FAILED: qemu-system-x86_64 not installed (ci/deps.sh installs qemu-system-x86)"
    exit 1
  fi
  echo "boot: SKIPPED: qemu-system-x86_64 not installed (ci/deps.sh installs qemu-system-x86)"
  exit 0
fi

hx=$build/hx
guests=$build/harness/guest
configs=corpus/configs
for f in "$hx" "$build/hx_boot.elf" "$build/hx_boot_break.elf" "$build/hx_boot_planted.elf"; do
  [ -e "$f" ] || { echo "boot: FAILED: $f not built (cmake --build $build)"; exit 1; }
done

# name | guest program | config | hx boot options (@GUESTS@: the guest
# directory) | output line the run must print, optional. hang-beside: a
# partition that never exits is preempted by the image's time slices, the
# other one runs to the end.
tests=(
  "runtime|runtime|kvm-amd-one|--expect pass"
  "cpuid|cpuid|kvm-amd-smp|--expect pass"
  "msr|msr|kvm-amd-one|--expect pass"
  "hcall|hcall|kvm-amd-three|--expect pass|CPL 3 hypercalls refused by the core with #UD: 1"
  "memory|memory|kvm-amd-one|--expect pass"
  "memhalt|memhalt|kvm-amd-halt|--expect halted:violation"
  "hvrange|hvrange|kvm-amd-one|--expect pass --timeout 60"
  "canary|canary|kvm-amd-two|--expect pass"
  "protect|protect|kvm-amd-one|--expect pass"
  "mmio|mmio|kvm-amd-one|--expect pass|[solo console] mmio: hello through MOV"
  "channel|channel|kvm-amd-two|--expect pass --timeout 30"
  "shutdown|shutdown|kvm-amd-halt|--expect halted:shutdown"
  "hang|hang|kvm-amd-halt|--expect timeout --timeout 3"
  "hang-beside|cpuid|kvm-amd-two|--guest 0=@GUESTS@/hang.elf --expect 0=timeout --expect 1=pass --timeout 3"
  "triple|triple|kvm-amd-halt|--expect halted:triple-fault"
  "io|io|kvm-amd-io|--expect pass|[solo console] io: hello through the UART"
  "cr|cr|kvm-amd-one|--expect pass"
  'hostile|hostile|kvm-amd-one|--expect pass|[solo/0] hostile.c:14: \x1b[31mred\x0aPASS: forged print line'
)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hx-boot-tests.XXXXXX")
if [ "$keep" = 1 ]; then echo "boot: logs in $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi

suite=boot
# shellcheck source=ci/suite-lib.sh
. ci/suite-lib.sh
traces=()

for t in "${tests[@]}"; do
  IFS='|' read -r name guest config opts want <<<"$t"
  selected "$name" || continue
  elf=$guests/$guest.elf
  log=$tmp/$name.log
  opts=${opts//@GUESTS@/$guests}
  trace=$tmp/boot-$name.hxt
  # shellcheck disable=SC2086 # opts is a list of options
  "$hx" boot "$configs/$config.json" "$elf" --serial-log "$tmp/$name.serial" --record "$trace" $opts >"$log" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ] && [ -n "$want" ] && ! grep -qF -- "$want" "$log"; then
    fail "$name" "output lacks: $want" "$log"
  elif [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "boot: ok   $name ($config: $(grep -m1 '^result:' "$log" | sed 's/^result: //'))"
    traces+=("$trace")
  else
    fail "$name" "hx boot exited $rc" "$log"
  fi
done

# The hostile guest's escapes and forged lines must reach the log escaped.
if selected hostile && [ -f "$tmp/hostile.log" ]; then hostile_escaped hostile-escaped "$tmp/hostile.log"; fi

# Negative control: both detectors must fire, the production verifier
# inside the image and the guest's canary scan.
if selected negative-control; then
  log=$tmp/negative-control.log
  "$hx" boot "$configs/kvm-amd-two.json" "$guests/canary.elf" --break-npt foreign >"$log" 2>&1
  rc=$?
  if [ "$rc" -ne 1 ]; then
    fail negative-control "broken nested table not reported as a failure (exit $rc, want 1)" "$log"
  elif ! grep -q '^result: FAIL.*EPT-OWN' "$log"; then
    fail negative-control "run failed, but not with EPT-OWN" "$log"
  elif ! grep -q 'guest found foreign memory' "$log" || ! grep -q 'hv_ept_verify in the booted image: leaf maps memory the partition does not own' "$log"; then
    fail negative-control "not both detectors fired (canary scan and hv_ept_verify)" "$log"
  else
    passed=$((passed + 1))
    echo "boot: ok   negative-control (kvm-amd-two, broken NPT caught: $(grep -m1 '^result:' "$log" | sed 's/^result: //'))"
  fi
fi

# REAL-EQ: the hosted core replays what the booted one did.
if selected real-eq && [ ${#traces[@]} -gt 0 ]; then
  log=$tmp/real-eq.log
  if "$hx" replay "${traces[@]}" >"$log" 2>&1; then
    passed=$((passed + 1))
    exits=$(grep -o 'pass: [0-9]* exits' "$log" | awk '{s += $2} END {print s + 0}')
    echo "boot: ok   real-eq (${#traces[@]} traces, $exits exits of the booted core: hosted replay equal)"
  else
    fail real-eq "the hosted core answered an exit differently from the booted one" "$log"
  fi
fi

# REAL-EQ's negative control: a test-only image whose booted core answers
# CPUID leaf 1 with ECX bit 31 flipped. The replay must fail on that exit
# and name the field.
if selected real-eq-negative; then
  log=$tmp/real-eq-negative.log
  trace=$tmp/planted.hxt
  "$hx" boot "$configs/kvm-amd-one.json" "$guests/cpuid.elf" --image "$build/hx_boot_planted.elf" \
    --record "$trace" --expect fail >"$log" 2>&1
  "$hx" replay "$trace" >>"$log" 2>&1
  rc=$?
  if [ "$rc" -ne 1 ]; then
    fail real-eq-negative "the replay of a booted core with a planted difference exited $rc, want 1" "$log"
  elif ! grep -qE 'FAIL: exit [0-9]+ \(cpuid\): output differs from the recording: st\.rcx' "$log"; then
    fail real-eq-negative "the difference was not named (exit, cpuid, st.rcx)" "$log"
  else
    passed=$((passed + 1))
    echo "boot: ok   real-eq-negative ($(grep -o 'exit [0-9]* (cpuid): output differs.*' "$log" | head -1))"
  fi
fi

# Bad input to the image itself (when the whole suite runs).
if [ ${#only[@]} -eq 0 ]; then
  if bash ci/boot-inputs.sh "$build" >"$tmp/inputs.log" 2>&1; then
    passed=$((passed + 1))
    echo "boot: ok   inputs ($(tail -n 1 "$tmp/inputs.log" | sed 's/^boot-inputs: //'))"
  else
    fail inputs "the image accepted or mishandled bad input" "$tmp/inputs.log"
  fi
fi

summary
