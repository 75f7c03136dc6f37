#!/usr/bin/env bash
# The KVM guest suite: every guest program of harness/guest/programs/ run by
# `hx run` against its config (corpus/configs/kvm-*.json) with its expected
# outcome, every exit recorded into a trace; then the negative control (a
# deliberately broken EPT) must be caught with EPT-OWN.
#
# usage: ci/kvm-tests.sh BUILD_DIR [--save-seeds] [--keep] [NAME...]
#   --save-seeds  copy the traces of the passing runs that have exits to
#                 corpus/kvm/ (seeds for the fuzzers and replay)
#   --keep        keep the temporary directory with logs and traces
#   NAME...       run only these tests (names as in the table below)
# Without /dev/kvm it prints "kvm: SKIPPED" and succeeds, unless
# HX_REQUIRE_KVM=1. Exit status: 0 all passed, 1 any failure, 2 usage.
set -uo pipefail

usage() { echo "usage: ci/kvm-tests.sh BUILD_DIR [--save-seeds] [--keep] [NAME...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
build=$1
shift
save=0 keep=0 only=()
for a in "$@"; do
  case $a in
  --save-seeds) save=1 ;;
  --keep) keep=1 ;;
  -*) usage ;;
  *) only+=("$a") ;;
  esac
done
build_arg=$build
build=$(cd "$build_arg" 2>/dev/null && pwd) || { echo "kvm: FAILED: no build directory $build_arg" >&2; exit 2; }
cd "$(dirname "$0")/.." || exit 2

if [ ! -e /dev/kvm ]; then
  if [ "${HX_REQUIRE_KVM:-0}" = 1 ]; then
    echo "kvm: FAILED: /dev/kvm not present and HX_REQUIRE_KVM=1"
    exit 1
  fi
  echo "kvm: SKIPPED: /dev/kvm not present"
  exit 0
fi

hx=$build/hx
guests=$build/harness/guest
configs=corpus/configs
if [ ! -x "$hx" ]; then
  echo "kvm: FAILED: $hx not built (cmake --build $build --target hx guests)"
  exit 1
fi

# name | guest program | config | hx run options (expected outcome, limits)
#   | output line the run must print (console output, ...), optional
tests=(
  "runtime|runtime|kvm-one|--expect pass"
  "cpuid|cpuid|kvm-smp|--expect pass"
  "msr|msr|kvm-one|--expect pass"
  "hcall|hcall|kvm-three|--expect pass|[gamma console] hcall: console write"
  "memory|memory|kvm-one|--expect pass"
  "memhalt|memhalt|kvm-halt|--expect halted:violation"
  "hvrange|hvrange|kvm-one|--expect pass --timeout 60"
  "canary|canary|kvm-two|--expect pass"
  "protect|protect|kvm-one|--expect pass"
  "mmio|mmio|kvm-one|--expect pass|[solo console] mmio: hello through MOV"
  "channel|channel|kvm-two|--expect pass --timeout 30"
  "shutdown|shutdown|kvm-halt|--expect halted:shutdown"
  "hang|hang|kvm-halt|--expect timeout --timeout 2"
  "triple|triple|kvm-halt|--expect halted:triple-fault"
  "io|io|kvm-io|--expect pass|[solo console] io: hello through the UART"
  'hostile|hostile|kvm-one|--expect pass|[solo/0] hostile.c:14: \x1b[31mred\x0aPASS: forged print line'
  # The same guests on AMD configs: nested page tables built by the core,
  # memslots from the NPT walk, VMMCALL the native hypercall.
  "amd-cpuid|cpuid|kvm-amd-smp|--expect pass"
  "amd-msr|msr|kvm-amd-one|--expect pass"
  "amd-hcall|hcall|kvm-amd-three|--expect pass|[gamma console] hcall: console write"
  "amd-memory|memory|kvm-amd-one|--expect pass"
  "amd-memhalt|memhalt|kvm-amd-halt|--expect halted:violation"
  "amd-canary|canary|kvm-amd-two|--expect pass"
  "amd-protect|protect|kvm-amd-one|--expect pass"
  "amd-mmio|mmio|kvm-amd-one|--expect pass|[solo console] mmio: hello through MOV"
  "amd-channel|channel|kvm-amd-two|--expect pass --timeout 30"
  "amd-io|io|kvm-amd-io|--expect pass|[solo console] io: hello through the UART"
)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hx-kvm.XXXXXX")
if [ "$keep" = 1 ]; then echo "kvm: logs and traces in $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi

suite=kvm
# shellcheck source=ci/suite-lib.sh
. ci/suite-lib.sh
saved=()

for t in "${tests[@]}"; do
  IFS='|' read -r name guest config opts want <<<"$t"
  selected "$name" || continue
  elf=$guests/$guest.elf
  log=$tmp/$name.log
  trace=$tmp/kvm-$name.hxt
  if [ ! -f "$elf" ]; then
    echo "missing $elf" >"$log"
    fail "$name" "guest not built" "$log"
    continue
  fi
  # shellcheck disable=SC2086 # opts is a list of options
  "$hx" run "$configs/$config.json" "$elf" --record "$trace" $opts >"$log" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ] && [ -n "$want" ] && ! grep -qF -- "$want" "$log"; then
    fail "$name" "output lacks: $want" "$log"
  elif [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "kvm: ok   $name ($config: $(grep -m1 '^result:' "$log" | sed 's/^result: //'))"
    # A trace without exits seeds nothing.
    if [ -s "$trace" ] && ! grep -q '^result: .* 0 core exits' "$log"; then saved+=("$trace"); fi
  else
    fail "$name" "hx run exited $rc" "$log"
  fi
done

# The hostile guest's escapes and forged lines must reach the log escaped.
if selected hostile && [ -f "$tmp/hostile.log" ]; then hostile_escaped hostile "$tmp/hostile.log"; fi

# Negative control: partition 0's EPT maps a block of partition 1's RAM.
# The canary guest must see the foreign canaries and the run must fail with
# EPT-OWN from both detectors (the guest's report and hv_ept_verify).
# The same on NPT (amd-negative-control).
for nc in negative-control:kvm-two amd-negative-control:kvm-amd-two; do
  name=${nc%%:*} config=${nc#*:}
  selected "$name" || continue
  log=$tmp/$name.log
  "$hx" run "$configs/$config.json" "$guests/canary.elf" --break-ept foreign >"$log" 2>&1
  rc=$?
  if [ "$rc" -ne 1 ]; then
    fail "$name" "broken second-stage table not reported as a failure (exit $rc, want 1)" "$log"
  elif ! grep -q '^result: FAIL.*EPT-OWN' "$log"; then
    fail "$name" "run failed, but not with EPT-OWN" "$log"
  elif ! grep -q 'guest found foreign memory' "$log"; then
    fail "$name" "the canary guest did not find the foreign memory" "$log"
  else
    passed=$((passed + 1))
    echo "kvm: ok   $name ($config, broken table caught: $(grep -m1 '^result:' "$log" | sed 's/^result: //'))"
  fi
done

if [ "$save" = 1 ] && [ ${#saved[@]} -gt 0 ]; then
  mkdir -p corpus/kvm
  for f in "${saved[@]}"; do
    dst=corpus/kvm/$(basename "$f")
    cp "$f" "$dst.tmp.$$" && mv -f "$dst.tmp.$$" "$dst"
  done
  echo "kvm: ${#saved[@]} traces saved to corpus/kvm/"
fi

summary
