#!/usr/bin/env bash
# Replay every kept fuzz input: corpus/regressions/ (each bug the fuzzers
# found, named <target>-<what>, exit traces as .hxt) and every seed corpus
# corpus/<target>/ (plus the KVM suite's traces in corpus/kvm/, for the
# exits target) through the plain replay drivers BUILD_DIR/fuzz/fuzz_<t>
# (ASan+UBSan, every oracle), and every .hxt among them also through
# `hx replay`, which compares the recorded outputs and checks DET.
# Usage: ci/regressions.sh BUILD_DIR   (builds fuzz_all and hx there)
set -uo pipefail
build=${1:?usage: ci/regressions.sh BUILD_DIR}
cd "$(dirname "$0")/.."
cmake --build "$build" -j "$(nproc)" --target fuzz_all hx >"$build/regressions-build.log" 2>&1 || {
  tail -20 "$build/regressions-build.log" >&2
  echo "regressions: build failed, see $build/regressions-build.log"
  exit 1
}
sym=$(command -v llvm-symbolizer || true)
export ASAN_OPTIONS=symbolize=1:abort_on_error=1:handle_abort=1:detect_leaks=0${sym:+:external_symbolizer_path=$sym}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
targets=$(ls harness/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')
passed=0 failed=0

# One input through its target's driver.
run_one() {
  local t=$1 f=$2 log
  if log=$(timeout 120 "$build/fuzz/fuzz_$t" "$f" 2>&1); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $t: $f"
    printf '%s\n' "$log" | grep -E 'hx-fuzz|ERROR|SUMMARY|runtime error' | head -5 | sed 's/^/    /'
  fi
}

# A directory through one driver process; per file only when it fails, to
# name the inputs that do.
run_dir() {
  local t=$1 d=$2
  mapfile -t files < <(find "$d" -maxdepth 1 -type f ! -name '*.dict' ! -name 'README*' | sort)
  [ ${#files[@]} -gt 0 ] || return 0
  if timeout 600 "$build/fuzz/fuzz_$t" "${files[@]}" >/dev/null 2>&1; then
    passed=$((passed + ${#files[@]}))
  else
    for f in "${files[@]}"; do run_one "$t" "$f"; done
  fi
}

hxt=()
shopt -s nullglob
for f in corpus/regressions/*; do
  [ -f "$f" ] || continue
  case "$(basename "$f")" in README*) continue ;; esac
  t=$(basename "$f" | cut -d- -f1)
  case "$f" in *.hxt) t=exits; hxt+=("$f") ;; esac
  if ! echo "$targets" | grep -qx "$t"; then
    failed=$((failed + 1))
    echo "FAIL $f: no fuzz target '$t' (name regressions <target>-<what>)"
    continue
  fi
  run_one "$t" "$f"
done
for t in $targets; do
  [ -d "corpus/$t" ] && run_dir "$t" "corpus/$t"
done
[ -d corpus/kvm ] && run_dir exits corpus/kvm
hxt+=(corpus/exits/*.hxt corpus/kvm/*.hxt)

# The targets that reset one built system (ept: its config) between
# inputs, once more with HX_FUZZ_CHECK_RESET=1: after every reset the
# system is compared with the one built, byte for byte, so a reset that
# misses state fails here.
for t in hcall exits ept; do
  mapfile -t files < <(find "corpus/$t" -maxdepth 1 -type f ! -name '*.dict' ! -name 'README*' | sort)
  if HX_FUZZ_CHECK_RESET=1 timeout 600 "$build/fuzz/fuzz_$t" "${files[@]}" "${files[@]}" >/dev/null 2>"$build/check-reset-$t.log"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $t: a reset differs from the built system (HX_FUZZ_CHECK_RESET=1)"
    grep -E 'hx-fuzz|ERROR|SUMMARY' "$build/check-reset-$t.log" | head -5 | sed 's/^/    /'
  fi
done

# Recorded traces: outputs compared, replayed twice.
if [ ${#hxt[@]} -gt 0 ]; then
  out=$("$build/hx" replay "${hxt[@]}" 2>&1)
  ok=$(printf '%s\n' "$out" | grep -c ': pass')
  passed=$((passed + ok))
  if [ "$ok" -ne ${#hxt[@]} ]; then
    failed=$((failed + ${#hxt[@]} - ok))
    printf '%s\n' "$out" | grep -v ': pass' | sed 's/^/FAIL hx replay: /'
  fi
fi
echo "regressions: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
