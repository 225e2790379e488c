// layers::gemm against a plain triple loop, on the paths it takes: one row
// (a matrix-vector product), small (one OpenBLAS call), large (blocks of
// rows or columns across OpenMP threads); every transpose combination.
#include <doctest/doctest.h>

#include "common/openmp.h"

#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "students/layers/blas.h"

namespace {

// The operands of one product, stored with `pad` spare columns per row
// (leading dimensions larger than the rows, as a block of a bigger matrix).
struct operands {
    int64_t lda, ldb, ldc;
    std::vector<float> a, b, c;
};

operands make_operands(bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad,
                       std::mt19937 & random) {
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    operands o;
    o.lda = (ta ? m : k) + pad;
    o.ldb = (tb ? k : n) + pad;
    o.ldc = n + pad;
    o.a.resize(size_t((ta ? k : m) * o.lda));
    o.b.resize(size_t((tb ? n : k) * o.ldb));
    o.c.resize(size_t(m * o.ldc));
    for (float & v : o.a) v = unit(random);
    for (float & v : o.b) v = unit(random);
    for (float & v : o.c) v = unit(random);
    return o;
}

// C[M, N] = alpha · op(A) · op(B) + beta · C, in double, as stored in o.
std::vector<double> reference(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                              float beta, const operands & o) {
    std::vector<double> out(static_cast<size_t>(m * n));
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double sum = 0;
            for (int64_t l = 0; l < k; ++l) {
                const double x = ta ? o.a[size_t(l * o.lda + i)] : o.a[size_t(i * o.lda + l)];
                const double y = tb ? o.b[size_t(j * o.ldb + l)] : o.b[size_t(l * o.ldb + j)];
                sum += x * y;
            }
            const double old = beta == 0.0f ? 0.0 : double(beta) * o.c[size_t(i * o.ldc + j)];
            out[size_t(i * n + j)] = double(alpha) * sum + old;
        }
    return out;
}

void check_shape(int64_t m, int64_t n, int64_t k, float alpha = 1.0f, float beta = 0.5f,
                 int64_t pad = 0) {
    std::mt19937 random(uint32_t(m * 131 + n * 7 + k));
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
            operands o = make_operands(ta != 0, tb != 0, m, n, k, pad, random);
            // beta = 0 must not read C: NaN there must not reach the result.
            if (beta == 0.0f)
                for (float & v : o.c) v = std::nanf("");
            const std::vector<double> expected = reference(ta, tb, m, n, k, alpha, beta, o);
            const std::vector<float> spare_before = o.c;
            distill::layers::gemm(ta != 0, tb != 0, m, n, k, alpha, o.a.data(), o.lda, o.b.data(),
                                  o.ldb, beta, o.c.data(), o.ldc);
            double worst = 0;
            bool spare_kept = true;
            for (int64_t i = 0; i < m; ++i) {
                for (int64_t j = 0; j < n; ++j)
                    worst = std::max(worst, std::fabs(double(o.c[size_t(i * o.ldc + j)]) -
                                                      expected[size_t(i * n + j)]));
                for (int64_t j = n; j < o.ldc; ++j) {
                    const float before = spare_before[size_t(i * o.ldc + j)];
                    const float after = o.c[size_t(i * o.ldc + j)];
                    spare_kept = spare_kept && (after == before || (after != after && before != before));
                }
            }
            INFO("M " << m << " N " << n << " K " << k << " transpose A " << ta << " B " << tb
                      << " alpha " << alpha << " beta " << beta << " pad " << pad);
            CHECK(worst < 1e-4 * std::sqrt(double(k)) * std::max(1.0f, std::fabs(alpha)));
            CHECK(spare_kept);  // columns past N are not C's
        }
}

}  // namespace

TEST_CASE("gemm: one row, small and blocked products agree with a triple loop") {
    check_shape(1, 37, 53);      // one row: matrix-vector
    check_shape(1, 300, 784);    // one row, the size of inference at batch 1
    check_shape(5, 7, 3);        // one OpenBLAS call
    check_shape(512, 64, 256);   // blocks of rows (≥ 4M multiply-adds, ≥ 64 rows each)
    check_shape(32, 1024, 256);  // blocks of columns
}

TEST_CASE("gemm: odd sizes, strided operands, alpha and beta (every kernel's edges)") {
    // Sizes off every tile (4 and 8 rows, 16 lanes, 32 columns).
    check_shape(13, 33, 17, 1.0f, 0.0f, 3);
    check_shape(9, 10, 784, 1.0f, 1.0f, 5);
    check_shape(130, 10, 128, -0.5f, 0.0f, 0);  // an output layer's shapes
    check_shape(128, 129, 785, 2.0f, 1.0f, 1);  // blocks, and a remainder lane
    check_shape(3, 1100, 7, 1.0f, 0.25f, 2);
    check_shape(2, 2, 1, 1.0f, 0.0f, 0);
}

TEST_CASE("gemm: bit-identical for any thread count") {
    std::mt19937 random(5);
    const int default_threads = omp_get_max_threads();
    for (const auto [m, n, k] : {std::array<int64_t, 3>{128, 128, 784}, {784, 128, 128},
                                 {128, 784, 128}, {256, 10, 512}}) {
        for (int ta = 0; ta < 2; ++ta)
            for (int tb = 0; tb < 2; ++tb) {
                const operands o = make_operands(ta != 0, tb != 0, m, n, k, 0, random);
                std::vector<float> one = o.c, two = o.c, four = o.c;
                for (auto [threads, c] : {std::pair{1, &one}, {2, &two}, {4, &four}}) {
                    omp_set_num_threads(threads);
                    distill::layers::gemm(ta != 0, tb != 0, m, n, k, 1.0f, o.a.data(), o.lda,
                                          o.b.data(), o.ldb, 1.0f, c->data(), o.ldc);
                }
                INFO("M " << m << " N " << n << " K " << k << " transpose A " << ta << " B "
                          << tb);
                CHECK(one == two);
                CHECK(one == four);
            }
    }
    omp_set_num_threads(default_threads);
}
