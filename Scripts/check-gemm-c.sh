#!/bin/sh
# Runs Scripts/gemm_check.c against the LLaDAKernels sources: natively (scalar + every SIMD path
# the CPU has); where SIMDe is installed (apt install libsimde-dev), with the NEON path emulated on
# this machine; and where the aarch64 cross toolchain and qemu-user are (apt install
# gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user), built for aarch64 and run under qemu.
# Also compiles the NEON file for aarch64. Usage: Scripts/check-gemm-c.sh (run by .ci/run)
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/Sources/LLaDAKernels"
out=${TMPDIR:-/tmp}/llada-gemm-check
mkdir -p "$out"
sources="$src/gemm.c $src/gemm_experts.c $src/gemm_avx2.c $src/gemm_avx512.c $src/gemm_neon.c $src/threadpool.c $src/compute.c $src/dispatch.c $src/convert.c"

clang -O2 -I"$src/include" -I"$src" "$root/Scripts/gemm_check.c" $sources -lpthread -lm -o "$out/native"
"$out/native"

if [ "$(uname -m)" = x86_64 ] && [ -f /usr/include/simde/arm/neon.h ]; then
    # -mfma: SIMDe must map vfmaq_f32 to a fused multiply-add to be faithful to NEON.
    clang -O2 -mavx2 -mfma -mf16c -DLLADA_NEON_EMULATION -I"$src/include" -I"$src" "$root/Scripts/gemm_check.c" \
        $sources -lpthread -lm -o "$out/neon-emulated"
    "$out/neon-emulated"
fi

# On x86, where Debian's aarch64 cross toolchain and qemu-user are installed (.ci/setup installs
# them on CI): the sweep built for aarch64 by clang, as SwiftPM builds the kernels, and run under
# qemu. A CPU with the dot-product extension must take the NEON path and match the reference;
# one without it (Cortex-A72, a Raspberry Pi 4) must fall back to scalar.
if [ "$(uname -m)" = x86_64 ] && command -v qemu-aarch64 >/dev/null && [ -d /usr/aarch64-linux-gnu/lib ]; then
    clang --target=aarch64-linux-gnu -O2 -I"$src/include" -I"$src" "$root/Scripts/gemm_check.c" $sources -lpthread -lm \
        -o "$out/aarch64"
    with_dot=$(qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu "$out/aarch64")
    echo "aarch64 (qemu, -cpu max): $with_dot"
    case "$with_dot" in "paths: scalar neon;"*", 0 mismatches") ;; *) echo "aarch64 with dotprod: expected the neon path, no mismatches" >&2; exit 1 ;; esac
    without_dot=$(qemu-aarch64 -cpu cortex-a72 -L /usr/aarch64-linux-gnu "$out/aarch64")
    echo "aarch64 (qemu, -cpu cortex-a72): $without_dot"
    case "$without_dot" in "paths: scalar;"*", 0 mismatches") ;; *) echo "aarch64 without dotprod: expected scalar only, no mismatches" >&2; exit 1 ;; esac
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
