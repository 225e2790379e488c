// layers::gemm against a plain triple loop, on the paths it takes: one row
// (a matrix-vector product), small (one OpenBLAS call), large (blocks of
// rows or columns across OpenMP threads); every transpose combination.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "students/layers/blas.h"

namespace {

// C[M, N] = op(A) · op(B) + beta · C, in double, row-major as stored.
std::vector<double> reference(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                              const std::vector<float> & a, const std::vector<float> & b,
                              float beta, const std::vector<float> & c) {
    std::vector<double> out(static_cast<size_t>(m * n));
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double sum = 0;
            for (int64_t l = 0; l < k; ++l) {
                const double x = ta ? a[size_t(l * m + i)] : a[size_t(i * k + l)];
                const double y = tb ? b[size_t(j * k + l)] : b[size_t(l * n + j)];
                sum += x * y;
            }
            out[size_t(i * n + j)] = sum + double(beta) * c[size_t(i * n + j)];
        }
    return out;
}

void check_shape(int64_t m, int64_t n, int64_t k) {
    std::mt19937 random(uint32_t(m * 131 + n * 7 + k));
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
            std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n));
            std::vector<float> c(static_cast<size_t>(m * n));
            for (float & v : a) v = unit(random);
            for (float & v : b) v = unit(random);
            for (float & v : c) v = unit(random);
            const std::vector<double> expected = reference(ta, tb, m, n, k, a, b, 0.5f, c);
            distill::layers::gemm(ta != 0, tb != 0, m, n, k, 1.0f, a.data(), ta ? m : k, b.data(),
                                  tb ? k : n, 0.5f, c.data(), n);
            double worst = 0;
            for (size_t i = 0; i < c.size(); ++i)
                worst = std::max(worst, std::fabs(double(c[i]) - expected[i]));
            INFO("M " << m << " N " << n << " K " << k << " transpose A " << ta << " B " << tb);
            CHECK(worst < 1e-4 * std::sqrt(double(k)));
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
