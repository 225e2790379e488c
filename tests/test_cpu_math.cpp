// The CPU kernels' own exp and log (core/kernels/cpu/cpu_math.h) against
// libm in fp64: relative error within a few ulp over the ranges the
// kernels use, and the special values.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>

#include "kernels/cpu/cpu_math.h"

using distill::kernels::cpu::isa_generic::fast_exp;
using distill::kernels::cpu::isa_generic::fast_log;

namespace {
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr double max_relative_error = 4e-7;  // ≈ 3.4 ulp of fp32
}  // namespace

TEST_CASE("fast_exp matches exp over (-87, 0] and its special values") {
    double worst = 0.0;
    for (int i = 0; i <= 200000; ++i) {
        const float x = -87.0f * static_cast<float>(i) / 200000.0f;
        const double exact = std::exp(static_cast<double>(x));
        worst = std::max(worst, std::fabs(fast_exp(x) - exact) / exact);
    }
    CHECK(worst < max_relative_error);
    CHECK(fast_exp(0.0f) == 1.0f);
    CHECK(fast_exp(-inf) == 0.0f);
    CHECK(fast_exp(-100.0f) == 0.0f);  // flushed below the smallest normal
    CHECK(std::isnan(fast_exp(std::nanf(""))));
    CHECK(fast_exp(inf) == inf);
}

TEST_CASE("fast_log matches log from subnormals to huge values, and its special values") {
    double worst = 0.0;
    for (int i = 0; i <= 200000; ++i) {
        // x from 2^-140 to 2^100, including values near 1 where log is small.
        const double t = -140.0 + 240.0 * i / 200000.0;
        const float x = static_cast<float>(std::exp2(t));
        const double exact = std::log(static_cast<double>(x));
        const double error = std::fabs(fast_log(x) - exact);
        worst = std::max(worst, error / std::max(std::fabs(exact), 1e-30));
    }
    CHECK(worst < max_relative_error);
    for (float x : {0.999f, 1.0001f, 1.5f, 0.7071f}) {
        INFO("x = ", x);
        CHECK(std::fabs(fast_log(x) - std::log(double(x))) <=
              max_relative_error * std::fabs(std::log(double(x))));
    }
    CHECK(fast_log(1.0f) == 0.0f);
    CHECK(fast_log(0.0f) == -inf);
    CHECK(fast_log(inf) == inf);
    CHECK(std::isnan(fast_log(-1.0f)));
    CHECK(std::isnan(fast_log(std::nanf(""))));
}
