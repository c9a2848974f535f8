/*
 * OpenBLAS sgemm on the Linear shape of bertj (Y[M,N] = X[M,K] . W[N,K]^T), for comparison with
 * `./bertj bench gemm` in the same run. Prints the median of repeated runs after warm-up.
 *
 *   apt-get install -y libopenblas-dev
 *   gcc -O2 -o /tmp/openblas_gemm bench/src/main/c/openblas_gemm.c -lopenblas
 *   OPENBLAS_NUM_THREADS=T /tmp/openblas_gemm M K N [WEIGHTS_MB]
 *
 * As `bertj bench gemm` does, the calls cycle through copies of the weights totalling WEIGHTS_MB
 * (default 256, more than the caches), as in a model where each layer's weights are read once per pass.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s M K N [WEIGHTS_MB]\n", argv[0]);
        return 2;
    }
    int m = atoi(argv[1]), k = atoi(argv[2]), n = atoi(argv[3]);
    long weights_mb = argc == 5 ? atol(argv[4]) : 256;
    long weight_floats = (long) n * k;
    long copies = (weights_mb << 20) / (4 * weight_floats);
    if (copies < 1) copies = 1;
    float *x = malloc(sizeof(float) * m * k), *y = malloc(sizeof(float) * m * n);
    float *w = malloc(sizeof(float) * weight_floats * copies);
    for (long i = 0; i < (long) m * k; i++) x[i] = (float) ((i * 7 % 13) - 6) / 13.0f;
    for (long i = 0; i < weight_floats * copies; i++) w[i] = (float) ((i * 5 % 11) - 5) / 11.0f;

    double flops = 2.0 * m * k * n;
    /* Enough calls per sample for ~20 ms, so short shapes are not timer noise. */
    int reps = (int) (2e8 / flops) + 1;
    if (reps < copies) reps = (int) copies;
    long next = 0;
    enum { WARMUP = 10, SAMPLES = 21 };
    double seconds[SAMPLES];
    for (int s = -WARMUP; s < SAMPLES; s++) {
        double start = now_seconds();
        for (int r = 0; r < reps; r++)
        {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, k, w + next * weight_floats, k,
                        0.0f, y, n);
            next = next + 1 == copies ? 0 : next + 1;
        }
        if (s >= 0) seconds[s] = (now_seconds() - start) / reps;
    }
    qsort(seconds, SAMPLES, sizeof(double), compare_doubles);
    /* The best sample is printed too: on a shared machine it is the least disturbed one. */
    printf("openblas sgemm m=%d k=%d n=%d threads=%s: %.1f us, weights %.1f MB x %ld copies, streamed at %.1f GB/s, "
           "best %.1f GFLOP/s, median GFLOP/s: %.1f\n", m, k, n,
           getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "default",
           seconds[SAMPLES / 2] * 1e6, 4e-6 * weight_floats, copies, 4e-9 * weight_floats / seconds[SAMPLES / 2],
           flops / seconds[0] * 1e-9, flops / seconds[SAMPLES / 2] * 1e-9);
    free(x); free(w); free(y);
    return 0;
}
