#!/usr/bin/env bash
# The "before" of the fuzz figures: the same measurement as fuzz-rate.sh
# (libFuzzer, ASan+UBSan, SECONDS per target on its seeds) of the targets
# as they were at commit REV, in the same run of `make bench`, so that the
# comparison is made on one machine under one load. REV is checked out in
# a temporary worktree and built there with its own ci/fuzz-build.sh, into
# build-fuzz-before-<rev>/ (kept: a later run measures it again without
# building); each target runs on REV's own seeds. Writes JSON to OUT
# (atomically), {"available": false, "reason": ...} when REV cannot be
# measured (not in this clone, no build script, build failed).
#
#   harness/bench/fuzz-before.sh REV OUT.json [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: fuzz-before.sh REV OUT.json [SECONDS]" >&2
  exit 2
fi
rev=$1
out=$2
secs=${3:-5}
root=$PWD

json_text() { # quotes, backslashes and newlines replaced, as in ci/bench.sh
  printf '%s' "$1" | tr '"\\\n' "'/ "
}
unavailable() { # reason
  printf '{"available": false, "rev": "%s", "reason": "%s", "targets": []}\n' "$(json_text "$rev")" \
    "$(json_text "$1")" >"$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
  echo "fuzz-before: $1" >&2
  exit 0
}

[[ "$rev" =~ ^[0-9A-Za-z._/-]+$ ]] || unavailable "not a commit name"
full=$(git rev-parse --verify -q "$rev^{commit}") || unavailable "commit $rev is not in this clone"
short=${full:0:12}
git cat-file -e "$full:ci/fuzz-build.sh" 2>/dev/null || unavailable "commit $short has no ci/fuzz-build.sh"

fbuild=$root/build-fuzz-before-$short
wt=$(mktemp -d)
cleanup() {
  git worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"
  git worktree prune >/dev/null 2>&1 || true
}
trap cleanup EXIT
git worktree add --detach -f "$wt" "$full" >/dev/null 2>&1 || unavailable "cannot check out $short"

if ! ls "$fbuild"/fuzz/fuzz_* >/dev/null 2>&1; then
  mkdir -p "$fbuild"
  echo "fuzz-before: building the libFuzzer targets of $short in $fbuild (log: $fbuild/fuzz-build.log)" >&2
  if ! (cd "$wt" && bash ci/fuzz-build.sh libfuzzer "$fbuild") >"$fbuild/fuzz-build.log" 2>&1; then
    rm -rf "$fbuild/fuzz"
    unavailable "the libFuzzer build of $short failed (see $fbuild/fuzz-build.log)"
  fi
fi

FUZZ_RATE_NOBUILD=1 FUZZ_RATE_SEEDS="$wt/corpus" \
  bash harness/bench/fuzz-rate.sh "$fbuild" "$out.rate.$$" "$secs" || unavailable "fuzz-rate.sh failed"
python3 - "$out.rate.$$" "$out.tmp.$$" "$short" <<'EOF' || unavailable "bad fuzz-rate output"
import json, sys
doc = json.load(open(sys.argv[1]))
doc["rev"] = sys.argv[3]
json.dump(doc, open(sys.argv[2], "w"))
EOF
rm -f "$out.rate.$$"
mv -f "$out.tmp.$$" "$out"
