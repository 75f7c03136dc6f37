#!/usr/bin/env bash
# Checks the ClusterFuzzLite / OSS-Fuzz build script: runs
# .clusterfuzzlite/build.sh with the variables the infrastructure sets
# (CC=clang, CFLAGS with ASan + fuzzer instrumentation, LIB_FUZZING_ENGINE,
# OUT = a temporary directory), then runs every built fuzzer on one input
# of its seed corpus and checks each has its dictionary and seed zip.
set -uo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CC=clang CXX=clang++ CFLAGS="-fsanitize=address,fuzzer-no-link" \
  CXXFLAGS="-fsanitize=address,fuzzer-no-link" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
  FUZZING_ENGINE=libfuzzer OUT=$tmp/out WORK=$tmp/work SRC=$tmp/src
mkdir -p "$OUT" "$WORK" "$SRC"
if ! bash .clusterfuzzlite/build.sh >"$tmp/build.log" 2>&1; then
  tail -30 "$tmp/build.log"
  echo "cfl-check: .clusterfuzzlite/build.sh failed"
  exit 1
fi
# fuzz_call needs /dev/kvm and is left out of the build (build.sh).
targets=$(ls harness/fuzz/fuzz_*.c | sed 's|.*/||; s|\.c$||' | grep -v '^fuzz_call$')
ok=0 bad=0
for name in $targets; do
  bin=$OUT/$name
  if [ ! -x "$bin" ]; then echo "cfl-check: $name: no binary in OUT"; bad=$((bad + 1)); continue; fi
  t=${name#fuzz_}
  if [ -f "corpus/$t/$t.dict" ] && [ ! -f "$OUT/$name.dict" ]; then
    echo "cfl-check: $name: dictionary not copied"; bad=$((bad + 1)); continue
  fi
  zip=$OUT/${name}_seed_corpus.zip
  if [ ! -f "$zip" ]; then echo "cfl-check: $name: no seed corpus zip"; bad=$((bad + 1)); continue; fi
  rm -rf "$tmp/seeds"; mkdir -p "$tmp/seeds"
  python3 -m zipfile -e "$zip" "$tmp/seeds" || { echo "cfl-check: $name: bad zip"; bad=$((bad + 1)); continue; }
  one=$(find "$tmp/seeds" -type f | sort | head -1)
  if ASAN_OPTIONS=detect_leaks=0 "$bin" -runs=1 $([ -f "$OUT/$name.dict" ] && echo -dict="$OUT/$name.dict") "$one" >"$tmp/$name.log" 2>&1 &&
     grep -q 'Executed .* in' "$tmp/$name.log"; then
    ok=$((ok + 1))
  else
    tail -15 "$tmp/$name.log"
    echo "cfl-check: $name failed on $one"
    bad=$((bad + 1))
  fi
done
echo "cfl-check: $ok fuzzers built by .clusterfuzzlite/build.sh ran one seed each, $bad failed ($(( $(date +%s) - t0 ))s)"
[ "$bad" -eq 0 ]
