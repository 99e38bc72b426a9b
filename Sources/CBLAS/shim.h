#include <cblas.h>
// Not declared by every cblas.h; OpenBLAS exports it.
void openblas_set_num_threads(int num_threads);
