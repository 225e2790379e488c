// The dense layers of the built-in students (core/students/layers): each
// backward against fp64 central finite differences of L = Σ out · r, each
// forward against a plain loop or known values, and the fp32 instantiation
// against the fp64 one.
#include <doctest/doctest.h>

#include "common/openmp.h"

#include <cmath>
#include <vector>

#include "students/layers/dropout.h"
#include "students/layers/gelu.h"
#include "students/layers/linear.h"
#include "students/layers/relu.h"
#include "test_student_support.h"

using namespace distill::layers;
using namespace student_test;

namespace {
constexpr double fd_tolerance = 1e-6;    // fp64 central differences, h = 1e-5
constexpr double fp32_tolerance = 1e-5;  // fp32 against fp64, relative to the largest value
constexpr double h = 1e-5;
}  // namespace

TEST_CASE("linear: forward is inp · weightᵀ + bias; backward matches finite differences") {
    const int64_t B = 3, IN = 7, OUT = 5;
    auto inp = random_values<double>(B * IN, 1);
    auto weight = random_values<double>(OUT * IN, 2);
    auto bias = random_values<double>(OUT, 3);
    const auto r = random_values<double>(B * OUT, 4);
    std::vector<double> out(B * OUT);
    const auto loss = [&] {
        linear_forward(out.data(), inp.data(), weight.data(), bias.data(), B, IN, OUT);
        return dot(out, r);
    };
    loss();
    std::vector<double> expected(B * OUT);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t o = 0; o < OUT; ++o) {
            expected[b * OUT + o] = bias[o];
            for (int64_t i = 0; i < IN; ++i)
                expected[b * OUT + o] += inp[b * IN + i] * weight[o * IN + i];
        }
    CHECK(relative_error(out, expected) < 1e-15);

    std::vector<double> d_inp(B * IN), d_weight(OUT * IN, 99.0), d_bias(OUT, 99.0);
    linear_backward(d_inp.data(), d_weight.data(), d_bias.data(), r.data(), inp.data(),
                    weight.data(), B, IN, OUT);
    CHECK(relative_error(d_inp, finite_difference(inp, h, loss)) < fd_tolerance);
    CHECK(relative_error(d_weight, finite_difference(weight, h, loss)) < fd_tolerance);
    CHECK(relative_error(d_bias, finite_difference(bias, h, loss)) < fd_tolerance);

    SUBCASE("fp32 matches fp64") {
        const auto inp32 = cast<float>(inp), weight32 = cast<float>(weight);
        const auto bias32 = cast<float>(bias), r32 = cast<float>(r);
        std::vector<float> out32(B * OUT), d_inp32(B * IN), d_weight32(OUT * IN), d_bias32(OUT);
        linear_forward(out32.data(), inp32.data(), weight32.data(), bias32.data(), B, IN, OUT);
        linear_backward(d_inp32.data(), d_weight32.data(), d_bias32.data(), r32.data(),
                        inp32.data(), weight32.data(), B, IN, OUT);
        CHECK(relative_error(out32, out) < fp32_tolerance);
        CHECK(relative_error(d_inp32, d_inp) < fp32_tolerance);
        CHECK(relative_error(d_weight32, d_weight) < fp32_tolerance);
        CHECK(relative_error(d_bias32, d_bias) < fp32_tolerance);
    }
    SUBCASE("d_inp = null skips the input gradient only") {
        std::vector<double> d_weight2(OUT * IN), d_bias2(OUT);
        linear_backward<double>(nullptr, d_weight2.data(), d_bias2.data(), r.data(), inp.data(),
                                weight.data(), B, IN, OUT);
        CHECK(d_weight2 == d_weight);
        CHECK(d_bias2 == d_bias);
    }
    SUBCASE("an empty batch gives zero weight and bias gradients") {
        linear_backward<double>(nullptr, d_weight.data(), d_bias.data(), r.data(), inp.data(),
                                weight.data(), 0, IN, OUT);
        CHECK(relative_error(d_weight, std::vector<double>(OUT * IN)) == 0.0);
        CHECK(relative_error(d_bias, std::vector<double>(OUT)) == 0.0);
    }
}

TEST_CASE("linear: the bias gradient does not depend on the thread count") {
    const int64_t B = 64, IN = 3, OUT = 2000;  // B · OUT past the threading threshold
    const auto inp = random_values<float>(B * IN, 5), weight = random_values<float>(OUT * IN, 6);
    const auto d_out = random_values<float>(B * OUT, 7);
    std::vector<float> d_weight(OUT * IN), d_bias1(OUT), d_bias3(OUT);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    linear_backward<float>(nullptr, d_weight.data(), d_bias1.data(), d_out.data(), inp.data(),
                           weight.data(), B, IN, OUT);
    omp_set_num_threads(3);
    linear_backward<float>(nullptr, d_weight.data(), d_bias3.data(), d_out.data(), inp.data(),
                           weight.data(), B, IN, OUT);
    omp_set_num_threads(saved);
    CHECK(d_bias1 == d_bias3);
}

