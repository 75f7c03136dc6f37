#!/usr/bin/env bash
# CLI tests of `hx config check` and `hx ept dump`, with the normal build (hx)
# and the sanitized one (hx_asan):
#   - every corpus/configs/*.json is accepted (exit 0) and its EPT dump
#     passes hv_ept_verify;
#   - every corpus/configs/bad/*.json is rejected with exit 2 and the
#     message fragment listed below (file, JSON path, reason), never a crash
#     or a sanitizer report; a bad file without an expected fragment fails;
#   - usage errors and unreadable files exit 2 with a message.
# Usage: ci/cli-tests.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: ci/cli-tests.sh BUILD_DIR}
cd "$(dirname "$0")/.."
build=$(cd "$build" && pwd)

# Expected message fragment per bad config (without .json).
declare -A expect=(
  [bad-enum]='partitions[0].regions[0].type: unknown value "rom"; expected one of "ram", "mmio"'
  [bad-number]='partitions[0].regions[0].size: "16Q": not a number'
  [bad-perm]='partitions[0].regions[0].perm: invalid permission "rwz"'
  [beyond-host]='partitions[0].regions[0].hpa: partition 0 "p0" region 0 (ram gpa 0x0-0xffffff -> hpa 0xfa00000-0x109fffff, rwx wb): region HPA range goes beyond host memory'
  [channel-in-hypervisor]='channels[0].hpa: channel 0 "link" (hpa 0xf00000-0xf0ffff): channel touches hypervisor memory'
  [channel-one-member]='channels[0]: channel 0 "link" (hpa 0x8000000-0x800ffff): channel has fewer than two members'
  [channel-overlap]='channels[1].hpa: channel 1 "other" (hpa 0x8008000-0x8017fff): channel HPA range overlaps another channel; conflicts with channel 0 "link"'
  [cpuid-mask-too-wide]='partitions[0].cpuid.rules[0].and.ecx: value 0x100000000 is too large (at most 0xffffffff)'
  [io-unknown-device]='partitions[0].io[0].device: unknown value "pic"; expected one of "rtc", "uart"'
  [io-overlap]='partitions[0].io[1].base: partition 0 "p0" port-I/O device 1 (rtc ports 0x3fe-0x3ff): port-I/O device shares a port with another device of the partition; conflicts with partition 0 "p0" port-I/O device 0 (uart ports 0x3f8-0x3ff)'
  [io-beyond-ffff]='partitions[0].io[0].base: partition 0 "p0" port-I/O device 0 (uart ports 0xfffc-0x10003): port-I/O device goes beyond port 0xffff'
  [io-port-too-big]='partitions[0].io[0].base: port 0x10000 is beyond 0xffff'
  [io-rtc-after-9999]='partitions[0].io[0].time: partition 0 "p0" port-I/O device 0 (rtc ports 0x70-0x71): port-I/O device start value is not allowed (an RTC time after 9999-12-31 23:59:59 UTC'
  [io-uart-time]='partitions[0].io[0].time: partition 0 "p0" port-I/O device 0 (uart ports 0x3f8-0x3ff): port-I/O device start value is not allowed'
  [io-unknown-key]='partitions[0].io[0]: unknown key "irq"'
  [device-overlap]='partitions[0].devices[0]: partition 0 "p0" device 0 (console gpa 0x100000-0x100fff): device GPA range overlaps another range of the partition; conflicts with partition 0 "p0" region 0'
  [duplicate-key]='partitions[0].regions[0]: key "gpa" appears twice'
  [duplicate-msr]='partitions[0].msrs[1].msr: partition 0 "p0" MSR rule 1 (MSR 0xc0000103, deny): MSR has two rules'
  [duplicate-name]='partitions[1].name: partition 1 "p0": name is used twice; conflicts with partition 0 "p0"'
  [empty-name]='partitions[0].name: partition 0 "": name is empty'
  [empty]='empty.json: empty file, expected a JSON object'
  [fraction]='partitions[0].regions[0].size: not an integer'
  [gpa-beyond-48bit]='partitions[0].regions[0].gpa: partition 0 "p0" region 0 (ram gpa 0x1000000000000-0x1000000ffffff'
  [host-memory-unaligned]='host_memory: host memory size is zero, not 4 KiB aligned'
  [huge-size]='partitions[0].regions[0].size: partition 0 "p0" region 0 (ram gpa 0x0-0x1ffffffffff -> hpa 0x2000000-0x20001ffffff, rwx wb): region size is zero or above the 1 TiB limit'
  [hypervisor-outside]='hypervisor: hypervisor range is empty, not 4 KiB aligned or outside host memory (hypervisor 0x12c00000-0x13bfffff, host memory 0x0-0xfffffff)'
  [hypervisor-overlap]='partitions[0].regions[0].hpa: partition 0 "p0" region 0 (ram gpa 0x0-0xffffff -> hpa 0x800000-0x17fffff, rwx wb): region touches hypervisor memory (hypervisor 0x0-0xffffff)'
  [init-not-emulated]='partitions[0].msrs[0].init: only allowed with mode "emulated"'
  [json-number-too-large]='partitions[0].regions[0].gpa: integer too large for an exact JSON number'
  [long-name]='partitions[0].name: "a-partition-name-that-is-far-too-long..." is longer than 31 bytes'
  [malformed]='malformed.json:5:50: malformed JSON near'
  [member-duplicate]='partitions[0].channels[1].name: partition 0 "p0" channel membership 1 ("link" at gpa 0x90000000-0x9000ffff, r--): partition is a member of the same channel twice'
  [member-overlap]='partitions[1].channels[0].gpa: partition 1 "p1" channel membership 0 ("link" at gpa 0x8000-0x17fff, r--): membership GPA range overlaps another range of the partition; conflicts with partition 1 "p1" region 0'
  [member-rwx]='partitions[1].channels[0].perm: partition 1 "p1" channel membership 0 ("link" at gpa 0x80000000-0x8000ffff, rwx): membership permission is neither R nor RW'
  [misaligned]='partitions[0].regions[0]: partition 0 "p0" region 0 (ram gpa 0x1800-0x10017ff'
  [missing-key]='partitions[0].regions[0]: missing required key "size"'
  [mmio-cached]='partitions[0].regions[1].memtype: partition 0 "p0" region 1 (mmio gpa 0xfe000000-0xfe000fff -> hpa 0xc000000-0xc000fff, rw- wb): invalid memory type (MMIO must be UC)'
  [negative]='partitions[0].regions[0].gpa: negative value'
  [no-partitions]='no-partitions.json: partitions: no partitions'
  [not-an-object]='not-an-object.json: expected an object, got an array'
  [overflow]='partitions[0].regions[0].hpa: "0x10000000000000000": value overflows 64 bits'
  [overlap-gpa]='partitions[0].regions[1].gpa: partition 0 "p0" region 1 (ram gpa 0x800000-0x800fff -> hpa 0x6000000-0x6000fff, rwx wb): region GPA range overlaps another range of the partition; conflicts with partition 0 "p0" region 0'
  [overlap-hpa]='partitions[1].regions[0].hpa: partition 1 "p1" region 0 (ram gpa 0x0-0xffffff -> hpa 0x2800000-0x37fffff, rwx wb): region HPA range overlaps host memory owned by someone else; conflicts with partition 0 "p0" region 0'
  [protected-msr]='partitions[0].msrs[0].mode: partition 0 "p0" MSR rule 0 (MSR 0x3a, pass-rw): MSR is not on the passthrough allow-list (MSR 0x3a: IA32_FEATURE_CONTROL holds the host'"'"'s VMX/SMX/SGX enables and lock)'
  [pass-tsc-adjust]='partitions[0].msrs[0].mode: partition 0 "p0" MSR rule 0 (MSR 0x3b, pass-rw): MSR is not on the passthrough allow-list (MSR 0x3b: IA32_TSC_ADJUST moves the TSC the hypervisor and every partition share)'
  [pass-ds-area]='(MSR 0x600, pass-rw): MSR is not on the passthrough allow-list (MSR 0x600: IA32_DS_AREA: BTS/PEBS records go to an address the partition picks)'
  [pass-rtit-output-base]='(MSR 0x560, pass-rw): MSR is not on the passthrough allow-list (MSR 0x560: Intel PT writes trace data to a host physical address the partition picks)'
  [pass-rtit-ctl]='(MSR 0x570, pass-rw): MSR is not on the passthrough allow-list (MSR 0x570: IA32_RTIT_CTL/STATUS: Intel PT writes trace data to host memory)'
  [pass-s-cet]='(MSR 0x6a2, pass-rw): MSR is not on the passthrough allow-list (MSR 0x6a2: CET MSRs hold the host'"'"'s shadow-stack pointers and CET enables)'
  [pass-mmio-cfg-base]='(MSR 0xc0010058, pass-rw): MSR is not on the passthrough allow-list (MSR 0xc0010058: AMD MMIO_CFG_BASE relocates the host'"'"'s PCIe configuration window)'
  [pass-rw-tsc]='partitions[0].msrs[0].mode: partition 0 "p0" MSR rule 0 (MSR 0x10, pass-rw): MSR may be passed through for reading only (pass-r) (MSR 0x10)'
  [init-efer-svme]='partitions[0].msrs[0].init: partition 0 "p0" MSR rule 0 (MSR 0xc0000080, emulated): emulated MSR init value is one a WRMSR of it would refuse with #GP (MSR 0xc0000080, init 0x1500;'
  [init-pat-reserved]='partitions[0].msrs[0].init: partition 0 "p0" MSR rule 0 (MSR 0x277, emulated): emulated MSR init value is one a WRMSR of it would refuse with #GP (MSR 0x277, init 0x7040600070402;'
  [init-fs-base-noncanonical]='partitions[0].msrs[0].init: partition 0 "p0" MSR rule 0 (MSR 0xc0000100, emulated): emulated MSR init value is one a WRMSR of it would refuse with #GP (MSR 0xc0000100, init 0x800000000000;'
  [init-tsc-aux-high]='partitions[0].msrs[0].init: partition 0 "p0" MSR rule 0 (MSR 0xc0000103, emulated): emulated MSR init value is one a WRMSR of it would refuse with #GP (MSR 0xc0000103, init 0x100000000;'
  [execute-only]='partitions[0].regions[0].perm: partition 0 "p0" region 0 (ram gpa 0x0-0xffffff -> hpa 0x2000000-0x2ffffff, --x wb): region permissions are empty, lack read (write-only and execute-only pages are refused), or have unknown bits'
  [shared-mmio]='partitions[1].regions[1].hpa: partition 1 "p1" region 1 (mmio gpa 0xfe000000-0xfe000fff -> hpa 0xc000000-0xc000fff, rw- uc): region HPA range overlaps host memory owned by someone else; conflicts with partition 0 "p0" region 1 (mmio'
  [suffix-overflow]='partitions[0].regions[0].size: "16777216T": value overflows 64 bits'
  [too-many-channels]='channels: 17 entries, at most 16 allowed'
  [too-many-regions]='partitions[0].regions: 65 entries, at most 64 allowed'
  [too-many-vcpus]='partitions[0].vcpus: partition 0 "p0": vCPU count is 0 or above the limit (9, allowed 1..8)'
  [trailing-garbage]='trailing-garbage.json:27:1: unexpected text after the JSON value'
  [truncated]='truncated.json:5:20: malformed JSON at end of input'
  [unknown-channel]='partitions[1].channels[0].name: unknown channel "lnik" (defined channels: "link")'
  [unknown-hypercall]='partitions[0].hypercalls[1]: unknown value "reboot"'
  [unknown-key-top]='unknown-key-top.json: unknown key "host_mem" (did you mean "host_memory"?)'
  [unknown-key]='partitions[0]: unknown key "regoins" (did you mean "regions"?)'
  [unknown-msr]='partitions[0].msrs[0].msr: unknown MSR name "TSC_AUXX"; did you mean "TSC_AUX"?'
  [wrap-gpa]='partitions[0].regions[0].gpa: partition 0 "p0" region 0 (ram gpa 0xfffffffffff00000+0x200000 (wraps)'
  [wrap-hpa]='partitions[0].regions[0].hpa: partition 0 "p0" region 0 (ram gpa 0x0-0xfffff -> hpa 0xffffffffffff0000+0x100000 (wraps), rwx wb): region HPA range wraps around'
  [write-only]='partitions[0].regions[0].perm: partition 0 "p0" region 0 (ram gpa 0x0-0xffffff -> hpa 0x2000000-0x2ffffff, -w- wb): region permissions are empty, lack read (write-only and execute-only pages are refused)'
  [wrong-type]='partitions[0].vcpus: expected an integer or a number string such as "0x1000" or "4K", got a boolean'
  [nul-in-name]='partitions[0].name: string contains a NUL character (\u0000) (line 9, column 21)'
  [nul-in-size]='partitions[0].regions[0].size: string contains a NUL character (\u0000) (line 15, column 23)'
  [nul-in-perm]='partitions[0].regions[0].perm: string contains a NUL character (\u0000) (line 16, column 21)'
  [vendor-unknown]='vendor: unknown value "arm"; expected one of "intel", "amd"'
  [vendor-uppercase]='vendor: unknown value "AMD"; expected one of "intel", "amd"'
  [vendor-not-string]='vendor: expected one of "intel", "amd", got a number'
  [vendor-nul]='vendor: string contains a NUL character (\u0000) (line 2, column 17)'
  [nul-in-enum]='partitions[0].regions[0].type: string contains a NUL character (\u0000) (line 12, column 23)'
  [nul-in-key]='partitions[0]: key starting "vcpus": string contains a NUL character (\u0000) (line 10, column 13)'
  [nul-in-comment]='partitions[0].comment: string contains a NUL character (\u0000) (line 10, column 23)'
  [nul-in-channel-name]='channels[0].name: string contains a NUL character (\u0000) (line 53, column 20)'
  [nul-in-member-name]='partitions[1].channels[0].name: string contains a NUL character (\u0000) (line 44, column 24)'
  [raw-tab-in-string]='partitions[0].name: string contains a raw control character 0x09 (tab); JSON requires it escaped (RFC 8259, section 7) (line 9, column 17)'
  [raw-newline-in-string]='partitions[0].name: string contains a raw control character 0x0a (newline); JSON requires it escaped (RFC 8259, section 7) (line 9, column 18)'
  [raw-cr-in-key]='partitions[0]: key starting "comment": string contains a raw control character 0x0d (carriage return); JSON requires it escaped (RFC 8259, section 7) (line 10, column 15)'
  [name-ansi-escape]='partitions[0].name: name "\x1b[2J" contains a control character (0x1b); names must be printable ASCII (0x20..0x7e)'
  [name-forged-line]='partitions[0].name: name "p0\x0aok: 1 partition" contains a control character (0x0a); names must be printable ASCII (0x20..0x7e)'
  [name-del]='partitions[0].name: name "p\x7f" contains DEL (0x7f); names must be printable ASCII (0x20..0x7e)'
  [name-non-ascii]='partitions[0].name: name "caf\xc3\xa9" contains a non-ASCII byte (0xc3); names must be printable ASCII (0x20..0x7e)'
  [channel-name-escape]='channels[0].name: name "li\x1bnk" contains a control character (0x1b); names must be printable ASCII (0x20..0x7e)'
  [member-name-escape]='partitions[1].channels[0].name: name "link\x0d" contains a control character (0x0d); names must be printable ASCII (0x20..0x7e)'
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Keep coverage counters of the sanitized build out of the build tree, so
# these runs do not change what the coverage gate measures.
export GCOV_PREFIX=$tmp/gcov GCOV_PREFIX_STRIP=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
# shellcheck source=ci/cli-lib.sh
. ci/cli-lib.sh

bins=()
for b in hx hx_asan; do
  if [ -x "$build/$b" ]; then bins+=("$build/$b"); else bad "$build/$b is missing (build targets hx and hx_asan)"; fi
done

shopt -s nullglob
good=(corpus/configs/*.json)
badcfg=(corpus/configs/bad/*.json)
[ ${#good[@]} -ge 3 ] || bad "expected at least 3 sample configs in corpus/configs, found ${#good[@]}"
[ ${#badcfg[@]} -ge 1 ] || bad "no bad configs in corpus/configs/bad"

for bin in "${bins[@]}"; do
  tag=$(basename "$bin")
  for f in "${good[@]}"; do
    run "$tag config check $f" 0 "ok: " "$bin" config check "$f"
    run "$tag ept dump $f" 0 "verify (EPT-OWN, EPT-FORM, EPT-EXACT): ok" "$bin" ept dump "$f"
  done
  for f in "${badcfg[@]}"; do
    name=$(basename "$f" .json)
    frag=${expect[$name]-}
    if [ -z "$frag" ]; then
      bad "$f: no expected message in ci/cli-tests.sh"
      continue
    fi
    run "$tag config check $f" 2 "$frag" "$bin" config check "$f"
    run "$tag ept dump $f" 2 "$frag" "$bin" ept dump "$f"
  done
  run "$tag config check (no args)" 2 "usage: hx config check" "$bin" config check
  run "$tag config check (two args)" 2 "usage: hx config check" "$bin" config check a.json b.json
  run "$tag ept dump (no args)" 2 "usage: hx ept dump" "$bin" ept dump
  run "$tag config check missing file" 2 "$tmp/none.json: cannot open: No such file or directory" \
    "$bin" config check "$tmp/none.json"
  run "$tag config check directory" 2 "corpus/configs: is a directory, not a regular file" "$bin" config check corpus/configs
  head -c 20000000 /dev/zero >"$tmp/big.json"
  run "$tag config check oversized file" 2 "file is larger than" "$bin" config check "$tmp/big.json"
  sed 's/"size": "16M" }/"size": "8K" }/' corpus/configs/one.json >"$tmp/tiny-hv.json"
  run "$tag ept dump with a 1-page pool" 2 'building the EPT of partition 0 "solo" failed: page pool exhausted' \
    "$bin" ept dump "$tmp/tiny-hv.json"
  # An AMD config: nested page tables, tagged roots, the host-PAT contract;
  # an Intel one says EPT. Both verified by the format-aware verifier.
  amd=corpus/configs/amd-two-channel.json
  run "$tag config check $amd names the vendor" 0 "vCPUs, vendor amd: $amd" "$bin" config check "$amd"
  run "$tag ept dump $amd is NPT" 0 "vendor amd: nested page tables (APM Vol. 2, 15.25); memory types through host PAT 0x0000000500010406" \
    "$bin" ept dump "$amd"
  run "$tag ept dump $amd prints NPT roots" 0 'partition 1 "beta": 1 vCPU, NPT root 0x' "$bin" ept dump "$amd"
  run "$tag ept dump of an Intel config is EPT" 0 'partition 0 "alpha": 2 vCPUs, EPT root 0x' \
    "$bin" ept dump corpus/configs/two-channel.json
  # hx boot: arguments refused before QEMU starts.
  run "$tag boot (no args)" 2 "hx boot: missing CONFIG.json" "$bin" boot
  run "$tag boot --help" 0 "usage: hx boot CONFIG.json GUEST.elf" "$bin" boot --help
  run "$tag boot intel config" 2 "the bootable image runs AMD SVM only" \
    "$bin" boot corpus/configs/kvm-one.json "$build/harness/guest/cpuid.elf"
  run "$tag boot run-only option" 2 "hx boot: unknown option --single-step" \
    "$bin" boot corpus/configs/kvm-amd-one.json "$build/harness/guest/cpuid.elf" --single-step
  run "$tag run boot-only option" 2 "hx run: unknown option --image" \
    "$bin" run corpus/configs/kvm-one.json "$build/harness/guest/cpuid.elf" --image x
  run "$tag boot --break-npt" 2 "--break-npt other: the only negative control is 'foreign'" \
    "$bin" boot corpus/configs/kvm-amd-two.json "$build/harness/guest/cpuid.elf" --break-npt other
  run "$tag boot --break-npt one partition" 2 "--break-npt foreign needs two partitions" \
    "$bin" boot corpus/configs/kvm-amd-one.json "$build/harness/guest/cpuid.elf" --break-npt foreign
  run "$tag boot --qemu missing" 2 "/nonexistent/qemu not found" \
    "$bin" boot corpus/configs/kvm-amd-one.json "$build/harness/guest/cpuid.elf" --qemu /nonexistent/qemu
  run "$tag boot --image twice" 2 "option --image is given twice" \
    "$bin" boot corpus/configs/kvm-amd-one.json "$build/harness/guest/cpuid.elf" --image a --image b
  run "$tag boot --write-modules onto a file" 2 "--write-modules corpus/configs/kvm-amd-one.json: not a directory" \
    "$bin" boot corpus/configs/kvm-amd-one.json "$build/harness/guest/cpuid.elf" --write-modules corpus/configs/kvm-amd-one.json
  printf '{"host_memory": "256M", "partitions": [\x00]}' >"$tmp/nul.json"
  run "$tag config check NUL byte" 2 "nul.json:1:40: control character 0x00 in JSON" "$bin" config check "$tmp/nul.json"
done

for name in "${!expect[@]}"; do
  [ -f "corpus/configs/bad/$name.json" ] || bad "expected message for missing corpus/configs/bad/$name.json"
done

echo "cli: $passed passed, $failed failed"
# FIFOs, devices, sockets, empty files and stdin as inputs of every command.
bash ci/cli-inputs.sh "$build" || failed=$((failed + 1))
[ "$failed" -eq 0 ]
