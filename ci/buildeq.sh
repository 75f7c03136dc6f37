#!/usr/bin/env bash
# BUILD-EQ gate: the freestanding build of the core (hv_replay.elf, run in a
# KVM guest) and the hosted build give identical outputs on every corpus
# trace (corpus/regressions/, corpus/exits/, corpus/kvm/ and any other .hxt
# under corpus/), checked with `hx buildeq`. Then the check itself is
# checked: test-only images with a planted difference, an exception, a
# triple fault, a hang and a stack overflow must be reported with the exit
# index (and the field), in bounded time, and a wrong image must be refused.
#
# usage: ci/buildeq.sh BUILD_DIR
# Without /dev/kvm: prints why and succeeds (skipped). With /dev/kvm, every
# problem fails, including a /dev/kvm that cannot be used.
# Last line: "build-eq: N passed, N failed". Exit 0 when nothing failed.
set -uo pipefail
build_arg=${1:?usage: ci/buildeq.sh BUILD_DIR}
build=$(cd "$build_arg" 2>/dev/null && pwd) || { echo "build-eq: no build directory $build_arg" >&2; exit 2; }
cd "$(dirname "$0")/.." || exit 2

if [ ! -e /dev/kvm ]; then
  echo "build-eq: SKIPPED: /dev/kvm does not exist here; the freestanding replay image runs"
  echo "build-eq: in a KVM guest, so BUILD-EQ is checked only on machines with /dev/kvm"
  exit 0
fi

hx=$build/hx
imgs=$build/harness/equiv/buildeq
passed=0 failed=0 unusable=0
pass() { passed=$((passed + 1)); echo "  ok: $*"; }
fail() { failed=$((failed + 1)); echo "  FAILED: $*"; }
finish() {
  if [ "$unusable" -ne 0 ]; then
    echo "build-eq: $passed passed, $failed failed ($unusable traces not replayable by either build)"
  else
    echo "build-eq: $passed passed, $failed failed"
  fi
  [ "$failed" -eq 0 ]
  exit
}

for f in "$hx" "$imgs/hv_replay.elf" "$imgs/hv_replay_planted.elf" "$imgs/hv_replay_fault.elf" \
         "$imgs/hv_replay_crash.elf" "$imgs/hv_replay_hang.elf" "$imgs/hv_replay_stack.elf"; do
  if [ ! -f "$f" ]; then
    fail "$f missing (cmake --build $build_arg --target hx)"
  fi
done
[ "$failed" -eq 0 ] || finish

mapfile -t traces < <(find corpus -name '*.hxt' -type f | LC_ALL=C sort)
if [ "${#traces[@]}" -eq 0 ]; then
  fail "no .hxt traces under corpus/"
  finish
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# ---- every corpus trace ----
echo "######## BUILD-EQ over ${#traces[@]} corpus traces"
"$hx" buildeq -v "${traces[@]}" >"$tmp/all.out" 2>&1
rc=$?
cat "$tmp/all.out"
if [ "$rc" -ne 0 ] && ! grep -q ': build-eq \|: BAD INPUT: ' "$tmp/all.out"; then
  fail "hx buildeq could not run (exit $rc)"
  finish
fi
for t in "${traces[@]}"; do
  line=$(grep -F -- "$t: " "$tmp/all.out" | grep -v '^  ' | head -n 1)
  case $line in
  "$t: build-eq pass:"*) pass "$t" ;;
  "$t: BAD INPUT:"*)
    # Comparable only if the hosted replay can run it at all.
    if "$hx" replay --no-det "$t" 2>&1 | grep "^$t: BAD INPUT" >/dev/null; then
      unusable=$((unusable + 1))
      echo "  not replayable by either build: $t"
    else
      fail "$t: refused by BUILD-EQ but replayable by hx replay: ${line#"$t: "}"
    fi ;;
  "") fail "$t: no verdict from hx buildeq" ;;
  *) fail "${line}" ;;
  esac
done

