#!/usr/bin/env bash
# Checks the freestanding image: it must exist (the link uses --no-undefined
# and no libraries), contain no undefined symbols and no libc references;
# prints its size in total and per source file.
set -euo pipefail
build=${1:?usage: ci/freestanding.sh BUILD_DIR}
# hv_image.elf links both vendors' exit translation, hv_image_intel.elf and
# hv_image_amd.elf one each: every one must link with nothing undefined,
# and a one-vendor image must not carry the other vendor's layer.
img="$build/handlers/hv_image.elf"
for name in hv_image.elf hv_image_intel.elf hv_image_amd.elf; do
  f="$build/handlers/$name"
  if [ ! -f "$f" ]; then
    echo "freestanding: $f missing: the bare-metal link failed (see the build log)" >&2
    exit 1
  fi
  undef=$(nm -u "$f" || true)
  if [ -n "$undef" ]; then
    echo "freestanding: undefined symbols in $f:" >&2
    echo "$undef" >&2
    exit 1
  fi
done
# grep reads all of nm's output (grep -q would stop early and, with pipefail,
# turn nm's SIGPIPE into a miss).
has() { nm "$build/handlers/$1" | grep " T $2\$" >/dev/null; }
for want in "hv_image.elf hv_vmx_exit_read" "hv_image.elf hv_svm_exit_read" \
            "hv_image_intel.elf hv_vmx_exit_read" "hv_image_amd.elf hv_svm_exit_read" \
            "hv_image_intel.elf hv_s2_build" "hv_image_amd.elf hv_s2_build"; do
  # shellcheck disable=SC2086 # two words: image, symbol
  if ! has $want; then echo "freestanding: ${want% *} lacks ${want#* }" >&2; exit 1; fi
done
for unwanted in "hv_image_intel.elf hv_svm_exit_read" "hv_image_amd.elf hv_vmx_exit_read"; do
  # shellcheck disable=SC2086
  if has $unwanted; then echo "freestanding: ${unwanted% *} links ${unwanted#* } (the other vendor's layer)" >&2; exit 1; fi
done
for name in hv_image_intel.elf hv_image_amd.elf; do
  echo "$name (one vendor, no undefined symbols): $(size --format=berkeley "$build/handlers/$name" | awk 'NR == 2 {print "text " $1 ", data " $2 ", bss " $3}')"
done
echo "freestanding image $img (no undefined symbols):"
size "$img"
echo "per source file (text data bss of each object of the freestanding core):"
objdir="$build/handlers/CMakeFiles/hv_free.dir/src"
size --format=berkeley "$objdir"/*.o | awk 'NR==1 {printf "%8s %8s %8s  %s\n", "text", "data", "bss", "file"; next}
  {n=split($6, p, "/"); printf "%8d %8d %8d  %s\n", $1, $2, $3, p[n]; t+=$1; d+=$2; b+=$3}
  END {printf "%8d %8d %8d  %s\n", t, d, b, "(objects total, before --gc-sections)"}'
