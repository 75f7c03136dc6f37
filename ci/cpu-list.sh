#!/usr/bin/env bash
# The CPUs this process may run on, one per line (its affinity mask, which
# a cgroup or taskset may have narrowed below nproc's count of cores).
# ci/fuzz.sh and harness/bench/fuzz-rate.sh pin each afl-fuzz instance to one
# of them: the target (afl-fuzz's child) inherits the pin, so the two sides
# of the fork server's pipe handshake, one round per input even in
# persistent mode, run on one core. Left to float on two cores every
# input costs a cross-core wake-up each way, and in a virtual machine that
# is most of an input's time (on this machine class an empty target ran
# 14,000 execs/s floating against 77,000 pinned).
set -uo pipefail
if command -v python3 >/dev/null &&
  python3 -c 'import os; print("\n".join(str(c) for c in sorted(os.sched_getaffinity(0))))' 2>/dev/null; then
  exit 0
fi
seq 0 $(($(nproc) - 1))
