#!/usr/bin/env bash
# clang-format check (or fix) of C sources and headers against .clang-format.
#
#   ci/format.sh [--diff] [PATH...]   list the files that differ (--diff: and how)
#   ci/format.sh --fix [PATH...]      rewrite them in place
#
# Files: every *.c and *.h git tracks or would add (untracked, not ignored),
# under the PATHs (files or directories) when given, else in the whole tree;
# nothing else is left out. Without PATHs, --fix rewrites every such file.
# The result depends on the clang-format version, which is printed.
# Exit: 0 every file matches (or was fixed), 1 some differ, 2 bad usage or
# clang-format unusable.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  echo "usage: ci/format.sh [--fix | --diff] [PATH...]" >&2
  exit 2
}
fix=0 show_diff=0 paths=()
for arg in "$@"; do
  case $arg in
    --fix) fix=1 ;;
    --diff) show_diff=1 ;;
    -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "ci/format.sh: unknown option '$arg'" >&2; usage ;;
    *)
      if [ ! -e "$arg" ]; then echo "ci/format.sh: no such file or directory: $arg" >&2; exit 2; fi
      rel=$(realpath --relative-to="$root" "$arg")
      case $rel in
        .. | ../*) echo "ci/format.sh: $arg is outside the repository ($root)" >&2; exit 2 ;;
      esac
      paths+=("$rel") ;;
  esac
done
[ "$fix" -eq 1 ] && [ "$show_diff" -eq 1 ] && { echo "ci/format.sh: --fix and --diff exclude each other" >&2; usage; }

cd "$root"
if ! command -v clang-format >/dev/null; then
  echo "ci/format.sh: clang-format not found (ci/deps.sh installs it)" >&2
  exit 2
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "ci/format.sh: $root is not a git checkout (the file list comes from git)" >&2
  exit 2
fi
if ! err=$(clang-format --style=file --dump-config ci/format.sh 2>&1 >/dev/null); then
  echo "ci/format.sh: clang-format cannot use .clang-format: $err" >&2
  exit 2
fi
version=$(clang-format --version | sed 's/.*version \([^ ]*\).*/\1/')

# Tracked files deleted in the work tree have nothing left to check.
files=()
while IFS= read -r -d '' f; do
  case $f in *.c | *.h) [ -f "$f" ] && files+=("$f") ;; esac
done < <(git ls-files -z --cached --others --exclude-standard -- "${paths[@]}" | sort -zu)
if [ ${#files[@]} -eq 0 ]; then
  echo "ci/format.sh: no C sources or headers under ${paths[*]:-the tree}" >&2
  exit 2
fi

if [ "$fix" -eq 1 ]; then
  clang-format -i --style=file "${files[@]}" || { echo "ci/format.sh: clang-format -i failed" >&2; exit 2; }
  echo "format: ${#files[@]} files formatted (clang-format $version)"
  exit 0
fi

# One run over every file: each difference is a -Wclang-format-violations
# diagnostic naming its file; a failure without one is clang-format's own.
out=$(clang-format --dry-run --Werror --style=file "${files[@]}" 2>&1)
rc=$?
mapfile -t bad < <(printf '%s\n' "$out" |
  sed -n 's/^\(.*\):[0-9]*:[0-9]*: \(error\|warning\): code should be clang-formatted.*/\1/p' | sort -u)
if [ "$rc" -ne 0 ] && [ ${#bad[@]} -eq 0 ]; then
  echo "ci/format.sh: clang-format failed:" >&2
  printf '%s\n' "$out" | head -20 >&2
  exit 2
fi
for f in "${bad[@]}"; do
  echo "format: $f differs from .clang-format (fix: clang-format -i $f)"
  if [ "$show_diff" -eq 1 ]; then
    clang-format --style=file "$f" | diff -u --label "$f" --label "$f (clang-format)" "$f" -
  fi
done
if [ ${#bad[@]} -ne 0 ]; then
  echo "format: ${#bad[@]} of ${#files[@]} files differ (clang-format $version)"
  exit 1
fi
echo "format: ${#files[@]} files clean (clang-format $version)"
