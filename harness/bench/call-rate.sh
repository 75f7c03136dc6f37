#!/usr/bin/env bash
# make bench, sandboxed calls: the round trip of an empty firmware call in
# the hx call sandbox on /dev/kvm (add(1, 2) of fw_hostile.elf: a dozen
# instructions, a few ns called directly). hx call with 1 call and with 201
# calls chained on one sandbox (--then), 5 runs each, medians: (t201 - t1)
# / 200 is one call on a sandbox that exists (the next call's set-up, stub,
# KVM_RUN, the CALL_RETURN exit through the core and the oracles, the
# trace); t1 is a whole hx call (VM set-up included). hx-bench-call adds
# the same call through the C library against a direct call of the same
# function, the cost of one exit inside a call, and of a dirty-log reset.
#
#   harness/bench/call-rate.sh BUILD_DIR OUT.json
set -uo pipefail
build=${1:?usage: call-rate.sh BUILD_DIR OUT.json}
out=${2:?usage: call-rate.sh BUILD_DIR OUT.json}
cd "$(dirname "$0")/../.." || exit 2
unavailable() {
  printf '{"available": false, "reason": "%s"}\n' "$1" >"$out"
  exit 0
}
[ -e /dev/kvm ] || unavailable "/dev/kvm not present"
img=$build/harness/guest/fw_hostile.elf
[ -f "$img" ] && [ -x "$build/hx" ] || unavailable "hx or fw_hostile.elf not built"
cfg=corpus/configs/sandbox.json
chain=()
for _ in $(seq 200); do chain+=(--then add 1 2); done
t_one=() t_chain=()
for _ in 1 2 3 4 5; do
  s=$(date +%s%N)
  "$build/hx" call "$cfg" "$img" add 1 2 >/dev/null || unavailable "hx call failed"
  t_one+=($(( $(date +%s%N) - s )))
  s=$(date +%s%N)
  "$build/hx" call "$cfg" "$img" add 1 2 "${chain[@]}" >/dev/null || unavailable "hx call (chained) failed"
  t_chain+=($(( $(date +%s%N) - s )))
done
lib=$("$build/bench/hx-bench-call" "$cfg" "$img" "$build/harness/guest/fw_runtime_services.elf") ||
  unavailable "hx-bench-call failed"
python3 - "$out" "${t_one[*]}" "${t_chain[*]}" "$lib" <<'PY'
import json, statistics, sys
out, one, chain = sys.argv[1], [int(x) for x in sys.argv[2].split()], [int(x) for x in sys.argv[3].split()]
m1, m16 = statistics.median(one), statistics.median(chain)
doc = {"available": True, "hx_call_ns": m1, "per_call_ns": max(0.0, (m16 - m1) / 200),
       "runs": len(one), "chained": 201}
doc["library"] = json.loads(sys.argv[4])
json.dump(doc, open(out, "w"), indent=1)
PY
