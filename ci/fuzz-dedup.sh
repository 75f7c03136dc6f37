#!/usr/bin/env bash
# Deduplicate the crashes of one target by stack: each crash input is run
# through the plain replay build (ASan+UBSan, symbolized) and keyed by the
# invariant id or the top three frames of its report. Prints the number of
# unique crashes last. Usage: ci/fuzz-dedup.sh TARGET OUT_DIR REPLAY_DIR
set -uo pipefail
t=$1 out=$2 replay=$3
bin=$replay/fuzz_$t
mkdir -p "$out/unique"
shopt -s nullglob
for c in "$out"/crashes/*; do
  [ -f "$c" ] || continue
  report=$("$bin" "$c" 2>&1)
  key=$(printf '%s\n' "$report" | grep -o 'invariant [A-Z-]* violated' | head -1)
  frames=$(printf '%s\n' "$report" | grep -E '^ +#[0-9]+ ' | grep -v -E 'fz_fail|abort|__sanitizer|__asan|__ubsan|libc' | head -3 | awk '{print $4}' | tr '\n' ' ')
  [ -z "$key$frames" ] && key="no-report"
  id=$(printf '%s %s' "$key" "$frames" | sha1sum | cut -c1-12)
  if [ ! -f "$out/unique/$id" ]; then
    cp "$c" "$out/unique/$id"
    printf '%s\n%s\n' "$key $frames" "$report" >"$out/unique/$id.txt"
  fi
done
ls "$out"/unique | grep -v '\.txt$' | wc -l
