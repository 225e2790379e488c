// fp32 GEMM kernels for CPUs with AVX-512, used by layers::gemm (blas.h)
// in place of OpenBLAS where they apply.
//
// Why: the students' GEMMs are small (a batch of 128 against 784 × 128
// weights), where OpenBLAS spends a good part of its time packing, and
// Debian's OpenBLAS 0.3.21 picks its AVX2 (Haswell) kernels on CPUs it
// does not know (AMD Zen 4/5), leaving half of the vector width unused.
//
// Row-major C[M, N] = alpha · op(A)[M, K] · op(B)[K, N] + beta · C, in two
// shapes of loop:
//   dot_gemm   op(B) = Bᵀ, B stored [N, K] (a linear layer's forward):
//              C[i, j] = Σ_l A[i, l] · B[j, l], both rows contiguous in l
//   axpy_gemm  op(B) = B, B stored [K, N] (weight and input gradients):
//              C[i, j:j+32] += op(A)[i, l] · B[l, j:j+32] for l = 0 … K−1
//
// Determinism: every element of C sees the same instruction sequence
// wherever it lies in a tile and whatever the tiling — dot_gemm sums
// 16 lanes over l in order and reduces them in a fixed tree; axpy_gemm
// chains one FMA per l in order — so a caller may split C into any blocks
// (for threads) and get the same bits.
#pragma once

#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DISTILL_HAVE_AVX512_GEMM 1
#define DISTILL_AVX512 __attribute__((target("avx512f")))
#define DISTILL_UNROLL _Pragma("GCC unroll 16")
#else
#define DISTILL_HAVE_AVX512_GEMM 0
#endif

