#!/usr/bin/env bash
# Checks the freestanding image: it must exist (the link uses --no-undefined
# and no libraries), contain no undefined symbols and no libc references;
# prints its size in total and per source file.
set -euo pipefail
build=${1:?usage: ci/freestanding.sh BUILD_DIR}
img="$build/handlers/hv_image.elf"
if [ ! -f "$img" ]; then
  echo "freestanding: $img missing: the bare-metal link failed (see the build log)" >&2
  exit 1
fi
undef=$(nm -u "$img" || true)
if [ -n "$undef" ]; then
  echo "freestanding: undefined symbols in $img:" >&2
  echo "$undef" >&2
  exit 1
fi
echo "freestanding image $img (no undefined symbols):"
size "$img"
echo "per source file (text data bss of each object of the freestanding core):"
objdir="$build/handlers/CMakeFiles/hv_free.dir/src"
size --format=berkeley "$objdir"/*.o | awk 'NR==1 {printf "%8s %8s %8s  %s\n", "text", "data", "bss", "file"; next}
  {n=split($6, p, "/"); printf "%8d %8d %8d  %s\n", $1, $2, $3, p[n]; t+=$1; d+=$2; b+=$3}
  END {printf "%8d %8d %8d  %s\n", t, d, b, "(objects total, before --gc-sections)"}'
