# shellcheck shell=bash disable=SC2154 # $suite and $only are the caller's
# Shared by the guest suites ci/kvm-tests.sh and ci/boot-tests.sh (source it
# after setting $suite, the prefix of every line, and $only, the names asked
# for): the selection, the failure report, the escaping check of the hostile
# guest's log and the closing summary.
passed=0 failed=0 failures=()

# True when test $1 runs: no names given, or $1 among them.
selected() {
  [ ${#only[@]} -eq 0 ] && return 0
  local n
  for n in "${only[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}

# fail NAME WHY LOG: count the failure and show the end of its log.
fail() {
  failed=$((failed + 1))
  failures+=("$1")
  echo "$suite: FAIL $1: $2"
  sed 's/^/    /' "$3" | tail -n 25
}

# hostile_escaped NAME LOG: the hostile guest's escapes and forged lines must
# reach the log escaped: no raw ESC or CR byte, no line that starts with its
# forged text.
hostile_escaped() {
  if grep -q $'[\x1b\r]' "$2" || grep -qE '^(ok: forged|PASS: forged)' "$2"; then
    fail "$1" "guest bytes printed raw" "$2"
  else
    passed=$((passed + 1))
  fi
}

# The last lines, and the exit status: 0 when nothing failed.
summary() {
  [ "$failed" -ne 0 ] && echo "$suite: failed: ${failures[*]}"
  echo "$suite: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
