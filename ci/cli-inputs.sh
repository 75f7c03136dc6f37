#!/usr/bin/env bash
# Hostile input files for every hx command that reads one, with both hx and
# hx_asan: FIFOs (which would block a plain open), symlinks to FIFOs,
# directories, character devices, sockets, empty files, a pipe on
# /dev/stdin. Each must end at once with exit 2 and a message naming the
# file and why, never a hang (every run is under `timeout`), a crash or a
# sanitizer report. Called by ci/cli-tests.sh; usage: ci/cli-inputs.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: ci/cli-inputs.sh BUILD_DIR}
cd "$(dirname "$0")/.."
build=$(cd "$build" && pwd)

passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GCOV_PREFIX=$tmp/gcov GCOV_PREFIX_STRIP=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $*"
}

# run NAME WANT_RC FRAGMENT CMD...: exit code (124 is a hang), fragment in
# the output, no sanitizer report. Standard input is /dev/null unless the
# caller redirects it.
run() {
  local name=$1 want=$2 frag=$3
  shift 3
  timeout 20 "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ "$rc" -eq 124 ]; then
    bad "$name: hung (killed after 20 s)"
  elif [ "$rc" -ne "$want" ]; then
    bad "$name: exit $rc, want $want"
    sed 's/^/    /' "$tmp/out" | head -20
  elif grep -qE 'Sanitizer|runtime error:' "$tmp/out"; then
    bad "$name: sanitizer report"
    sed 's/^/    /' "$tmp/out" | head -40
  elif [ -n "$frag" ] && ! grep -qF -- "$frag" "$tmp/out"; then
    bad "$name: output lacks: $frag"
    sed 's/^/    /' "$tmp/out" | head -20
  else
    ok
  fi
}

cfg=corpus/configs/kvm-one.json
trace=corpus/exits/cpuid.hxt
guest=$build/harness/guest/cpuid.elf
image=$build/harness/replay/freestanding/hv_replay.elf

mkfifo "$tmp/fifo"
ln -s "$tmp/fifo" "$tmp/link-to-fifo"
mkdir "$tmp/dir"
: >"$tmp/empty"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/sock"

# kind of file | path | reason
specials=(
  "fifo|$tmp/fifo|is a FIFO, not a regular file"
  "symlink to a fifo|$tmp/link-to-fifo|is a FIFO, not a regular file"
  "directory|$tmp/dir|is a directory, not a regular file"
  "character device|/dev/zero|is a character device, not a regular file"
  "socket|$tmp/sock|is a socket, not a regular file"
)

for bin in "$build/hx" "$build/hx_asan"; do
  tag=$(basename "$bin")
  for s in "${specials[@]}"; do
    IFS='|' read -r kind f why <<<"$s"
    run "$tag config check ($kind)" 2 "$f: $why" "$bin" config check "$f"
    run "$tag ept dump ($kind)" 2 "$f: $why" "$bin" ept dump "$f"
    run "$tag trace dump ($kind)" 2 "$f: $why" "$bin" trace dump "$f"
    run "$tag replay ($kind)" 2 "$f: BAD INPUT: $why" "$bin" replay "$f"
    run "$tag minimize ($kind)" 2 "$f: $why" "$bin" minimize "$f" -o "$tmp/min.hxt"
    run "$tag run config ($kind)" 2 "$f: $why" "$bin" run "$f" "$guest"
    run "$tag run guest ($kind)" 2 "$f: $why" "$bin" run "$cfg" "$f"
    run "$tag run --guest 0=($kind)" 2 "$f: $why" "$bin" run "$cfg" "$guest" --guest "0=$f"
    run "$tag buildeq --image ($kind)" 2 "$f: $why" "$bin" buildeq --image "$f" "$trace"
    run "$tag buildeq trace ($kind)" 2 "$f: BAD INPUT: $why" "$bin" buildeq --image "$image" "$f"
  done
  # Empty files: each reader says what it expected.
  run "$tag config check (empty)" 2 "empty: empty file, expected a JSON object" "$bin" config check "$tmp/empty"
  run "$tag trace dump (empty)" 2 "$tmp/empty: " "$bin" trace dump "$tmp/empty"
  run "$tag run guest (empty)" 2 "$tmp/empty: file too short for an ELF header (0 bytes)" "$bin" run "$cfg" "$tmp/empty"
  run "$tag buildeq --image (empty)" 2 "too short for an ELF header" "$bin" buildeq --image "$tmp/empty" "$trace"
  # Standard input: no command reads "-" as stdin (it is refused as an
  # unknown option); /dev/stdin is accepted when it is a regular file and
  # refused when it is a pipe.
  run "$tag config check -" 2 "usage: hx config check" "$bin" config check -
  run "$tag trace dump -" 2 "usage: hx trace dump" "$bin" trace dump -
  run "$tag run -" 2 "hx run: unknown option -" "$bin" run "$cfg" -
  run "$tag config check /dev/stdin (pipe)" 2 "/dev/stdin: is a FIFO, not a regular file" \
    bash -c 'cat "$1" | "$2" config check /dev/stdin' _ "$cfg" "$bin"
  run "$tag config check /dev/stdin (file)" 0 "ok: " "$bin" config check /dev/stdin <"$cfg"
  run "$tag trace dump /dev/stdin (pipe)" 2 "/dev/stdin: is a FIFO, not a regular file" \
    bash -c 'cat "$1" | "$2" trace dump /dev/stdin' _ "$trace" "$bin"
done

# The fuzz targets' replay driver reads corpus files the same way.
if [ -x "$build/fuzz/fuzz_config" ]; then
  run "fuzz_config (fifo)" 2 "$tmp/fifo: is a FIFO, not a regular file" "$build/fuzz/fuzz_config" "$tmp/fifo"
  cp corpus/configs/one.json "$tmp/dir/one.json"
  mkfifo "$tmp/dir/zz-fifo"
  # Directory entries that are not regular files are skipped, not opened.
  run "fuzz_config (directory with a fifo)" 0 "1 inputs replayed" "$build/fuzz/fuzz_config" "$tmp/dir"
else
  bad "$build/fuzz/fuzz_config is missing"
fi

echo "cli inputs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
