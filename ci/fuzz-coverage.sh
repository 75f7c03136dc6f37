#!/usr/bin/env bash
# `make fuzz-coverage`: which lines and branches of handlers/ the fuzz
# corpora reach, as OSS-Fuzz coverage builds show it. Every target
# (harness/fuzz/fuzz_*.c) is built with its replay driver and clang
# source-based coverage (ci/fuzz-build.sh coverage), run once over its
# inputs, and its profile rendered by llvm-cov, restricted to handlers/:
#   REPORT/<target>/index.html   per target (report.txt: llvm-cov report)
#   REPORT/all/index.html        every target's inputs merged
#   REPORT/summary.txt           the table printed at the end
# Inputs of a target t: corpus/<t>/ (without the dictionary), the
# regressions corpus/regressions/<t>-*, corpus/kvm/ for exits, and the
# corpus `make fuzz` grew in reports/fuzz/<t>/corpus/ when there is one
# (FUZZ_COVERAGE_GROWN=0 leaves it out). An input the replay driver fails
# on is left out with a warning naming it (reproduce it with make repro).
#
#   ci/fuzz-coverage.sh   environment:
#     TARGETS="hcall gpt"   default: every target
#     COV_BUILD=DIR         default build-fuzz-coverage
#     REPORT=DIR            default reports/fuzz-coverage
#     BUILD_JOBS=N          compile jobs (default: every core)
#     FUZZ_NOBUILD=1        use COV_BUILD as it is
# Exit status: 0 done, 1 some input failed (left out, reports written),
# 2 bad arguments, a missing tool, an empty corpus or a build failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$PWD
COV_BUILD=${COV_BUILD:-build-fuzz-coverage}
REPORT=${REPORT:-reports/fuzz-coverage}
FUZZ_NOBUILD=${FUZZ_NOBUILD:-0}
GROWN=${FUZZ_COVERAGE_GROWN:-1}
die() { echo "fuzz-coverage: $*" >&2; exit 2; }

all_targets=$(ls harness/fuzz/fuzz_*.c 2>/dev/null | sed 's|.*/fuzz_||; s|\.c$||' | tr '\n' ' ' | sed 's/ $//')
[ -n "$all_targets" ] || die "no fuzz targets (harness/fuzz/fuzz_*.c)"
TARGETS=${TARGETS:-$all_targets}
for t in $TARGETS; do
  [ -f "harness/fuzz/fuzz_$t.c" ] || die "unknown target '$t' (have: $all_targets)"
done

# The tools: clang's profile format must match llvm-profdata's, so take the
# ones of clang's own major version first, then the unversioned names.
command -v clang >/dev/null || die "clang not found (install it: bash ci/deps.sh)"
major=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
find_tool() { # name: prints the path of name-<major> or name
  local c
  for c in ${major:+"$1-$major"} "$1"; do
    if command -v "$c" >/dev/null; then command -v "$c"; return 0; fi
  done
  return 1
}
profdata=$(find_tool llvm-profdata) ||
  die "llvm-profdata${major:+-$major} (or llvm-profdata) not found: install the llvm package (bash ci/deps.sh)"
llvmcov=$(find_tool llvm-cov) ||
  die "llvm-cov${major:+-$major} (or llvm-cov) not found: install the llvm package (bash ci/deps.sh)"
command -v python3 >/dev/null || die "python3 not found (install it: bash ci/deps.sh)"

# Inputs per target, checked before anything is built.
declare -A inputs
for t in $TARGETS; do
  dirs=("corpus/$t")
  [ "$t" = exits ] && dirs+=(corpus/kvm)
  [ "$GROWN" = 1 ] && [ -d "reports/fuzz/$t/corpus" ] && dirs+=("reports/fuzz/$t/corpus")
  list=$(
    for d in "${dirs[@]}"; do
      [ -d "$d" ] && find "$d" -maxdepth 1 -type f ! -name '*.dict' ! -name 'README*' ! -name '.*'
    done
    find corpus/regressions -maxdepth 1 -type f -name "$t-*" 2>/dev/null
  )
  list=$(printf '%s\n' "$list" | sed '/^$/d' | sort)
  if [ -z "$list" ]; then
    die "target '$t' has no inputs: corpus/$t/ is empty or missing and no corpus/regressions/$t-* exists"
  fi
  inputs[$t]=$list
done

mkdir -p "$(dirname "$REPORT")"
if [ "$FUZZ_NOBUILD" != 1 ]; then
  mkdir -p "$COV_BUILD"
  log=$COV_BUILD/fuzz-coverage-build.log
  echo "fuzz-coverage: building the coverage replay drivers in $COV_BUILD/ (log: $log)"
  if ! bash ci/fuzz-build.sh coverage "$COV_BUILD" >"$log" 2>&1; then
    tail -20 "$log" >&2
    die "build failed, see $log"
  fi
fi
for t in $TARGETS; do
  [ -x "$COV_BUILD/fuzz/fuzz_$t" ] || die "$COV_BUILD/fuzz/fuzz_$t missing (build without FUZZ_NOBUILD=1)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hx-fuzz-coverage.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
stage="$REPORT.tmp.$$" # rendered here, then moved into place
rm -rf "$stage"
mkdir -p "$stage"
trap 'rm -rf "$tmp" "$stage"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
failed=0