# ---- the check is checked ----
echo
echo "######## planted differences (test-only images)"
# The first CPUID exit with leaf 1 that resumes, from the dump: the planted
# images change exactly that exit.
pick_leaf1() {
  "$hx" trace dump "$1" 2>/dev/null | awk '
    /^exit [0-9]+ @/ { idx = $2; cpuid = ($4 == "cpuid"); leaf1 = 0; next }
    cpuid && /^  in: / { leaf1 = ($0 ~ / rax 0x1( |$)/); next }
    cpuid && leaf1 && /^  result: resume/ { print idx; exit }'
}
target="" index=""
for t in corpus/exits/cpuid.hxt "${traces[@]}"; do
  [ -f "$t" ] || continue
  index=$(pick_leaf1 "$t")
  if [ -n "$index" ]; then target=$t; break; fi
done
if [ -z "$target" ]; then
  fail "no corpus trace has a CPUID leaf 1 exit that resumes: the planted difference cannot be shown"
  finish
fi
echo "target: $target, exit $index (CPUID leaf 1)"

# Difference: ECX bit 31 flipped on that exit only.
out=$("$hx" buildeq --image "$imgs/hv_replay_planted.elf" "$target" 2>&1)
echo "$out"
re="^$target: build-eq FAIL: exit $index \\(cpuid\\): st\\.rcx: hosted (0x[0-9a-f]+), freestanding (0x[0-9a-f]+) \\[field st\\.rcx\\]"
if [[ $out =~ $re ]] && (( (BASH_REMATCH[1] ^ BASH_REMATCH[2]) == 0x80000000 )); then
  pass "planted difference found: exit $index, field st.rcx, exactly bit 31"
else
  fail "planted difference (exit $index, st.rcx bit 31) not reported as such"
fi

expect_error() { # image, what, pattern, timeout [, 1: the report names the planted function]
  local start end out
  start=$(date +%s)
  out=$("$hx" buildeq --timeout "$4" --image "$imgs/$1" "$target" 2>&1)
  local rc=$?
  end=$(date +%s)
  echo "$out"
  if [ "$rc" -eq 1 ] && [[ $out == *"$target: build-eq ERROR: exit $index (cpuid): "*"$3"* ]] &&
     { [ "${5:-0}" = 0 ] || [[ $out == *"(__wrap_hv_handle_cpuid+0x"* ]]; } &&
     [ $((end - start)) -le $(($4 + 15)) ]; then
    pass "$2 reported at exit $index in $((end - start)) s"
  else
    fail "$2: expected exit status 1 and 'exit $index (cpuid): ...$3' within $(($4 + 15)) s (got $rc after $((end - start)) s)"
  fi
}
expect_error hv_replay_fault.elf "exception in the image" "the image took exception 6" 60 1
expect_error hv_replay_crash.elf "triple fault of the image" "triple-faulted" 60 1
expect_error hv_replay_hang.elf "hung image" "the trace ran out of time after 6 s at exit $index of" 6 1

# A trace far too long for its limit (about 20x on this machine class): the
# message says the trace ran out of time and how far it got, and the image
# had answered every exit up to there.
m=$(python3 ci/trace-repeat.py corpus/exits/cpuid.hxt "$tmp/long.hxt" 300)
out=$("$hx" buildeq --timeout 1 "$tmp/long.hxt" 2>&1)
rc=$?
echo "$out"
re="^$tmp/long.hxt: build-eq ERROR: exit ([0-9]+) \\([a-z-]+\\): the trace ran out of time after 1 s at exit ([0-9]+) of $m \\(([0-9]+) answered\\)"
if [ "$rc" -eq 1 ] && [[ $out =~ $re ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] &&
   [ "${BASH_REMATCH[2]}" = "${BASH_REMATCH[3]}" ] && [ "${BASH_REMATCH[2]}" -gt 0 ] &&
   [ "${BASH_REMATCH[2]}" -lt "$m" ]; then
  pass "a trace too long for --timeout 1 is reported as running out of time at exit ${BASH_REMATCH[2]} of $m"
else
  fail "long trace with --timeout 1: expected exit 1 and 'ran out of time after 1 s at exit K of $m' (got $rc)"
fi
expect_error hv_replay_stack.elf "stack overflow" "its stack overflowed" 60

# A file that is not a replay image is refused before anything runs.
out=$("$hx" buildeq --image "$build/handlers/hv_image.elf" "$target" 2>&1)
rc=$?
echo "$out"
if [ "$rc" -eq 2 ] && [[ $out == *"outside the image area"* ]]; then
  pass "an image linked elsewhere is refused"
else
  fail "hv_image.elf as replay image: expected exit 2 and a placement error (got $rc)"
fi
finish
