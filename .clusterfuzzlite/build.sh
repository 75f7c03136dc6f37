#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build of the hx fuzz targets. Honours the
# variables the infrastructure sets:
#   CC, CFLAGS          compiler and flags (sanitizer + coverage instrumentation)
#   LIB_FUZZING_ENGINE  what to link for the engine (-fsanitize=fuzzer, or an
#                       AFL++ / other driver library)
#   OUT                 where binaries, dictionaries and seed zips go
#   SRC                 the checkout lives in $SRC/hx (default: this repo)
#   FUZZING_ENGINE      libfuzzer enables the structure-aware mutator of
#                       fuzz_exits (it calls LLVMFuzzerMutate)
# Libraries: cJSON from $SRC/cJSON (compiled here) or the system's -lcjson;
# Zydis static from /usr/local/lib or the system's -lZydis.
# Everything is compiled by hand with $CC $CFLAGS: the project's CMake adds
# its own sanitizer flags, which must not mix with the infrastructure's.
# Output per target: $OUT/fuzz_<t>, $OUT/fuzz_<t>.dict, $OUT/fuzz_<t>_seed_corpus.zip.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -d "${SRC:-}/hx/handlers" ]; then root=$SRC/hx; else root=$(cd "$here/.." && pwd); fi
: "${CC:=clang}"
: "${CFLAGS:=}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:?set OUT to the output directory}"
: "${FUZZING_ENGINE:=}"
work=${WORK:-$(mktemp -d)}
mkdir -p "$work/obj" "$work/include/cjson" "$OUT"

inc=(-I"$root/handlers/include" -I"$root/mocks" -I"$root/harness/common" -I"$root/harness/oracle"
     -I"$root/harness/trace" -I"$root/harness/replay" -I"$root/harness/fuzz"
     -I"$root/harness/boot" -I"$root/harness/equiv/realeq" -I"$root/harness/kvm"
     -I"$root/harness/guest/include" -I"$work/include")
std=(-std=gnu11 -g -O1 -fno-omit-frame-pointer -Wno-unused-parameter)

# Sources: the core, the mocks, the hosted helpers, oracles, trace and
# replay libraries, hx boot's event parser and REAL-EQ records, the image
# loaders; programs (files with main) and KVM-only parts excluded.
srcs=()
for d in handlers/src mocks harness/common harness/oracle harness/trace harness/replay harness/boot harness/equiv/realeq; do
  for f in "$root/$d"/*.c; do
    grep -q -E '^int main\(' "$f" && continue
    case "$f" in */buildeq*) continue ;; esac
    srcs+=("$f")
  done
done
# The image loaders of the KVM runner, which need no KVM (fuzz_image).
srcs+=("$root/harness/kvm/elf_load.c" "$root/harness/kvm/pe_load.c")
libs=()
if [ -f "${SRC:-/nonexistent}/cJSON/cJSON.c" ]; then
  cp "$SRC/cJSON/cJSON.h" "$work/include/cjson/cJSON.h"
  srcs+=("$SRC/cJSON/cJSON.c")
else
  libs+=(-lcjson)
fi
if [ -f /usr/local/lib/libZydis.a ]; then
  libs+=(/usr/local/lib/libZydis.a)
  [ -f /usr/local/lib/libZycore.a ] && libs+=(/usr/local/lib/libZycore.a)
else
  libs+=(-lZydis)
fi

# Compile in parallel, then one static library.
export CC CFLAGS work
printf '%s\n' "${srcs[@]}" | xargs -P "$(nproc)" -I{} sh -c \
  'o="$work/obj/$(echo "{}" | tr / _).o"; $CC $CFLAGS '"${std[*]} ${inc[*]}"' -c "{}" -o "$o"'
rm -f "$work/libhx_fuzz.a"
ar rcs "$work/libhx_fuzz.a" "$work"/obj/*.o

defs=()
if [ "$FUZZING_ENGINE" = libfuzzer ] || [[ "$LIB_FUZZING_ENGINE" == *-fsanitize=fuzzer* ]]; then
  defs+=(-DHX_FUZZ_LIBFUZZER=1)
fi
$CC $CFLAGS "${std[@]}" "${inc[@]}" -c "$root/harness/fuzz/fz.c" -o "$work/fz.o"
$CC $CFLAGS "${std[@]}" "${inc[@]}" -c "$root/harness/fuzz/exit_world.c" -o "$work/exit_world.o"
for src in "$root"/harness/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  t=${name#fuzz_}
  # fuzz_call runs firmware in a KVM sandbox: the infrastructure's runners
  # have no /dev/kvm. It is fuzzed by `make fuzz TARGETS=call`.
  [ "$t" = call ] && continue
  $CC $CFLAGS "${std[@]}" "${inc[@]}" "${defs[@]}" -c "$src" -o "$work/$name.o"
  # Linked by the C++ driver, as OSS-Fuzz asks: engine libraries may be C++.
  ${CXX:-clang++} ${CXXFLAGS:-$CFLAGS} "$work/$name.o" "$work/fz.o" "$work/exit_world.o" "$work/libhx_fuzz.a" \
    $LIB_FUZZING_ENGINE "${libs[@]}" -lm -o "$OUT/$name"
  [ -f "$root/corpus/$t/$t.dict" ] && cp "$root/corpus/$t/$t.dict" "$OUT/$name.dict"
  seeds=("$root/corpus/$t")
  [ "$t" = exits ] && seeds+=("$root/corpus/kvm")
  rm -f "$OUT/${name}_seed_corpus.zip"
  files=()
  for d in "${seeds[@]}" "$root/corpus/regressions"; do
    [ -d "$d" ] || continue
    for f in "$d"/*; do
      [ -f "$f" ] || continue
      case "$f" in *.dict | */README*) continue ;; esac
      # Regressions belong to the target their name starts with.
      if [ "$d" = "$root/corpus/regressions" ]; then
        case "$(basename "$f")" in "$t"-* ) ;; *.hxt) [ "$t" = exits ] || continue ;; *) continue ;; esac
      fi
      files+=("$f")
    done
  done
  if [ ${#files[@]} -gt 0 ]; then
    (cd "$work" && rm -rf seeds && mkdir seeds && cp "${files[@]}" seeds/ &&
      cd seeds && python3 -m zipfile -c "$OUT/${name}_seed_corpus.zip" ./*)
  fi
done
echo "build.sh: $(ls "$OUT"/fuzz_* | grep -v -E '\.(dict|zip)$' | wc -l) fuzz targets in $OUT"
