// The machine's limit for `weightscope stats` (issue 5): min, max, sum and sum of squares over every float of a
// safetensors file's data section, memory-mapped, OpenMP threads, float32 SIMD lanes accumulated per thread.
// Build: gcc -O3 -march=native -fopenmp bench/stats_ref.c -o bench/data/stats_ref
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: stats_ref FILE.safetensors\n"); return 2; }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) { perror(argv[1]); return 1; }
    const uint8_t *base = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) { perror("mmap"); return 1; }
    uint64_t header;
    memcpy(&header, base, 8);
    const float *x = (const float *)(base + 8 + header);
    long n = (st.st_size - 8 - (long)header) / 4;
    float mn = FLT_MAX, mx = -FLT_MAX;
    double sum = 0, sq = 0;
#pragma omp parallel for reduction(min : mn) reduction(max : mx) reduction(+ : sum, sq) schedule(static)
    for (long b = 0; b < n; b += 4096) {
        long e = b + 4096 < n ? b + 4096 : n;
        float s = 0, q = 0, lo = FLT_MAX, hi = -FLT_MAX;
#pragma omp simd reduction(+ : s, q) reduction(min : lo) reduction(max : hi)
        for (long i = b; i < e; i++) {
            float v = x[i];
            s += v;
            q += v * v;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        sum += s;
        sq += q;
        mn = lo < mn ? lo : mn;
        mx = hi > mx ? hi : mx;
    }
    double mean = sum / n;
    printf("{\"count\": %ld, \"min\": %.9g, \"max\": %.9g, \"mean\": %.12g, \"std\": %.12g}\n", n, mn, mx, mean, sqrt(sq / n - mean * mean));
    return 0;
}
