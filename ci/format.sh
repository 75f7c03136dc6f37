#!/usr/bin/env bash
# Checks (or with --fix, applies) clang-format on every C source and header.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h')
if [ "${1:-}" = --fix ]; then clang-format -i "${files[@]}"; exit 0; fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then echo "format: $f differs from .clang-format (run: bash ci/format.sh --fix)"; bad=1; fi
done
[ "$bad" -eq 0 ] && echo "format: ${#files[@]} files clean"
[ "$bad" -eq 0 ]
