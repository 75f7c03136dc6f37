#!/usr/bin/env bash
# `make demo`: what hx does with partition configs. Validates and dumps the
# EPT of every sample config in corpus/configs/, then shows a few broken
# configs being rejected with their precise reason (those must exit 2).
# Fails if a sample config is rejected or a broken one is accepted.
# Usage: ci/demo.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: ci/demo.sh BUILD_DIR}
cd "$(dirname "$0")/.."
hx=$build/hx
if [ ! -x "$hx" ]; then
  echo "ci/demo.sh: $hx not built (make build)" >&2
  exit 1
fi

failed=0
shopt -s nullglob
for f in corpus/configs/*.json; do
  echo "==== $hx config check $f"
  "$hx" config check "$f" || failed=1
  echo
  echo "==== $hx ept dump $f"
  "$hx" ept dump "$f" || failed=1
  echo
done

echo "==== broken configs are rejected with the file, the JSON path and the reason (exit 2)"
for name in overlap-hpa wrap-gpa hypervisor-overlap unknown-key malformed; do
  f=corpus/configs/bad/$name.json
  [ -f "$f" ] || continue
  echo "\$ hx config check $f"
  "$hx" config check "$f"
  rc=$?
  echo "  (exit $rc)"
  [ "$rc" -eq 2 ] || failed=1
done

echo
if [ "$failed" -ne 0 ]; then
  echo "demo: FAILED"
  exit 1
fi
echo "demo: ok"
