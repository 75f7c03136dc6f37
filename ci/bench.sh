#!/usr/bin/env bash
# `make bench`: measure and write reports/latency.{json,md,png}, print a
# short table. Parts (harness/bench/):
#   handlers   hx-bench-handlers cycles: TSC distribution per exit type
#   instr      count-instructions.sh: callgrind instructions per exit type,
#              hosted core and core built with the freestanding flags
#   kvm        hx-bench-kvm: raw KVM exits beside the runner (needs /dev/kvm)
#   call       call-rate.sh: an empty sandboxed firmware call (hx call)
#   boot       boot-rate.sh: the booted image under QEMU TCG, per exit type
#              (EMULATED figures; needs qemu-system-x86_64)
#   replay     hx-bench-replay on corpus/exits/*.hxt
#   fuzz       fuzz-rate.sh: libFuzzer execs/s per target (FUZZ_SECONDS each)
#              and the engine's ceiling (an empty target, same flags);
#              fuzz-before.sh: the same for the targets at BENCH_BEFORE
#              (a commit, built in a temporary worktree) in the same run;
#              then the same targets on AFL++ persistent mode
#              (FUZZ_RATE_ENGINE=afl, its own ceiling), when afl-fuzz exists
#   ept        hx-bench-ept: EPT and NPT build/verify against memset
#   size       image-size.sh: freestanding image per file, loadable, xz -9e,
#              and the one-vendor images (hv_image_intel.elf, hv_image_amd.elf)
# A part that cannot run here (no /dev/kvm, no fuzz build) is reported as
# not measured; the handler, EPT and size parts must work.
#
#   ci/bench.sh BUILD_DIR [OUT_DIR]
# Environment: FUZZ_SECONDS (default 5), FUZZ_BUILD (default
# build-fuzz-libfuzzer, shared with `make fuzz`), FUZZ_AFL_BUILD (default
# build-fuzz-afl, shared with `make fuzz ENGINE=afl`), BENCH_BEFORE (the commit
# the fuzz figures are compared with; default 183dbdd, the last one before
# the fuzzers' speed work; "none" to skip), BENCH_ITERS (default 20000),
# BENCH_KEEP_PARTS=DIR keeps the measured parts (rerun only the report with
# python3 harness/bench/report.py DIR OUT_DIR ci/budgets.conf).
set -uo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: ci/bench.sh BUILD_DIR [OUT_DIR]" >&2
  exit 2
fi
build=$1
cd "$(dirname "$0")/.."
out=${2:-reports}
fuzz_secs=${FUZZ_SECONDS:-5}
fuzz_build=${FUZZ_BUILD:-build-fuzz-libfuzzer}
fuzz_afl_build=${FUZZ_AFL_BUILD:-build-fuzz-afl}
iters=${BENCH_ITERS:-20000}
before=${BENCH_BEFORE:-183dbdd}
bin="$build/bench"

for b in hx-bench-handlers hx-bench-ept; do
  if [ ! -x "$bin/$b" ]; then
    echo "bench: $bin/$b missing: build first (cmake --build $build)" >&2
    exit 2
  fi
done
if [ ! -f "$build/handlers/hv_image.elf" ]; then
  echo "bench: $build/handlers/hv_image.elf missing: the freestanding link failed" >&2
  exit 2
fi
mkdir -p "$out"
parts=$(mktemp -d)
trap 'rm -rf "$parts"' EXIT
failed=0
step() { echo "bench: $*" >&2; }
unavailable() { # file reason
  printf '{"available": false, "reason": "%s"}\n' "$(printf '%s' "$2" | tr '"\\\n' "'/ ")" >"$parts/$1"
}

