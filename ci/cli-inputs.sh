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

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GCOV_PREFIX=$tmp/gcov GCOV_PREFIX_STRIP=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
CLI_TIMEOUT=20
# shellcheck source=ci/cli-lib.sh
. ci/cli-lib.sh

cfg=corpus/configs/kvm-one.json
amdcfg=corpus/configs/kvm-amd-one.json
trace=corpus/exits/cpuid.hxt
guest=$build/harness/guest/cpuid.elf
image=$build/harness/equiv/buildeq/hv_replay.elf

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
    run "$tag boot config ($kind)" 2 "$f: $why" "$bin" boot "$f" "$guest"
    run "$tag boot guest ($kind)" 2 "guest image of partition 0: $f: $why" "$bin" boot "$amdcfg" "$f"
    run "$tag boot --image ($kind)" 2 "boot image $f: $why" "$bin" boot "$amdcfg" "$guest" --image "$f"
    run "$tag buildeq trace ($kind)" 2 "$f: BAD INPUT: $why" "$bin" buildeq --image "$image" "$f"
  done
  # Empty files: each reader says what it expected.
  run "$tag config check (empty)" 2 "empty: empty file, expected a JSON object" "$bin" config check "$tmp/empty"
  run "$tag trace dump (empty)" 2 "$tmp/empty: " "$bin" trace dump "$tmp/empty"
  run "$tag run guest (empty)" 2 "$tmp/empty: file too short for an ELF header (0 bytes)" "$bin" run "$cfg" "$tmp/empty"
  run "$tag boot guest (empty)" 2 "the hypervisor refused to run: partition 0: guest image is 0 bytes, smaller than an ELF header" \
    "$bin" boot "$amdcfg" "$tmp/empty"
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

# Text from inputs is printed escaped. patch_trace IN OUT OLD NEW: replace
# bytes (same length) in a trace and reseal its FNV-1a checksum, so the
# reader gets past the checksum to the field under test.
patch_trace() {
  python3 - "$@" <<'PY'
import sys
src, dst, old, new = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode().decode('unicode_escape').encode('latin-1')
b = bytearray(open(src, 'rb').read())
assert len(old) == len(new) and old in b
i = b.index(old)
b[i:i + len(old)] = new
n = int.from_bytes(b[16:24], 'little')
h = 0xcbf29ce484222325
for c in b[40:40 + n]:
    h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
b[24:32] = h.to_bytes(8, 'little')
open(dst, 'wb').write(b)
PY
  [ $? -eq 0 ] || bad "patch_trace $3 -> $4 failed"
}
# config name and note are free text: accepted, printed escaped.
patch_trace "$trace" "$tmp/esc-meta.hxt" 'two-channel.json' '\x1b[2J\nok: fake.js'
patch_trace "$tmp/esc-meta.hxt" "$tmp/esc-meta.hxt" 'hx-gen-seeds' '\rPASS\x1b[0m   '
# partition names must be printable ASCII, as in JSON configs.
patch_trace "$trace" "$tmp/esc-name.hxt" $'\x05alpha' '\x05\x1b[2J\n'
# A config file whose name forges a line.
forged=$tmp/$'x\nok: forged.json'
cp corpus/configs/one.json "$forged"
# no_raw NAME: the last output holds no ESC/CR byte and no forged line.
no_raw() {
  if grep -q $'[\x1b\r]' "$tmp/out" || grep -qE '^(ok: f(orged|ake)|PASS)' "$tmp/out"; then
    bad "$1: input bytes printed raw"
    cat -A "$tmp/out" | head -10 | sed 's/^/    /'
  else
    ok
  fi
}
for bin in "$build/hx" "$build/hx_asan"; do
  tag=$(basename "$bin")
  run "$tag trace dump (escapes in config name and note)" 0 \
    'config "\x1b[2J\x0aok: fake.js"' "$bin" trace dump "$tmp/esc-meta.hxt"
  no_raw "$tag trace dump (escapes in config name and note)"
  run "$tag trace dump (note)" 0 'note: \x0dPASS\x1b[0m    (synthetic host)' "$bin" trace dump "$tmp/esc-meta.hxt"
  run "$tag replay (escapes in config name)" 0 "esc-meta.hxt: pass" "$bin" replay "$tmp/esc-meta.hxt"
  run "$tag trace dump (escape in a partition name)" 2 \
    "field 'partitions[0].name' at byte offset" "$bin" trace dump "$tmp/esc-name.hxt"
  run "$tag replay (escape in a partition name)" 2 \
    "byte 0x1b at 0 is not printable ASCII (names must be 0x20..0x7e)" "$bin" replay "$tmp/esc-name.hxt"
  no_raw "$tag replay (escape in a partition name)"
  run "$tag config check (forged file name)" 0 'ok: 1 partition' "$bin" config check "$forged"
  run "$tag config check (forged file name, escaped)" 0 'x\x0aok: forged.json' "$bin" config check "$forged"
  no_raw "$tag config check (forged file name)"
  run "$tag ept dump (forged file name)" 0 'x\x0aok: forged.json' "$bin" ept dump "$forged"
  no_raw "$tag ept dump (forged file name)"
  run "$tag replay (forged file name)" 2 "x\x0aok: forged.json: BAD INPUT: field 'header.magic' at byte offset 0: not an hx trace" "$bin" replay "$forged"
  no_raw "$tag replay (forged file name)"
  run "$tag unknown command (escape)" 2 "hx: unknown command '\x1b[2J'" "$bin" $'\x1b[2J'
  no_raw "$tag unknown command (escape)"
