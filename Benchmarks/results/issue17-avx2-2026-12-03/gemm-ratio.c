// AVX2 ÷ AVX-512 of llada_gemm, same process, calls interleaved, fastest of ~0.8 s per case.
// Build from the repository root: clang -O2 -ISources/LLaDAKernels/include -ISources/LLaDAKernels \
//   Benchmarks/results/issue17-avx2-2026-12-03/gemm-ratio.c Sources/LLaDAKernels/{gemm,gemm_avx2,gemm_avx512,gemm_neon,threadpool,dispatch,convert}.c -lpthread -lm
// Run: ./a.out THREADS [TYPE: 2 = q8_0, 3 = q4_0, -1 = both] [SECONDS]
#include "llada_gemm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
void llada_gemm_set_threads(int);
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
int main(int argc, char **argv){
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  int only = argc > 2 ? atoi(argv[2]) : -1;   // type filter
  llada_gemm_set_threads(threads);
  size_t shapes[][2] = {{4096,4096},{12288,4096},{4096,12288}};
  size_t ms[] = {32, 256};
  srand(1);
  for (int type = 2; type <= 3; type++) { if (only >= 0 && type != only) continue;
   for (int s = 0; s < 3; s++) {
    size_t n = shapes[s][0], k = shapes[s][1];
    size_t bb = type == 2 ? 34 : 18; size_t bytes = n * (k/32) * bb;
    unsigned char *w = malloc(bytes); for (size_t i = 0; i < bytes; i++) w[i] = rand();
    for (size_t b = 0; b < n*(k/32); b++) { unsigned short h = 0x2000 + (rand() & 0x3ff); memcpy(w + b*bb, &h, 2); }
    size_t pb = llada_repack_size(type, n, k); void *p = llada_packed_alloc(pb);
    if (type == 2) llada_repack_q8_0(w, p, n, k); else llada_repack_q4_0(w, p, n, k);
    for (int mi = 0; mi < 2; mi++) { size_t m = ms[mi];
      float *x = malloc(m*k*4), *y = malloc(m*n*4); for (size_t i = 0; i < m*k; i++) x[i] = (rand()/(float)RAND_MAX) - 0.5f;
      double g[4] = {0}, best[4] = {1e9, 1e9, 1e9, 1e9}; double t0 = now();
      while (now() - t0 < (argc > 3 ? atof(argv[3]) : 1.0))
        for (int path = 2; path <= 3; path++) { llada_gemm_set_path(path);
          double t = now(); llada_gemm(type, p, n, k, x, m, y); t = now() - t; if (t < best[path]) best[path] = t; }
      for (int path = 2; path <= 3; path++) g[path] = 2.0*m*n*k/best[path]/1e9;
      printf("%s n %5zu k %5zu M %3zu  avx2 %6.1f  avx512 %6.1f  ratio %.2f\n", type==2?"q8":"q4", n, k, m, g[2], g[3], g[2]/g[3]);
      fflush(stdout); free(x); free(y); }
    llada_packed_free(p, pb); free(w); } }
}