python3 - "$parts/meta.json" <<'PY'
import json, os, platform, subprocess, sys, time
def sh(*c):
    try:
        return subprocess.run(c, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"
cpu = "?"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip(); break
# Hardware instruction counters, if this machine exposes them (VMs often do
# not). Instruction counts come from callgrind either way: exact, and only
# inside hv_handle_exit.
perf = sh("sh", "-c", "perf stat -x, -e instructions true 2>&1 >/dev/null")
hw = bool(perf) and "<not supported>" not in perf and "<not counted>" not in perf and perf[:1].isdigit()
meta = {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
        "hw_instruction_counters": hw,
        "load": open("/proc/loadavg").read().split()[0],
        "commit": sh("git", "rev-parse", "--short", "HEAD") or "?",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
json.dump(meta, open(sys.argv[1], "w"))
PY

step "handler cycles ($iters exits per type)"
"$bin/hx-bench-handlers" cycles -n "$iters" -w 2000 -o "$parts/handlers.json" || failed=1

step "instructions per exit (callgrind)"
bash harness/bench/count-instructions.sh "$build" "$parts/instructions.txt" || failed=1
if [ -x "$bin/hx-bench-handlers-free" ]; then
  bash harness/bench/count-instructions.sh "$build" "$parts/instructions_free.txt" 1000 \
    hx-bench-handlers-free || failed=1
fi

if [ -x "$bin/hx-bench-kvm" ] && [ -f "$bin/bench_exits.elf" ]; then
  step "KVM round trip (raw loop and runner, 3 rounds)"
  if ! "$bin/hx-bench-kvm" -r 3 -o "$parts/kvm.json" harness/bench/kvm-bench.json \
      "$bin/bench_exits.elf" 2>"$parts/kvm.err"; then
    cat "$parts/kvm.err" >&2
    unavailable kvm.json "hx-bench-kvm failed: $(tail -1 "$parts/kvm.err")"
  fi
else
  unavailable kvm.json "the KVM runner or the bench guest was not built"
fi

step "sandboxed firmware call (hx call on /dev/kvm), 5 runs"
bash harness/bench/call-rate.sh "$build" "$parts/call.json" || unavailable call.json "call-rate.sh failed"

step "booted hypervisor under QEMU TCG (emulated), 3 runs"
bash harness/bench/boot-rate.sh "$build" "$parts/boot.json" || unavailable boot.json "boot-rate.sh failed"

if [ -x "$bin/hx-bench-replay" ]; then
  step "replay throughput"
  if ! "$bin/hx-bench-replay" -o "$parts/replay.json" corpus/exits/*.hxt 2>"$parts/replay.err"; then
    cat "$parts/replay.err" >&2
    unavailable replay.json "hx-bench-replay failed: $(tail -1 "$parts/replay.err")"
  fi
else
  unavailable replay.json "the replay engine was not built"
fi

step "fuzz targets, ${fuzz_secs} s each"
if ! bash harness/bench/fuzz-rate.sh "$fuzz_build" "$parts/fuzz.json" "$fuzz_secs"; then
  unavailable fuzz.json "fuzz-rate.sh failed"
fi

if [ "$before" != none ]; then
  step "fuzz targets at $before (before), ${fuzz_secs} s each"
  bash harness/bench/fuzz-before.sh "$before" "$parts/fuzz-before.json" "$fuzz_secs" ||
    unavailable fuzz-before.json "fuzz-before.sh failed"
fi

if command -v afl-fuzz >/dev/null; then
  step "fuzz targets on AFL++ persistent mode, ${fuzz_secs} s each"
  FUZZ_RATE_ENGINE=afl bash harness/bench/fuzz-rate.sh "$fuzz_afl_build" "$parts/fuzz-afl.json" "$fuzz_secs" ||
    unavailable fuzz-afl.json "fuzz-rate.sh (AFL++) failed"
else
  unavailable fuzz-afl.json "afl-fuzz not found (ci/deps.sh installs afl++)"
fi

step "EPT and NPT build and verify"
"$bin/hx-bench-ept" -r 15 -o "$parts/ept.json" || failed=1

step "freestanding image size"
bash harness/bench/image-size.sh "$build" "$parts/size.json" || failed=1
for v in intel amd; do
  bash harness/bench/image-size.sh "$build" "$parts/size-$v.json" "hv_image_$v.elf" || failed=1
done

if [ "$failed" -ne 0 ]; then
  echo "bench: a required part failed; no report written" >&2
  exit 1
fi
if [ -n "${BENCH_KEEP_PARTS:-}" ]; then
  mkdir -p "$BENCH_KEEP_PARTS" && cp "$parts"/*.json "$parts"/*.txt "$BENCH_KEEP_PARTS"/
fi
python3 harness/bench/report.py "$parts" "$out" ci/budgets.conf
