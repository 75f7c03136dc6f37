#!/usr/bin/env bash
# Size of the freestanding image: per source file (from the link map, so
# only what --gc-sections kept is counted) and in total, plus the size of
# its loadable bytes (objcopy -O binary) and their LZMA size (xz -9e), which
# is what a flash part pays for. Writes JSON to OUT (atomically) or stdout.
#
#   harness/bench/image-size.sh BUILD_DIR [OUT.json [IMAGE]]
# IMAGE: hv_image.elf (both vendors, the default), hv_image_intel.elf or
# hv_image_amd.elf (one vendor's exit translation), in BUILD_DIR/handlers.
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  echo "usage: image-size.sh BUILD_DIR [OUT.json [IMAGE]]" >&2
  exit 2
fi
build=$1
out=${2:-}
name=${3:-hv_image.elf}
case $name in
hv_image.elf | hv_image_intel.elf | hv_image_amd.elf) ;;
*) echo "image-size: unknown image '$name' (hv_image.elf, hv_image_intel.elf, hv_image_amd.elf)" >&2; exit 2 ;;
esac
img="$build/handlers/$name"
map="$build/handlers/${name%.elf}.map"
for f in "$img" "$map"; do
  if [ ! -f "$f" ]; then
    echo "image-size: $f missing (build the $name target)" >&2
    exit 2
  fi
done
for tool in objcopy xz size; do
  command -v "$tool" >/dev/null || { echo "image-size: $tool not installed" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
objcopy -O binary "$img" "$tmp/image.bin"
xz -9e -c "$tmp/image.bin" >"$tmp/image.bin.xz"
bin_bytes=$(stat -c %s "$tmp/image.bin")
xz_bytes=$(stat -c %s "$tmp/image.bin.xz")
read -r text data bss _ < <(size --format=berkeley "$img" | awk 'NR == 2')

# Map file: after "Linker script and memory map", output sections start in
# column 0 (.text, .rodata, .data, .bss); input sections are indented and
# give address, size and the object, on the same line or (long names) on
# the next one. Sum input-section sizes per object and output section.
# (POSIX awk: no strtonum, so hex is parsed by hand)
awk -v image="$name" -v text="$text" -v data="$data" -v bss="$bss" -v bin="$bin_bytes" -v xz="$xz_bytes" '
  function hex(h,   i, v, c) {
    v = 0; h = tolower(substr(h, 3))
    for (i = 1; i <= length(h); i++) { c = index("0123456789abcdef", substr(h, i, 1)) - 1; v = v * 16 + c }
    return v
  }
  /^Linker script and memory map/ { inmap = 1; next }
  !inmap { next }
  /^\.[a-z]/ { split($1, s, "."); out = s[2]; next }
  /^ \.[^ ]+ *$/ { pending = 1; next }
  {
    n = split($0, f, /[ \t]+/)
    # f[1] is empty (leading blank); input section lines: name addr size file
    if (pending && f[2] ~ /^0x/ && f[3] ~ /^0x/ && n >= 4) { size = hex(f[3]); file = f[4]; pending = 0 }
    else if (f[2] ~ /^\./ && f[3] ~ /^0x/ && f[4] ~ /^0x/ && n >= 5) { size = hex(f[4]); file = f[5]; pending = 0 }
    else { pending = 0; next }
    if (out != "text" && out != "rodata" && out != "data" && out != "bss") next
    if (size == 0) next
    name = file
    sub(/^.*\(/, "", name); sub(/\)$/, "", name); sub(/^.*\//, "", name); sub(/\.o$/, "", name)
    if (!(name in seen)) { seen[name] = 1; order[++nf] = name }
    sz[name, out] += size
  }
  END {
    printf "{\n  \"image\": \"%s\",\n  \"text\": %d, \"data\": %d, \"bss\": %d,\n", image, text, data, bss
    printf "  \"loadable_bytes\": %d, \"xz_bytes\": %d,\n  \"files\": [\n", bin, xz
    for (i = 1; i <= nf; i++) {
      n = order[i]
      printf "    {\"file\": \"%s\", \"text\": %d, \"rodata\": %d, \"data\": %d, \"bss\": %d}%s\n", n, sz[n, "text"], sz[n, "rodata"], sz[n, "data"], sz[n, "bss"], (i < nf ? "," : "")
    }
    printf "  ]\n}\n"
  }' "$map" >"$tmp/size.json"

if [ -n "$out" ]; then
  cp "$tmp/size.json" "$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
else
  cat "$tmp/size.json"
fi
