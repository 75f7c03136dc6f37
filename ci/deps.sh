#!/usr/bin/env bash
# Installs every Debian package hx needs to build, test, fuzz and benchmark.
# Idempotent: packages already present are left alone.
set -euo pipefail

# llvm: llvm-symbolizer (crash reports), llvm-profdata and llvm-cov
# (make fuzz-coverage), unversioned names for clang's own version.
# qemu-system-x86: TCG emulates AMD SVM with nested paging, the platform
# the bootable hypervisor image (hx boot) runs on in make test.
# gnu-efi: crt0 and linker script of the PE32+ runtime-driver image that
# hx call starts as UEFI starts a driver (harness/guest/CMakeLists.txt).
# ovmf: a real EDK2 build whose runtime drivers ci/call-tests.sh runs.
# util-linux: taskset, which pins each afl-fuzz with its target to one CPU
# (ci/afl-run.sh).
packages=(
  build-essential cmake make pkg-config
  clang llvm lld libclang-rt-dev
  libcmocka-dev libcjson-dev libzydis-dev
  lcov gnuplot-nox valgrind xz-utils binutils
  afl++ python3 clang-format util-linux
  qemu-system-x86 gnu-efi ovmf
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "ci/deps.sh: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/deps.sh: missing packages: ${missing[*]}" >&2
  echo "ci/deps.sh: run as root (or: sudo bash ci/deps.sh) to install them" >&2
  exit 1
fi

echo "ci/deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
