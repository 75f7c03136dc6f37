#!/usr/bin/env bash
# Resident memory of the fuzzers over a long run: runs COMMAND and, every
# INTERVAL seconds until it ends, samples the RSS of every process whose
# name starts with fuzz_ (libFuzzer's -fork children and AFL++'s workers
# included) from /proc. Writes OUT.csv (seconds, pid, name, rss_kb; written
# to a temporary name and renamed at the end) and prints per target the
# largest RSS in the first and the last quarter of the time it ran, and its
# maximum: memory that is flat over the hour has first ~= last.
#
#   harness/bench/rss-watch.sh OUT.csv INTERVAL -- COMMAND [ARG...]
# Exit status: COMMAND's, or 2 for bad arguments.
set -uo pipefail
if [ $# -lt 4 ] || [ "$3" != "--" ]; then
  echo "usage: rss-watch.sh OUT.csv INTERVAL -- COMMAND [ARG...]" >&2
  exit 2
fi
out=$1
interval=$2
shift 3
[[ "$interval" =~ ^[1-9][0-9]*$ ]] || { echo "rss-watch: INTERVAL must be a positive integer" >&2; exit 2; }
[ -d "$out" ] && { echo "rss-watch: $out is a directory" >&2; exit 2; }

tmp="$out.tmp.$$"
echo "seconds,pid,name,rss_kb" >"$tmp" || exit 2
"$@" &
cmd=$!
start=$SECONDS
while kill -0 "$cmd" 2>/dev/null; do
  now=$((SECONDS - start))
  # Name: and VmRSS: of each process (kernel threads have no VmRSS); a
  # process that ends while being read is skipped.
  awk -v t="$now" '
    function flush() { if (name ~ /^fuzz_/ && rss != "") printf "%s,%s,%s,%s\n", t, pid, name, rss }
    FNR == 1 { flush(); name = ""; rss = ""; pid = FILENAME; gsub(/[^0-9]/, "", pid) }
    /^Name:/ { name = $2 }
    /^VmRSS:/ { rss = $2 }
    END { flush() }' /proc/[0-9]*/status 2>/dev/null >>"$tmp"
  # Sleep in short steps, so the end of COMMAND is seen promptly.
  for _ in $(seq "$interval"); do
    kill -0 "$cmd" 2>/dev/null || break
    sleep 1
  done
done
wait "$cmd"
rc=$?
mv -f "$tmp" "$out"
python3 - "$out" <<'EOF'
import csv, sys
from collections import defaultdict
per = defaultdict(lambda: defaultdict(int))  # name -> second -> largest rss (kB)
for row in csv.DictReader(open(sys.argv[1])):
    s, n, r = int(row["seconds"]), row["name"], int(row["rss_kb"])
    per[n][s] = max(per[n][s], r)
if not per:
    print("rss-watch: no fuzz_* process was seen")
for n in sorted(per):
    xs = sorted(per[n].items())
    t0, t1 = xs[0][0], xs[-1][0]
    q = max((t1 - t0) / 4, 0)
    first = max(r for s, r in xs if s <= t0 + q)
    last = max(r for s, r in xs if s >= t1 - q)
    print("rss-watch: %-12s %5d s, %4d samples: first quarter max %7.1f MiB, last quarter max %7.1f MiB, max %7.1f MiB"
          % (n, t1 - t0, len(xs), first / 1024, last / 1024, max(r for _, r in xs) / 1024))
EOF
exit "$rc"
