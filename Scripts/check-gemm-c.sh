#!/bin/sh
# Runs Scripts/gemm_check.c against the LLaDAKernels sources: natively (scalar + every SIMD path
# the CPU has) and, where SIMDe is installed (apt install libsimde-dev), with the NEON path
# emulated on this machine. Also compiles the NEON file for aarch64. Usage: Scripts/check-gemm-c.sh
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/Sources/LLaDAKernels"
out=${TMPDIR:-/tmp}/llada-gemm-check
mkdir -p "$out"
sources="$src/gemm.c $src/gemm_avx2.c $src/gemm_avx512.c $src/gemm_neon.c $src/threadpool.c $src/dispatch.c $src/convert.c"

clang -O2 -I"$src/include" -I"$src" "$root/Scripts/gemm_check.c" $sources -lpthread -lm -o "$out/native"
"$out/native"

if [ "$(uname -m)" = x86_64 ] && [ -f /usr/include/simde/arm/neon.h ]; then
    # -mfma: SIMDe must map vfmaq_f32 to a fused multiply-add to be faithful to NEON.
    clang -O2 -mavx2 -mfma -mf16c -DLLADA_NEON_EMULATION -I"$src/include" -I"$src" "$root/Scripts/gemm_check.c" \
        $sources -lpthread -lm -o "$out/neon-emulated"
    "$out/neon-emulated"
fi

if [ "$(uname -m)" != aarch64 ] && [ "$(uname -m)" != arm64 ]; then
    clang --target=aarch64-linux-gnu -ffreestanding -O2 -Wall -c -I"$src/include" "$src/gemm_neon.c" -o "$out/gemm_neon.o"
    objdump="$(dirname "$(command -v clang)")/llvm-objdump"
    if [ -x "$objdump" ]; then
        echo "gemm_neon.c compiles for aarch64: $("$objdump" -d "$out/gemm_neon.o" | grep -c sdot) sdot instructions"
    else
        echo "gemm_neon.c compiles for aarch64"
    fi
fi
