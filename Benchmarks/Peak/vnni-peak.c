// The int8 compute ceiling of one core: back-to-back vpdpbusd on zmm registers (12 independent
// accumulators, no loads), the instruction the AVX-512 kernels are built on. 64 u8×s8 products
// summed into 16 int32 = 128 operations per instruction. Run one copy per core to get the
// machine's figure (Benchmarks/README.md, "How close to the floor"):
//   cc -O2 -mavx512f -mavx512vnni -o /tmp/vnni-peak Benchmarks/Peak/vnni-peak.c
//   taskset -c 0 /tmp/vnni-peak & taskset -c 1 /tmp/vnni-peak; wait
#include <stdio.h>
#include <time.h>

static double seconds_for(long iterations) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    __asm__ volatile(
        "vpternlogd $0xff, %%zmm30, %%zmm30, %%zmm30\n"
        "vpternlogd $0xff, %%zmm31, %%zmm31, %%zmm31\n"
        "1:\n"
        "vpdpbusd %%zmm30, %%zmm31, %%zmm0\n vpdpbusd %%zmm30, %%zmm31, %%zmm1\n"
        "vpdpbusd %%zmm30, %%zmm31, %%zmm2\n vpdpbusd %%zmm30, %%zmm31, %%zmm3\n"
        "vpdpbusd %%zmm30, %%zmm31, %%zmm4\n vpdpbusd %%zmm30, %%zmm31, %%zmm5\n"
        "vpdpbusd %%zmm30, %%zmm31, %%zmm6\n vpdpbusd %%zmm30, %%zmm31, %%zmm7\n"
        "vpdpbusd %%zmm30, %%zmm31, %%zmm8\n vpdpbusd %%zmm30, %%zmm31, %%zmm9\n"
        "vpdpbusd %%zmm30, %%zmm31, %%zmm10\n vpdpbusd %%zmm30, %%zmm31, %%zmm11\n"
        "dec %0\n jnz 1b\n"
        : "+r"(iterations)
        :
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm30", "xmm31", "cc");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
}

int main(void) {
    const long iterations = 100000000;
    for (int run = 0; run < 5; run++) {
        double s = seconds_for(iterations);
        printf("%.0f GOP/s (%.3f ns per vpdpbusd)\n", 12.0 * iterations * 128 / s / 1e9, s / (12.0 * iterations) * 1e9);
    }
    return 0;
}
