// One name for the fp32 and fp64 GEMMs of OpenBLAS, so the layers can be
// templates on the scalar type (fp64 only for the finite-difference tests).
//
// Row-major C[M, N] = alpha · op(A)[M, K] · op(B)[K, N] + beta · C, with
// op(X) = X or Xᵀ; lda/ldb/ldc are the row strides of A, B, C as stored.
#pragma once

#include <cblas.h>
#include "common/openmp.h"

#include <algorithm>
#include <climits>
#include <mutex>
#include <cstdint>
#include <string>
#include <type_traits>

#include "common/error.h"
#include "students/layers/gemm_avx512.h"
#include "students/layers/thread_team.h"

namespace distill::layers {

// OpenBLAS takes 32-bit sizes: refuse, with the numbers, a product that
// does not fit rather than let it wrap.
inline blasint blas_size(int64_t value, const char * what) {
    if (value < 0 || value > INT_MAX)
        fail_invalid(std::string("gemm: ") + what + " expected in [0, 2^31 - 1], got " +
                     std::to_string(value));
    return static_cast<blasint>(value);
}

inline void blas_gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k,
                      float alpha, const float * a, int64_t lda, const float * b, int64_t ldb,
                      float beta, float * c, int64_t ldc) {
    if (m == 1 && k > 0) {
        // One row (inference at batch 1): c = op(B)ᵀ · a as a matrix-vector
        // product, which skips GEMM's packing of B — most of its time here.
        // a's K values are contiguous unless A is transposed (then lda apart).
        const blasint a_step = transpose_a ? blas_size(lda, "lda") : 1;
        if (transpose_b)  // B stored [N, K]: c[n] = Σ_k B[n, k] a[k]
            cblas_sgemv(CblasRowMajor, CblasNoTrans, blas_size(n, "N"), blas_size(k, "K"), alpha, b,
                        blas_size(ldb, "ldb"), a, a_step, beta, c, 1);
        else  // B stored [K, N]: c[n] = Σ_k B[k, n] a[k]
            cblas_sgemv(CblasRowMajor, CblasTrans, blas_size(k, "K"), blas_size(n, "N"), alpha, b,
                        blas_size(ldb, "ldb"), a, a_step, beta, c, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
                transpose_b ? CblasTrans : CblasNoTrans, blas_size(m, "M"), blas_size(n, "N"),
                blas_size(k, "K"), alpha, a, blas_size(lda, "lda"), b, blas_size(ldb, "ldb"), beta,
                c, blas_size(ldc, "ldc"));
}

inline void blas_gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k,
                      double alpha, const double * a, int64_t lda, const double * b, int64_t ldb,
                      double beta, double * c, int64_t ldc) {
    cblas_dgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
                transpose_b ? CblasTrans : CblasNoTrans, blas_size(m, "M"), blas_size(n, "N"),
                blas_size(k, "K"), alpha, a, blas_size(lda, "lda"), b, blas_size(ldb, "ldb"), beta,
                c, blas_size(ldc, "ldc"));
}

// OpenBLAS runs single-threaded inside the library, and a large GEMM is
// split across OpenMP's threads here instead. Why: Debian's OpenBLAS keeps
// its own pthread pool, which fights OpenMP's spinning workers (the layers'
// elementwise loops, the optimizer) for the same cores — a training step ran
// 3 to 8 times slower on 2 cores than with one thread. One pool, OpenMP's,
// avoids that. (openblas_set_num_threads is process-wide: it also applies to
// other users of the system OpenBLAS in the process.)
inline void use_single_threaded_blas() {
    static std::once_flag once;
    std::call_once(once, [] { openblas_set_num_threads(1); });
}

// C = alpha · op(A) · op(B) + beta · C, split into blocks of rows of C (M)
// or of columns (N) — never K, so every element is one dot product in
// OpenBLAS's order. The blocks depend only on the sizes, never on the
// thread count, so the result is bit-identical for any number of threads.
//
// fp32 products with op(A) · Bᵀ, A · B or Aᵀ · B on a CPU with AVX-512 (and
// more than one row) run on gemm_avx512.h's kernels instead (avx512_gemm
// below), the same way: blocks of C fixed by the sizes.
//
// `threads`: the pool the blocks run on (thread_team.h's pool).
template <class T>
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha, const T * a,
          int64_t lda, const T * b, int64_t ldb, T beta, T * c, int64_t ldc,
          pool threads = pool::openmp);

