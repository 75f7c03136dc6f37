# shellcheck shell=bash
# How hx runs afl-fuzz, sourced by ci/fuzz.sh (make fuzz ENGINE=afl) and
# harness/bench/fuzz-rate.sh (make bench), so that the bench measures what
# make fuzz runs:
#   - the AFL_* settings every run takes (exported), and AFL_ASAN_OPTIONS,
#     the ASAN_OPTIONS of the targets under afl-fuzz;
#   - afl_seed_dir IN DIR...: IN made afresh from the seed files of each DIR
#     (no dictionaries, none over 1 MiB, which the drivers refuse), with one
#     small seed when none are left, since afl-fuzz needs one;
#   - afl_pin N: the command prefix that pins afl-fuzz instance N (1 = the
#     main one) to one of the CPUs this process may use (its affinity mask,
#     which a cgroup or taskset may have narrowed below nproc's count),
#     instance N on the N-th, wrapping. The target, afl-fuzz's child,
#     inherits the pin, so the two sides of the fork server's pipe
#     handshake, one round per input even in persistent mode, share a core.
#     Left to float on two cores every input costs a cross-core wake-up
#     each way, and in a virtual machine that is as much as a handler
#     target's own work (on this machine class an empty target ran 14,000
#     execs/s floating against 77,000 pinned). AFL_NO_AFFINITY leaves the
#     choice of CPU to afl_pin rather than to afl-fuzz's search for a free
#     one. Prints nothing without taskset (util-linux, ci/deps.sh).
#   - afl_seed_crashes BIN IN CRASHES: each input in IN that crashes BIN
#     (run on its own, as the AFL++ driver runs a file argument) moved to
#     CRASHES/seed:NAME. afl-fuzz skips a crashing seed without saving it
#     as a crash, so a bug that a seed already reaches would go unreported
#     (libFuzzer reports it while loading its corpus). A few runs of a
#     thousand inputs each first; one by one only when one of them fails.
#   - afl_mutator BIN: sets the array afl_mutator_env to the environment
#     that loads BIN's structure-aware custom mutator into afl-fuzz
#     (AFL_CUSTOM_MUTATOR_LIBRARY=BIN.mutator.so, built beside the exit
#     target by the AFL++ build), or to nothing when BIN has none.

export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
  AFL_QUIET=1
AFL_ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0

afl_seed_dir() { # IN DIR...
  local in=$1 d
  shift
  rm -rf "$in" && mkdir -p "$in"
  for d in "$@"; do
    find "$d" -maxdepth 1 -type f ! -name '*.dict' -size -1024k -exec cp {} "$in/" \;
  done
  [ -n "$(ls -A "$in")" ] || printf 'seed' >"$in/empty"
}

if command -v python3 >/dev/null &&
  mapfile -t afl_cpus < <(python3 -c 'import os; print("\n".join(str(c) for c in sorted(os.sched_getaffinity(0))))' 2>/dev/null) &&
  [ ${#afl_cpus[@]} -gt 0 ]; then
  :
else
  mapfile -t afl_cpus < <(seq 0 $(($(nproc) - 1)))
fi

afl_pin() { # instance number
  command -v taskset >/dev/null || return 0
  echo taskset -c "${afl_cpus[$((($1 - 1) % ${#afl_cpus[@]}))]}"
}

afl_seed_crashes() { # binary in-dir crashes-dir
  local bin=$1 in=$2 crashes=$3 f
  local files=("$in"/*)
  [ -e "${files[0]}" ] || return 0
  # In batches that fit a command line (a grown corpus holds thousands);
  # in subshells, since the shell's own "Aborted" notice is noise here.
  (printf '%s\0' "${files[@]}" |
    ASAN_OPTIONS=$AFL_ASAN_OPTIONS xargs -0 -n 1000 timeout 300 "$bin" >/dev/null 2>&1
    exit $?) 2>/dev/null && return 0
  mkdir -p "$crashes"
  for f in "${files[@]}"; do
    (ASAN_OPTIONS=$AFL_ASAN_OPTIONS timeout 60 "$bin" "$f" >/dev/null 2>&1; exit $?) 2>/dev/null && continue
    mv -f "$f" "$crashes/seed:$(basename "$f")"
  done
  [ -n "$(ls -A "$in")" ] || printf 'seed' >"$in/empty"
}

afl_mutator() { # target binary
  afl_mutator_env=()
  [ -f "$1.mutator.so" ] && afl_mutator_env=(AFL_CUSTOM_MUTATOR_LIBRARY="$(realpath "$1.mutator.so")")
  return 0
}