TEST_CASE("relu and gelu: known values; backward matches finite differences; fp32 matches fp64") {
    const int64_t N = 40;
    auto inp = random_values<double>(N, 8, -3.0, 3.0);
    const auto r = random_values<double>(N, 9);
    std::vector<double> out(N), d_inp(N);

    const double x[4] = {-1.0, 0.0, 0.5, 2.0};
    double y[4];
    relu_forward(y, x, 4);
    CHECK(y[0] == 0.0);
    CHECK(y[1] == 0.0);
    CHECK(y[2] == 0.5);
    CHECK(y[3] == 2.0);
    // x · Φ(x) from tables of the normal distribution.
    gelu_forward(y, x, 4);
    CHECK(y[0] == doctest::Approx(-0.15865525393145707).epsilon(1e-15));
    CHECK(y[1] == 0.0);
    CHECK(y[2] == doctest::Approx(0.5 * 0.6914624612740131).epsilon(1e-15));
    CHECK(y[3] == doctest::Approx(2.0 * 0.9772498680518208).epsilon(1e-15));

    SUBCASE("relu lets a NaN through, forward and backward, and keeps -0 (as PyTorch)") {
        const double special[3] = {std::nan(""), -0.0, 0.0};
        const double ones[3] = {1.0, 1.0, 1.0};
        double y3[3], g3[3];
        relu_forward(y3, special, 3);
        CHECK(std::isnan(y3[0]));
        CHECK((y3[1] == 0.0 && std::signbit(y3[1])));
        CHECK((y3[2] == 0.0 && !std::signbit(y3[2])));
        relu_backward(g3, ones, special, 3);
        CHECK(g3[0] == 1.0);
        CHECK(g3[1] == 0.0);
        CHECK(g3[2] == 0.0);
    }
    SUBCASE("relu") {
        const auto loss = [&] {
            relu_forward(out.data(), inp.data(), N);
            return dot(out, r);
        };
        relu_backward(d_inp.data(), r.data(), inp.data(), N);
        CHECK(relative_error(d_inp, finite_difference(inp, h, loss)) < fd_tolerance);
        std::vector<float> d32(N);
        relu_backward(d32.data(), cast<float>(r).data(), cast<float>(inp).data(), N);
        CHECK(relative_error(d32, d_inp) < fp32_tolerance);
    }
    SUBCASE("gelu") {
        const auto loss = [&] {
            gelu_forward(out.data(), inp.data(), N);
            return dot(out, r);
        };
        loss();
        gelu_backward(d_inp.data(), r.data(), inp.data(), N);
        CHECK(relative_error(d_inp, finite_difference(inp, h, loss)) < fd_tolerance);
        std::vector<float> out32(N), d32(N);
        gelu_forward(out32.data(), cast<float>(inp).data(), N);
        gelu_backward(d32.data(), cast<float>(r).data(), cast<float>(inp).data(), N);
        CHECK(relative_error(out32, out) < fp32_tolerance);
        CHECK(relative_error(d32, d_inp) < fp32_tolerance);
    }
}

TEST_CASE("dropout: keeps about 1 − p of the values, scaled; backward uses the same mask") {
    const int64_t N = 200000;  // past the threading threshold
    const double p = 0.3;
    const auto inp = random_values<double>(N, 10, 0.5, 1.5);  // never 0, so zeros are drops
    std::vector<double> out(N), again(N), other(N);
    dropout_forward(out.data(), inp.data(), N, p, 42);
    int64_t kept = 0;
    double worst = 0;
    for (int64_t i = 0; i < N; ++i) {
        if (out[i] == 0.0) continue;
        ++kept;
        worst = std::max(worst, std::fabs(out[i] - inp[i] / (1 - p)));
    }
    CHECK(worst < 1e-15);
    // Binomial(N, 0.7): standard deviation ≈ 205, so ±1500 is over 7σ.
    CHECK(std::abs(kept - int64_t(0.7 * N)) < 1500);

    dropout_forward(again.data(), inp.data(), N, p, 42);
    CHECK(again == out);
    dropout_forward(other.data(), inp.data(), N, p, 43);
    CHECK(other != out);

    SUBCASE("the mask does not depend on the thread count") {
        const int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        dropout_forward(again.data(), inp.data(), N, p, 42);
        omp_set_num_threads(3);
        dropout_forward(other.data(), inp.data(), N, p, 42);
        omp_set_num_threads(saved);
        CHECK(again == out);
        CHECK(other == out);
    }
    SUBCASE("backward matches finite differences") {
        const int64_t n = 50;
        auto x = random_values<double>(n, 11);
        const auto r = random_values<double>(n, 12);
        std::vector<double> y(n), d_x(n);
        const auto loss = [&] {
            dropout_forward(y.data(), x.data(), n, p, 7);
            return dot(y, r);
        };
        dropout_backward(d_x.data(), r.data(), n, p, 7);
        CHECK(relative_error(d_x, finite_difference(x, h, loss)) < fd_tolerance);
        std::vector<float> d32(n);
        dropout_backward(d32.data(), cast<float>(r).data(), n, p, 7);
        CHECK(relative_error(d32, d_x) < fp32_tolerance);
    }
    SUBCASE("p = 0 copies") {
        dropout_forward(again.data(), inp.data(), N, 0.0, 42);
        CHECK(again == inp);
    }
}