done

# Outputs are written atomically and never in place of a non-regular file.
for bin in "$build/hx" "$build/hx_asan"; do
  tag=$(basename "$bin")
  for s in "${specials[@]}"; do
    IFS='|' read -r kind f why <<<"$s"
    [ "$kind" = socket ] && why="is a socket, not a regular file"
    run "$tag run --record ($kind)" 2 "$f: $why: refusing to replace it with a trace" \
      "$bin" run "$cfg" "$guest" --record "$f"
  done
  run "$tag run --record /dev/null" 2 "/dev/null: is a character device, not a regular file: refusing" \
    "$bin" run "$cfg" "$guest" --record /dev/null
  [ -c /dev/null ] || bad "/dev/null is no longer a character device"
done

# Numeric and repeated arguments: strict numbers (no sign, blank, octal,
# empty), each single-valued option at most once, no empty output name.
for bin in "$build/hx" "$build/hx_asan"; do
  tag=$(basename "$bin")
  for v in '' ' 0' '+0' '-1' '0x' '1k' '18446744073709551616'; do
    run "$tag run --partition '$v'" 2 "hx run: --partition $v: expected a partition index 0..63" \
      "$bin" run "$cfg" "$guest" --partition "$v"
    run "$tag trace dump --bytes '$v'" 2 "hx trace dump: --bytes $v: wants a number 0..4096" \
      "$bin" trace dump "$trace" --bytes "$v"
  done
  run "$tag run --partition 010 (decimal)" 2 "hx run: --partition 10, but" "$bin" run "$cfg" "$guest" --partition 010
  run "$tag run --max-exits -1" 2 "hx run: --max-exits -1: expected a positive count" \
    "$bin" run "$cfg" "$guest" --max-exits -1
  run "$tag run --timeout nan" 2 "hx run: --timeout nan: expected seconds" "$bin" run "$cfg" "$guest" --timeout nan
  for o in "--partition 0" "--timeout 5" "--max-exits 9" "--vcpus 1" "--record $tmp/r.hxt"; do
    # shellcheck disable=SC2086 # two words: option and value
    run "$tag run $o twice" 2 "hx run: option ${o%% *} is given twice" "$bin" run "$cfg" "$guest" $o $o
  done
  run "$tag run --guest 0= twice" 2 "partition already has a guest" \
    "$bin" run "$cfg" "$guest" --guest "0=$guest" --guest "0=$guest"
  run "$tag run --expect twice" 2 "an expectation for all partitions is already given" \
    "$bin" run "$cfg" "$guest" --expect pass --expect fail
  run "$tag run --expect 0= twice" 2 "partition already has an expectation" \
    "$bin" run "$cfg" "$guest" --expect 0=pass --expect 0=fail
  run "$tag run --record ''" 2 "hx run: --record : empty file name" "$bin" run "$cfg" "$guest" --record ''
  run "$tag trace dump --bytes twice" 2 "hx trace dump: --bytes is given twice" \
    "$bin" trace dump "$trace" --bytes 1 --bytes 2
  run "$tag buildeq --timeout twice" 2 "hx buildeq: --timeout is given twice" \
    "$bin" buildeq --timeout 1 --timeout 2 "$trace"
  run "$tag buildeq --image twice" 2 "hx buildeq: --image is given twice" \
    "$bin" buildeq --image "$image" --image "$image" "$trace"
  run "$tag buildeq --timeout 1e999" 2 "not a number of seconds in (0, 3600]" \
    "$bin" buildeq --timeout 1e999 "$trace"
  run "$tag config check ''" 2 "empty file name" "$bin" config check ''
  run "$tag run '' guest" 2 "empty file name" "$bin" run '' "$guest"
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