# Renders one profile: HTML and llvm-cov report of handlers/, plus the
# totals as "lines% branches% lines_covered/lines branches_covered/branches".
render() { # name profdata binary...
  local name=$1 prof=$2 first=$3
  shift 3
  local objs=()
  for b in "$@"; do objs+=(-object "$b"); done
  local dir=$stage/$name
  mkdir -p "$dir"
  "$llvmcov" show -format=html -output-dir="$dir" -instr-profile="$prof" \
    -show-branches=count -show-line-counts-or-regions -project-title="hx fuzz coverage: $name" \
    "$first" "${objs[@]}" "$root/handlers" >"$tmp/$name.show.log" 2>&1 ||
    { cat "$tmp/$name.show.log" >&2; die "llvm-cov show failed for $name"; }
  "$llvmcov" report -instr-profile="$prof" -show-branch-summary "$first" "${objs[@]}" "$root/handlers" \
    >"$dir/report.txt" 2>"$tmp/$name.report.log" ||
    { cat "$tmp/$name.report.log" >&2; die "llvm-cov report failed for $name"; }
  "$llvmcov" export -summary-only -instr-profile="$prof" "$first" "${objs[@]}" "$root/handlers" \
    >"$tmp/$name.json" 2>"$tmp/$name.export.log" ||
    { cat "$tmp/$name.export.log" >&2; die "llvm-cov export failed for $name"; }
  python3 - "$tmp/$name.json" "$root/" "$tmp/$name.missed" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["data"][0]
t = d["totals"]
l, b = t["lines"], t["branches"]
print("%.1f %.1f %d/%d %d/%d" % (l["percent"], b["percent"], l["covered"], l["count"],
                                 b["covered"], b["count"]))
# The files with the most lines never reached.
files = sorted(d["files"], key=lambda f: -(f["summary"]["lines"]["count"] -
                                          f["summary"]["lines"]["covered"]))
with open(sys.argv[3], "w") as out:
    for f in files[:5]:
        s = f["summary"]["lines"]
        if s["count"] > s["covered"]:
            out.write("  %-28s %4d lines never reached (%.1f%% reached)\n" % (
                f["filename"].replace(sys.argv[2], "", 1), s["count"] - s["covered"], s["percent"]))
PY
}

rows=()
bins=()
merged=()
for t in $TARGETS; do
  bin=$COV_BUILD/fuzz/fuzz_$t
  mapfile -t files <<<"${inputs[$t]}"
  mkdir -p "$tmp/raw/$t"
  left_out=0
  echo "fuzz-coverage: $t: replaying ${#files[@]} inputs"
  if ! LLVM_PROFILE_FILE="$tmp/raw/$t/all.profraw" timeout 1800 "$bin" "${files[@]}" \
    >"$tmp/$t.log" 2>&1; then
    # One input failed and took the profile with it: run them one by one,
    # keeping the profile of every input that passes.
    rm -f "$tmp/raw/$t"/*.profraw
    for f in "${files[@]}"; do
      if ! LLVM_PROFILE_FILE="$tmp/raw/$t/one-%p.profraw" timeout 120 "$bin" "$f" >"$tmp/$t.one.log" 2>&1; then
        echo "fuzz-coverage: $t: left out $f, the replay driver fails on it (make repro CRASH=$f TARGET=$t):" >&2
        grep -E 'hx-fuzz|ERROR|SUMMARY|runtime error|replay:' "$tmp/$t.one.log" | head -3 | sed 's/^/    /' >&2
        left_out=$((left_out + 1))
        failed=1
      fi
    done
  fi
  if ! ls "$tmp/raw/$t"/*.profraw >/dev/null 2>&1; then
    echo "fuzz-coverage: $t: no profile written (no input replayed cleanly)" >&2
    failed=1
    continue
  fi
  "$profdata" merge -sparse -o "$tmp/$t.profdata" "$tmp/raw/$t"/*.profraw 2>"$tmp/$t.merge.log" ||
    { cat "$tmp/$t.merge.log" >&2; die "llvm-profdata merge failed for $t"; }
  totals=$(render "$t" "$tmp/$t.profdata" "$bin") || exit 2
  rows+=("$t $((${#files[@]} - left_out)) $totals")
  bins+=("$bin")
  merged+=("$t")
done
[ ${#bins[@]} -gt 0 ] || die "no target produced a profile"

# Merged: every target's inputs, every target's binary.
"$profdata" merge -sparse -o "$tmp/all.profdata" "$tmp"/raw/*/*.profraw 2>"$tmp/all.merge.log" ||
  { cat "$tmp/all.merge.log" >&2; die "llvm-profdata merge failed for the merged profile"; }
n_all=0
for r in "${rows[@]}"; do n_all=$((n_all + $(echo "$r" | awk '{print $2}'))); done
totals=$(render all "$tmp/all.profdata" "${bins[@]}") || exit 2
rows+=("all $n_all $totals")

{
  echo "coverage of handlers/ by the fuzz corpora (clang source-based, $(basename "$llvmcov"))"
  printf '%-8s %7s %8s %10s %14s %14s\n' target inputs lines% branches% lines branches
  for r in "${rows[@]}"; do
    # shellcheck disable=SC2086
    printf '%-8s %7s %8s %10s %14s %14s\n' $r
  done
  echo "(inputs: replayed cleanly; a target's figures are of the handlers/ code linked into it;"
  echo " all: ${merged[*]} merged, of the code linked into any of them)"
  if [ -s "$tmp/all.missed" ]; then
    echo "most lines never reached by any target:"
    cat "$tmp/all.missed"
  fi
} >"$stage/summary.txt"

# Into place: each rendered directory replaces its old one.
mkdir -p "$REPORT"
for d in "$stage"/*/; do
  name=$(basename "$d")
  rm -rf "${REPORT:?}/$name"
  mv "$d" "$REPORT/$name"
done
mv -f "$stage/summary.txt" "$REPORT/summary.txt"
cat "$REPORT/summary.txt"
echo "fuzz-coverage: reports in $REPORT/<target>/index.html and $REPORT/all/index.html"
[ "$failed" -eq 0 ] || { echo "fuzz-coverage: some inputs were left out (see above)" >&2; exit 1; }
