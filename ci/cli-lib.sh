# Shared by the CLI test scripts (source it after setting $tmp): counters,
# and `run`, the one way a CLI check is judged.
passed=0 failed=0

ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $*"
}

# run NAME WANT_RC FRAGMENT CMD...: the exit code (124 is a hang, after
# CLI_TIMEOUT seconds, default 60), the fragment in the output, and no
# sanitizer report. Standard input is the caller's.
run() {
  local name=$1 want=$2 frag=$3 limit=${CLI_TIMEOUT:-60}
  shift 3
  timeout "$limit" "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ "$rc" -eq 124 ] && [ "$want" -ne 124 ]; then
    bad "$name: hung (killed after $limit s)"
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
