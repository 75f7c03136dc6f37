#!/usr/bin/env bash
# make bench, booted hypervisor: bench_exits.elf under `hx boot --stats`
# (hx_boot.elf in QEMU TCG, -cpu EPYC), 3 runs; per exit type the median
# round trip, handler time, exits/s and handler share, into JSON. These are
# EMULATED figures: QEMU interprets the guest, VMRUN and #VMEXIT.
#
#   harness/bench/boot-rate.sh BUILD_DIR OUT.json
set -uo pipefail
build=${1:?usage: boot-rate.sh BUILD_DIR OUT.json}
out=${2:?usage: boot-rate.sh BUILD_DIR OUT.json}
cd "$(dirname "$0")/../.." || exit 2
unavailable() {
  printf '{"available": false, "reason": "%s"}\n' "$1" >"$out"
  exit 0
}
command -v qemu-system-x86_64 >/dev/null || unavailable "qemu-system-x86_64 not installed"
[ -f "$build/hx_boot.elf" ] && [ -f "$build/bench/bench_exits.elf" ] || unavailable "hx_boot.elf or bench_exits.elf not built"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in 1 2 3; do
  "$build/hx" boot harness/bench/boot-bench.json "$build/bench/bench_exits.elf" --stats -q \
    --timeout 120 >"$tmp/run$r.txt" 2>&1 || unavailable "hx boot failed: $(tail -1 "$tmp/run$r.txt" | tr '"' "'")"
done
qemu=$(qemu-system-x86_64 --version | head -1)
python3 - "$out" "$qemu" "$tmp"/run*.txt <<'PY'
import json, re, statistics, sys
out, qemu, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
per = {}
walls = []
for path in runs:
    text = open(path).read()
    m = re.search(r"whole run: (\d+) core exits in ([\d.]+) s", text)
    if m:
        walls.append(int(m.group(1)) / float(m.group(2)))
    for line in text.splitlines():
        f = line.split()
        if len(f) == 6 and f[5].endswith("%") and f[1].isdigit():
            per.setdefault(f[0], []).append((int(f[1]), float(f[2]), float(f[3]), float(f[4]), float(f[5][:-1])))
kinds = {}
for k, rows in per.items():
    kinds[k] = {
        "count": rows[0][0],
        "round_ns": statistics.median(r[1] for r in rows),
        "handler_ns": statistics.median(r[2] for r in rows),
        "exits_per_s": statistics.median(r[3] for r in rows),
        "handler_share_pct": statistics.median(r[4] for r in rows),
    }
json.dump({"available": True, "emulated": True, "qemu": qemu, "cpu": "EPYC (TCG)", "runs": len(runs),
           "whole_run_exits_per_s": statistics.median(walls) if walls else None, "kinds": kinds},
          open(out, "w"), indent=1)
PY