namespace distill::layers::avx512 {

#if DISTILL_HAVE_AVX512_GEMM

// Whether this CPU runs the kernels (checked once). DISTILL_NO_AVX512_GEMM
// (any value) turns them off, so that the OpenBLAS path that CPUs without
// AVX-512 take is tested on one with it (a CTest variant sets it).
inline bool available() {
    static const bool yes =
        __builtin_cpu_supports("avx512f") && std::getenv("DISTILL_NO_AVX512_GEMM") == nullptr;
    return yes;
}

// Rows per dot_gemm tile and columns per axpy_gemm tile: the units in which
// a caller should split C (any split is correct; these keep tiles full).
constexpr int64_t dot_rows = 4, axpy_rows = 8, axpy_columns = 32;

// C = beta · C + alpha · sum, written so that alpha = 1 and beta ∈ {0, 1}
// add no rounding (beta = 0 never reads C: it may hold NaN).
DISTILL_AVX512 inline __m512 finish(__m512 sum, float alpha, float beta, __m512 c) {
    if (alpha != 1.0f) sum = _mm512_mul_ps(_mm512_set1_ps(alpha), sum);
    if (beta == 0.0f) return sum;
    if (beta != 1.0f) c = _mm512_mul_ps(_mm512_set1_ps(beta), c);
    return _mm512_add_ps(c, sum);
}

// The sum of the 16 lanes, in a fixed tree: halves, quarters, pairs, lanes.
// (The masked forms, all lanes set, because GCC 12 warns under -Wall about
// the undefined source lanes of the unmasked ones and of
// _mm512_reduce_add_ps.)
DISTILL_AVX512 inline float lane_sum(__m512 x) {
    const __mmask16 all = 0xffff;
    x = _mm512_add_ps(x, _mm512_mask_shuffle_f32x4(x, all, x, x, _MM_SHUFFLE(1, 0, 3, 2)));
    x = _mm512_add_ps(x, _mm512_mask_shuffle_f32x4(x, all, x, x, _MM_SHUFFLE(2, 3, 0, 1)));
    x = _mm512_add_ps(x, _mm512_mask_permute_ps(x, all, x, _MM_SHUFFLE(1, 0, 3, 2)));
    x = _mm512_add_ps(x, _mm512_mask_permute_ps(x, all, x, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_cvtss_f32(x);
}

// One MR × NR tile of dot_gemm: MR · NR accumulators of 16 lanes each.
template <int MR, int NR>
DISTILL_AVX512 inline void dot_tile(int64_t k, const float * a, int64_t lda, const float * b,
                                    int64_t ldb, float alpha, float beta, float * c,
                                    int64_t ldc) {
    __m512 acc[MR][NR];
    DISTILL_UNROLL for (int r = 0; r < MR; ++r)
        DISTILL_UNROLL for (int s = 0; s < NR; ++s) acc[r][s] = _mm512_setzero_ps();
    int64_t l = 0;
    for (; l + 16 <= k; l += 16) {
        __m512 av[MR];
        DISTILL_UNROLL for (int r = 0; r < MR; ++r) av[r] = _mm512_loadu_ps(a + r * lda + l);
        DISTILL_UNROLL for (int s = 0; s < NR; ++s) {
            const __m512 bv = _mm512_loadu_ps(b + s * ldb + l);
            DISTILL_UNROLL for (int r = 0; r < MR; ++r)
                acc[r][s] = _mm512_fmadd_ps(av[r], bv, acc[r][s]);
        }
    }
    if (l < k) {  // the last K % 16 values, the missing lanes zero
        const __mmask16 mask = __mmask16((1u << (k - l)) - 1u);
        __m512 av[MR];
        DISTILL_UNROLL for (int r = 0; r < MR; ++r)
            av[r] = _mm512_maskz_loadu_ps(mask, a + r * lda + l);
        DISTILL_UNROLL for (int s = 0; s < NR; ++s) {
            const __m512 bv = _mm512_maskz_loadu_ps(mask, b + s * ldb + l);
            DISTILL_UNROLL for (int r = 0; r < MR; ++r)
                acc[r][s] = _mm512_fmadd_ps(av[r], bv, acc[r][s]);
        }
    }
    DISTILL_UNROLL for (int r = 0; r < MR; ++r)
        DISTILL_UNROLL for (int s = 0; s < NR; ++s) {
            const __m512 sum = _mm512_set1_ps(lane_sum(acc[r][s]));
            const __m512 old = beta == 0.0f ? sum : _mm512_set1_ps(c[r * ldc + s]);
            c[r * ldc + s] = _mm512_cvtss_f32(finish(sum, alpha, beta, old));
        }
}

template <int MR>
DISTILL_AVX512 inline void dot_row_of_tiles(int64_t n, int64_t k, const float * a, int64_t lda,
                                            const float * b, int64_t ldb, float alpha,
                                            float beta, float * c, int64_t ldc) {
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) dot_tile<MR, 4>(k, a, lda, b + j * ldb, ldb, alpha, beta, c + j, ldc);
    switch (n - j) {
    case 3: dot_tile<MR, 3>(k, a, lda, b + j * ldb, ldb, alpha, beta, c + j, ldc); break;
    case 2: dot_tile<MR, 2>(k, a, lda, b + j * ldb, ldb, alpha, beta, c + j, ldc); break;
    case 1: dot_tile<MR, 1>(k, a, lda, b + j * ldb, ldb, alpha, beta, c + j, ldc); break;
    default: break;
    }
}

// C[M, N] = alpha · A[M, K] · B[N, K]ᵀ + beta · C.
DISTILL_AVX512 inline void dot_gemm(int64_t m, int64_t n, int64_t k, float alpha, const float * a,
                                    int64_t lda, const float * b, int64_t ldb, float beta,
                                    float * c, int64_t ldc) {
    int64_t i = 0;
    for (; i + 4 <= m; i += 4)
        dot_row_of_tiles<4>(n, k, a + i * lda, lda, b, ldb, alpha, beta, c + i * ldc, ldc);
    switch (m - i) {
    case 3: dot_row_of_tiles<3>(n, k, a + i * lda, lda, b, ldb, alpha, beta, c + i * ldc, ldc); break;
    case 2: dot_row_of_tiles<2>(n, k, a + i * lda, lda, b, ldb, alpha, beta, c + i * ldc, ldc); break;
    case 1: dot_row_of_tiles<1>(n, k, a + i * lda, lda, b, ldb, alpha, beta, c + i * ldc, ldc); break;
    default: break;
    }
}

// One MR × 32 tile of axpy_gemm (columns past N masked off by m0, m1).
// op(A)[i, l] is a[i · lda + l], or a[l · lda + i] when TA (A transposed).
template <int MR, bool TA>
DISTILL_AVX512 inline void axpy_tile(int64_t k, const float * a, int64_t lda, const float * b,
                                     int64_t ldb, float alpha, float beta, float * c, int64_t ldc,
                                     __mmask16 m0, __mmask16 m1) {
    __m512 acc0[MR], acc1[MR];
    DISTILL_UNROLL for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
    for (int64_t l = 0; l < k; ++l) {
        const float * row = b + l * ldb;
        const __m512 b0 = _mm512_maskz_loadu_ps(m0, row), b1 = _mm512_maskz_loadu_ps(m1, row + 16);
        DISTILL_UNROLL for (int r = 0; r < MR; ++r) {
            const __m512 ar = _mm512_set1_ps(TA ? a[l * lda + r] : a[r * lda + l]);
            acc0[r] = _mm512_fmadd_ps(ar, b0, acc0[r]);
            acc1[r] = _mm512_fmadd_ps(ar, b1, acc1[r]);
        }
    }
    DISTILL_UNROLL for (int r = 0; r < MR; ++r) {
        float * row = c + r * ldc;
        const __m512 old0 = beta == 0.0f ? acc0[r] : _mm512_maskz_loadu_ps(m0, row);
        const __m512 old1 = beta == 0.0f ? acc1[r] : _mm512_maskz_loadu_ps(m1, row + 16);
        _mm512_mask_storeu_ps(row, m0, finish(acc0[r], alpha, beta, old0));
        _mm512_mask_storeu_ps(row + 16, m1, finish(acc1[r], alpha, beta, old1));
    }
}

template <bool TA>
DISTILL_AVX512 inline void axpy_column_of_tiles(int64_t m, int64_t k, const float * a,
                                                int64_t lda, const float * b, int64_t ldb,
                                                float alpha, float beta, float * c, int64_t ldc,
                                                __mmask16 m0, __mmask16 m1) {
    // Row r of op(A) starts r elements further (TA) or r rows further.
    const int64_t row_step = TA ? 1 : lda;
    int64_t i = 0;
    for (; i + 8 <= m; i += 8)
        axpy_tile<8, TA>(k, a + i * row_step, lda, b, ldb, alpha, beta, c + i * ldc, ldc, m0, m1);
    const float * ai = a + i * row_step;
    float * ci = c + i * ldc;
    switch (m - i) {
    case 7: axpy_tile<7, TA>(k, ai, lda, b, ldb, alpha, beta, ci, ldc, m0, m1); break;
    case 6: axpy_tile<6, TA>(k, ai, lda, b, ldb, alpha, beta, ci, ldc, m0, m1); break;
    case 5: axpy_tile<5, TA>(k, ai, lda, b, ldb, alpha, beta, ci, ldc, m0, m1); break;
    case 4: axpy_tile<4, TA>(k, ai, lda, b, ldb, alpha, beta, ci, ldc, m0, m1); break;
    case 3: axpy_tile<3, TA>(k, ai, lda, b, ldb, alpha, beta, ci, ldc, m0, m1); break;
    case 2: axpy_tile<2, TA>(k, ai, lda, b, ldb, alpha, beta, ci, ldc, m0, m1); break;
    case 1: axpy_tile<1, TA>(k, ai, lda, b, ldb, alpha, beta, ci, ldc, m0, m1); break;
    default: break;
    }
}

// C[M, N] = alpha · op(A) · B[K, N] + beta · C, op(A) = A [M, K] or, when
// transpose_a, Aᵀ with A stored [K, M]. Column slabs of 32 outermost, so
// a slab of B (K × 32) stays in L1 while the rows of op(A) go by.
DISTILL_AVX512 inline void axpy_gemm(bool transpose_a, int64_t m, int64_t n, int64_t k,
                                     float alpha, const float * a, int64_t lda, const float * b,
                                     int64_t ldb, float beta, float * c, int64_t ldc) {
    for (int64_t j = 0; j < n; j += 32) {
        const int64_t left = n - j;
        const __mmask16 m0 = left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1u);
        const __mmask16 m1 = left >= 32   ? __mmask16(0xffff)
                             : left > 16 ? __mmask16((1u << (left - 16)) - 1u)
                                         : __mmask16(0);
        if (transpose_a)
            axpy_column_of_tiles<true>(m, k, a, lda, b + j, ldb, alpha, beta, c + j, ldc, m0, m1);
        else
            axpy_column_of_tiles<false>(m, k, a, lda, b + j, ldb, alpha, beta, c + j, ldc, m0, m1);
    }
}

#else  // not x86-64 GCC/Clang: never available, and never called

inline bool available() { return false; }
constexpr int64_t dot_rows = 4, axpy_rows = 8, axpy_columns = 32;
inline void dot_gemm(int64_t, int64_t, int64_t, float, const float *, int64_t, const float *,
                     int64_t, float, float *, int64_t) {}
inline void axpy_gemm(bool, int64_t, int64_t, int64_t, float, const float *, int64_t,
                      const float *, int64_t, float, float *, int64_t) {}

#endif

}  // namespace distill::layers::avx512