// C split into 1 to 16 blocks (a power of two, so two or four threads share
// them evenly) of ≥ 1M multiply-adds — about 10 µs, well above the cost of
// waking a thread — along the longer side of C, in whole tiles.
inline void avx512_gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k,
                        float alpha, const float * a, int64_t lda, const float * b, int64_t ldb,
                        float beta, float * c, int64_t ldc, pool threads) {
    const auto run = [&](int64_t row, int64_t rows, int64_t col, int64_t cols) {
        const float * a_block = transpose_a ? a + row : a + row * lda;
        float * c_block = c + row * ldc + col;
        if (transpose_b)  // B stored [N, K]: its rows are the columns of C
            avx512::dot_gemm(rows, cols, k, alpha, a_block, lda, b + col * ldb, ldb, beta, c_block,
                             ldc);
        else
            avx512::axpy_gemm(transpose_a, rows, cols, k, alpha, a_block, lda, b + col, ldb, beta,
                              c_block, ldc);
    };
    const bool split_rows = m >= n;
    const int64_t unit = transpose_b ? avx512::dot_rows
                         : split_rows ? avx512::axpy_rows
                                      : avx512::axpy_columns;
    const int64_t extent = split_rows ? m : n, units = (extent + unit - 1) / unit;
    int64_t blocks = 1;
    while (blocks < 16 && blocks * 2 <= units && m * n * k >= (blocks * 2) << 20) blocks *= 2;
    if (blocks == 1) {
        run(0, m, 0, n);
        return;
    }
    for_blocks(threads, blocks, [&](int64_t block) {
        const int64_t begin = std::min(extent, units * block / blocks * unit);
        const int64_t end = std::min(extent, units * (block + 1) / blocks * unit);
        if (split_rows)
            run(begin, end - begin, 0, n);
        else
            run(0, m, begin, end - begin);
    });
}

template <class T>
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha, const T * a,
          int64_t lda, const T * b, int64_t ldb, T beta, T * c, int64_t ldc, pool threads) {
    if constexpr (std::is_same_v<T, float>) {
        if (m > 1 && !(transpose_a && transpose_b) && avx512::available()) {
            avx512_gemm(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                        threads);
            return;
        }
    }
    use_single_threaded_blas();
    // A block re-packs the whole of the other operand, so blocks stay large:
    // at least 4M multiply-adds and 64 rows (or columns) each (a batch of 128
    // runs as 2 blocks; measured 1.3× → 1.5× PyTorch's step over 16-row blocks).
    constexpr int64_t min_work_per_block = int64_t{1} << 22;  // multiply-adds
    constexpr int64_t max_blocks = 16, min_block_extent = 64;
    const bool split_rows = m >= n;
    const int64_t extent = split_rows ? m : n;
    const int64_t blocks = std::clamp<int64_t>(
        std::min(m * n * k / min_work_per_block, extent / min_block_extent), 1, max_blocks);
    if (blocks == 1) {
        blas_gemm(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    for_blocks(threads, blocks, [&](int64_t block) {
        const int64_t begin = extent * block / blocks, end = extent * (block + 1) / blocks;
        if (split_rows)  // rows of op(A): rows of A, or columns of a transposed A
            blas_gemm(transpose_a, transpose_b, end - begin, n, k, alpha,
                      transpose_a ? a + begin : a + begin * lda, lda, b, ldb, beta, c + begin * ldc,
                      ldc);
        else  // columns of op(B): columns of B, or rows of a transposed B
            blas_gemm(transpose_a, transpose_b, m, end - begin, k, alpha, a, lda,
                      transpose_b ? b + begin * ldb : b + begin, ldb, beta, c + begin, ldc);
    });
}

}  // namespace distill::layers
