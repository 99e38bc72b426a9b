#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer + AddressSanitizer and runs one of them:
#
#   Tests/Fuzz/run.sh TARGET SECONDS [libFuzzer options...]     e.g. Tests/Fuzz/run.sh packed 600
#   Tests/Fuzz/run.sh build                                      build every target, run none
#
# Targets: safetensors shard-index config tokenizer-json tokenizer-encode packed server-request (Tests/Fuzz/Targets).
# server-request links the server's request decoder (Sources/LLaDAServer, the files without Hummingbird)
# as its own module beside the engine.
# The tokenizer's module (Sources/LLaDATokenizer), then the engine's sources with Tests/Fuzz/FuzzEntry.swift, are compiled
# with `swiftc -sanitize=fuzzer,address` into .build/fuzz (rebuilt when a source changes); each target links them with its
# driver. A run starts from the seeds in Tests/Fuzz/corpus/TARGET plus what earlier runs found (.build/fuzz/corpus/TARGET),
# on one core.
# Any crash, sanitizer report, leak, hang (> 10 s per input) or allocation > 512 MB fails the run;
# the input is saved under .build/fuzz/artifacts/TARGET/. The last line says how many inputs ran.
set -euo pipefail
cd "$(dirname "$0")/../.."
targets="safetensors shard-index config tokenizer-json tokenizer-encode packed server-request"
build=.build/fuzz
usage() { echo "usage: Tests/Fuzz/run.sh TARGET SECONDS [libFuzzer options] | build   (targets: $targets)" >&2; exit 2; }
[ $# -ge 1 ] || usage
target=$1
if [ "$target" != build ]; then
    [[ " $targets " == *" $target "* ]] || usage
    [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || usage
    seconds=$2
    shift 2
fi

mkdir -p "$build/kernels" "$build/modules" "$build/bin"
blas_include=$(pkg-config --cflags-only-I openblas | sed 's/^-I//; s/ *$//')
clang_modules=(-Xcc "-fmodule-map-file=Sources/CBLAS/module.modulemap" -Xcc "-fmodule-map-file=Sources/CLZ4/module.modulemap"
               -Xcc "-fmodule-map-file=$build/LLaDAKernels.modulemap" -Xcc -I -Xcc Sources/LLaDAKernels/include -I "$blas_include")
swift_flags=(-swift-version 6 -O -g -parse-as-library -sanitize=fuzzer,address -package-name llada_edge)

tokenizer=$build/LLaDATokenizer.o
if [ ! -f "$tokenizer" ] || [ -n "$(find Sources/LLaDATokenizer -newer "$tokenizer" -type f | head -1)" ]; then
    echo "building the tokenizer for fuzzing (swiftc -sanitize=fuzzer,address)..." >&2
    find Sources/LLaDATokenizer -name '*.swift' -print0 | sort -z | xargs -0 swiftc "${swift_flags[@]}" \
        -module-name LLaDATokenizer -wmo -emit-module -emit-module-path "$build/modules/LLaDATokenizer.swiftmodule" \
        -c -o "$tokenizer.partial" 2> >(grep -v "warning: Cannot export local symbol" >&2)
    mv "$tokenizer.partial" "$tokenizer"
fi

library=$build/LLaDAEngine.o
if [ ! -f "$library" ] || [ "$tokenizer" -nt "$library" ] \
    || [ -n "$(find Sources/LLaDAEngine Sources/LLaDAKernels Tests/Fuzz/FuzzEntry.swift -newer "$library" -type f | head -1)" ]; then
    echo "building the engine for fuzzing (swiftc -sanitize=fuzzer,address)..." >&2
    printf 'module LLaDAKernels {\n    umbrella header "%s/Sources/LLaDAKernels/include/LLaDAKernels.h"\n    export *\n}\n' "$PWD" \
        > "$build/LLaDAKernels.modulemap"
    rm -f "$build"/kernels/*.o
    for source in Sources/LLaDAKernels/*.c; do
        clang -O2 -g -fsanitize=address -fno-omit-frame-pointer -I Sources/LLaDAKernels/include \
            -c "$source" -o "$build/kernels/$(basename "$source" .c).o"
    done
    # The entry points are compiled into the engine's module here only: the library apps link has none.
    { find Sources/LLaDAEngine -name '*.swift' -print0 | sort -z; printf 'Tests/Fuzz/FuzzEntry.swift\0'; } | xargs -0 swiftc "${swift_flags[@]}" "${clang_modules[@]}" \
        -I "$build/modules" -module-name LLaDAEngine -wmo -emit-module -emit-module-path "$build/modules/LLaDAEngine.swiftmodule" \
        -c -o "$library.partial" 2> >(grep -v "warning: Cannot export local symbol" >&2)
    mv "$library.partial" "$library"
fi

requests=$build/LLaDAServerRequests.o
request_sources=(Sources/LLaDAServer/APIError.swift Sources/LLaDAServer/RequestFields.swift
                 Sources/LLaDAServer/CompletionRequest.swift Sources/LLaDAServer/SamplingFields.swift
                 Sources/LLaDAServer/PlanRefusal.swift Sources/LLaDAServer/UnsupportedFields.swift
                 Sources/LLaDAServer/InfillCall.swift Tests/Fuzz/ServerFuzzEntry.swift)
if [ ! -f "$requests" ] || [ "$library" -nt "$requests" ] || [ -n "$(find "${request_sources[@]}" -newer "$requests" | head -1)" ]; then
    swiftc "${swift_flags[@]}" "${clang_modules[@]}" -I "$build/modules" -module-name LLaDAServerRequests -wmo \
        -emit-module -emit-module-path "$build/modules/LLaDAServerRequests.swiftmodule" "${request_sources[@]}" \
        -c -o "$requests.partial" 2> >(grep -v "warning: Cannot export local symbol" >&2)
    mv "$requests.partial" "$requests"
fi

link() {
    local name=$1 binary=$build/bin/$1
    if [ ! -f "$binary" ] || [ "$library" -nt "$binary" ] || [ "$requests" -nt "$binary" ] || [ "Tests/Fuzz/Targets/$name.swift" -nt "$binary" ]; then
        swiftc "${swift_flags[@]}" "${clang_modules[@]}" -I "$build/modules" "Tests/Fuzz/Targets/$name.swift" "$tokenizer" "$library" "$requests" \
            "$build"/kernels/*.o $(pkg-config --libs openblas liblz4) -o "$binary" \
            2> >(grep -v "warning: Cannot export local symbol" >&2)
    fi
}

if [ "$target" = build ]; then
    for name in $targets; do link "$name"; done
    exit 0
fi
link "$target"

mkdir -p "$build/corpus/$target" "$build/artifacts/$target"
log=$build/$target.log
export LLADA_FUZZ_TOKENIZER=Tests/Fixtures/tokenizer
set +e
"$build/bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$target/" "$@" "$build/corpus/$target" "Tests/Fuzz/corpus/$target" > "$log" 2>&1
status=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
corpus=$(find "$build/corpus/$target" -type f | wc -l)
if [ $status -ne 0 ]; then
    tail -40 "$log" >&2
    echo "fuzz $target: FAILED after ${runs:-?} inputs (exit $status); input saved in $build/artifacts/$target/, log $log" >&2
    exit 1
fi
echo "fuzz $target: ${runs:-?} inputs in $seconds s, no crash ($corpus inputs in $build/corpus/$target)"
