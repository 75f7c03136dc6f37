#!/usr/bin/env bash
# Replays every trace in corpus/ (seeds, KVM recordings, regressions) with
# all invariants checked, recorded outputs compared and DET, through both the
# optimised and the sanitized hx; then checks that tampered and truncated
# traces are refused the documented way. Usage: ci/replay-tests.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: ci/replay-tests.sh BUILD_DIR}
cd "$(dirname "$0")/.."
passed=0 failed=0
check() {
  local what=$1 want=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq "$want" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $what: exit $rc, expected $want"; echo "$out" | tail -5
  fi
}
mapfile -t traces < <(find corpus -name '*.hxt' | sort)
if [ ${#traces[@]} -eq 0 ]; then echo "replay: no traces under corpus/" >&2; exit 1; fi
for hx in "$build/hx" "$build/hx_asan"; do
  for t in "${traces[@]}"; do check "$(basename "$hx") replay $t" 0 "$hx" replay "$t"; done
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
src=corpus/exits/cpuid.hxt
# Truncated: refused as bad input.
head -c 100 "$src" >"$tmp/trunc.hxt"
check "truncated trace" 2 "$build/hx_asan" replay "$tmp/trunc.hxt"
# A flipped payload byte: the checksum refuses it.
cp "$src" "$tmp/flip.hxt"
printf '\x55' | dd of="$tmp/flip.hxt" bs=1 seek=300 conv=notrunc status=none
check "corrupted trace" 2 "$build/hx_asan" replay "$tmp/flip.hxt"
# The EPT page pool inside a partition's RAM (issue: the core trusted its
# caller there): a sealed trace is refused by the loader, an unsealed one
# (as the fuzzers feed it) by hv_system_init itself.
pool_trace() { # SRC DST HPA PAGES sealed|unsealed
  python3 - "$@" <<'PY'
import struct, sys
src, dst, hpa, pages, mode = sys.argv[1:]
d = bytearray(open(src, 'rb').read())
old = struct.pack('<QI', 0x800000, 2048)  # the seed's pool, in its META record
i = d.find(old, 40)
assert i > 0 and d.find(old, i + 1) < 0, 'pool field not found'
d[i:i + 12] = struct.pack('<QI', int(hpa, 0), int(pages))
if mode == 'sealed':  # FNV-1a 64 of the payload (trace.h)
    h = 0xcbf29ce484222325
    for x in d[40:]:
        h = ((h ^ x) * 0x100000001b3) & 0xffffffffffffffff
    d[24:32] = struct.pack('<Q', h)
open(dst, 'wb').write(d)
PY
}
check_msg() {
  local what=$1 want=$2 frag=$3; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq "$want" ] && grep -qF -- "$frag" <<<"$out"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $what: exit $rc (expected $want), output lacks: $frag"
    echo "$out" | tail -5
  fi
}
pool_trace "$src" "$tmp/pool-sealed.hxt" 0x2400000 2048 sealed
pool_trace "$src" "$tmp/pool-unsealed.hxt" 0x2400000 2048 unsealed
pool_trace "$src" "$tmp/pool-straddle.hxt" 0xff8000 16 sealed
for hx in "$build/hx" "$build/hx_asan"; do
  n=$(basename "$hx")
  check_msg "$n pool in partition RAM (sealed)" 2 \
    "field 'meta.pool_hpa' at byte offset 40: page pool [0x2400000, +0x800000) is not inside the hypervisor range [0x0, +0x1000000)" \
    "$hx" replay "$tmp/pool-sealed.hxt"
  check_msg "$n pool straddling the hypervisor range (sealed)" 2 \
    "page pool [0xff8000, +0x10000) is not inside the hypervisor range" \
    "$hx" replay "$tmp/pool-straddle.hxt"
  check_msg "$n pool in partition RAM (unsealed: the core refuses)" 2 \
    "hv_system_init: EPT page pool is not inside the hypervisor range (pool [0x2400000, +0x800000), hypervisor [0x0, +0x1000000))" \
    "$hx" replay --unsealed --no-compare "$tmp/pool-unsealed.hxt"
done
check_msg "fuzz_exits: pool in partition RAM refused with a reason" 0 "no failures" \
  "$build/fuzz/fuzz_exits" "$tmp/pool-unsealed.hxt"
# (A tampered recorded output is named by test_replay; minimize refuses a
# trace that does not fail.)
check "minimize of a passing trace" 1 "$build/hx" minimize "$src" -o "$tmp/min.hxt"
echo "replay: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
