// The image layers of the built-in students (core/students/layers): conv2d
// (im2col + GEMM) against a direct convolution and fp64 finite
// differences, maxpool2d against hand-worked windows; fp32 against fp64.
#include <doctest/doctest.h>

#include "common/openmp.h"

#include <cmath>
#include <limits>
#include <vector>

#include "students/layers/conv2d.h"
#include "students/layers/maxpool2d.h"
#include "test_student_support.h"

using namespace distill::layers;
using namespace student_test;

namespace {

constexpr double h = 1e-5;

// out[n, oc, oh, ow] = bias[oc] + Σ inp[n, c, oh + kh − P, ow + kw − P] · weight[oc, c, kh, kw]
std::vector<double> direct_convolution(const std::vector<double> & inp,
                                       const std::vector<double> & weight,
                                       const std::vector<double> & bias, const conv2d_dims & d) {
    const int64_t OH = d.out_height(), OW = d.out_width();
    std::vector<double> out(d.N * d.OC * OH * OW);
    for (int64_t n = 0; n < d.N; ++n)
        for (int64_t oc = 0; oc < d.OC; ++oc)
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    double sum = bias[oc];
                    for (int64_t c = 0; c < d.C; ++c)
                        for (int64_t kh = 0; kh < d.KH; ++kh)
                            for (int64_t kw = 0; kw < d.KW; ++kw) {
                                const int64_t y = oh + kh - d.P, x = ow + kw - d.P;
                                if (y < 0 || y >= d.H || x < 0 || x >= d.W) continue;
                                sum += inp[((n * d.C + c) * d.H + y) * d.W + x] *
                                       weight[((oc * d.C + c) * d.KH + kh) * d.KW + kw];
                            }
                    out[((n * d.OC + oc) * OH + oh) * OW + ow] = sum;
                }
    return out;
}

}  // namespace

TEST_CASE("conv2d: forward is the direct convolution; backward matches finite differences") {
    // A non-square image and kernel, padding on, several images and channels.
    conv2d_dims d{};
    d.N = 2, d.C = 3, d.H = 6, d.W = 5, d.OC = 4, d.KH = 3, d.KW = 2, d.P = 1;
    const int64_t OUT = d.N * d.OC * d.out_height() * d.out_width();
    auto inp = random_values<double>(d.N * d.C * d.H * d.W, 21);
    auto weight = random_values<double>(d.OC * d.C * d.KH * d.KW, 22);
    auto bias = random_values<double>(d.OC, 23);
    const auto r = random_values<double>(OUT, 24);
    std::vector<double> out(OUT), workspace(conv2d_workspace_size(d));
    const auto loss = [&] {
        conv2d_forward(out.data(), workspace.data(), inp.data(), weight.data(), bias.data(), d);
        return dot(out, r);
    };
    loss();
    CHECK(relative_error(out, direct_convolution(inp, weight, bias, d)) < 1e-14);

    std::vector<double> d_inp(inp.size(), 99.0), d_weight(weight.size()), d_bias(d.OC);
    conv2d_backward(d_inp.data(), d_weight.data(), d_bias.data(), workspace.data(), r.data(),
                    inp.data(), weight.data(), d);
    CHECK(relative_error(d_inp, finite_difference(inp, h, loss)) < 1e-6);
    CHECK(relative_error(d_weight, finite_difference(weight, h, loss)) < 1e-6);
    CHECK(relative_error(d_bias, finite_difference(bias, h, loss)) < 1e-6);

    SUBCASE("fp32 matches fp64") {
        const auto inp32 = cast<float>(inp), weight32 = cast<float>(weight);
        const auto bias32 = cast<float>(bias), r32 = cast<float>(r);
        std::vector<float> out32(OUT), ws32(workspace.size()), d_inp32(inp.size());
        std::vector<float> d_weight32(weight.size()), d_bias32(d.OC);
        conv2d_forward(out32.data(), ws32.data(), inp32.data(), weight32.data(), bias32.data(), d);
        conv2d_backward(d_inp32.data(), d_weight32.data(), d_bias32.data(), ws32.data(), r32.data(),
                        inp32.data(), weight32.data(), d);
        CHECK(relative_error(out32, out) < 1e-5);
        CHECK(relative_error(d_inp32, d_inp) < 1e-5);
        CHECK(relative_error(d_weight32, d_weight) < 1e-5);
        CHECK(relative_error(d_bias32, d_bias) < 1e-5);
    }
    SUBCASE("d_inp = null skips the input gradient only") {
        std::vector<double> d_weight2(weight.size()), d_bias2(d.OC);
        conv2d_backward<double>(nullptr, d_weight2.data(), d_bias2.data(), workspace.data(),
                                r.data(), inp.data(), weight.data(), d);
        CHECK(d_weight2 == d_weight);
        CHECK(d_bias2 == d_bias);
    }
}

TEST_CASE("conv2d: results do not depend on the OpenMP thread count") {
    conv2d_dims d{};
    d.N = 16, d.C = 4, d.H = 16, d.W = 16, d.OC = 8, d.KH = 3, d.KW = 3, d.P = 1;
    const int64_t OUT = d.N * d.OC * d.H * d.W;  // past the threading threshold
    const auto inp = random_values<float>(d.N * d.C * d.H * d.W, 25);
    const auto weight = random_values<float>(d.OC * d.C * 9, 26);
    const auto bias = random_values<float>(d.OC, 27), d_out = random_values<float>(OUT, 28);
    std::vector<float> workspace(conv2d_workspace_size(d));
    const auto run = [&](int threads) {
        const int saved = omp_get_max_threads();
        omp_set_num_threads(threads);
        std::vector<float> out(OUT), d_inp(inp.size()), d_weight(weight.size()), d_bias(d.OC);
        conv2d_forward(out.data(), workspace.data(), inp.data(), weight.data(), bias.data(), d);
        conv2d_backward(d_inp.data(), d_weight.data(), d_bias.data(), workspace.data(),
                        d_out.data(), inp.data(), weight.data(), d);
        omp_set_num_threads(saved);
        return std::vector<std::vector<float>>{out, d_inp, d_weight, d_bias};
    };
    CHECK(run(1) == run(3));
}

TEST_CASE("conv2d: a 1x1 kernel without padding is a per-pixel matrix product") {
    conv2d_dims d{};
    d.N = 1, d.C = 2, d.H = 2, d.W = 2, d.OC = 1, d.KH = 1, d.KW = 1, d.P = 0;
    const std::vector<double> inp = {1, 2, 3, 4, 10, 20, 30, 40}, weight = {2, -1}, bias = {0.5};
    std::vector<double> out(4), workspace(conv2d_workspace_size(d));
    conv2d_forward(out.data(), workspace.data(), inp.data(), weight.data(), bias.data(), d);
    CHECK(out == std::vector<double>{-7.5, -15.5, -23.5, -31.5});
}

TEST_CASE("maxpool2d: picks each window's largest value and routes the gradient to it") {
    // One 4 x 5 plane: the last column is dropped (floor mode).
    const std::vector<double> inp = {
        1, 5, 2, 2, 9,  //
        3, 4, 2, 1, 9,  //
        0, 0, 7, 8, 9,  //
        6, 0, 8, 8, 9,  //
    };
    std::vector<double> out(4), d_inp(20, 99.0);
    std::vector<int32_t> argmax(4);
    maxpool2d_forward(out.data(), argmax.data(), inp.data(), 1, 1, 4, 5);
    CHECK(out == std::vector<double>{5, 2, 6, 8});
    // Ties go to the first in row order: 2 at (0, 2), 8 at (2, 3).
    CHECK(argmax == std::vector<int32_t>{1, 2, 15, 13});
    const std::vector<double> d_out = {0.1, 0.2, 0.3, 0.4};
    maxpool2d_backward(d_inp.data(), d_out.data(), argmax.data(), 1, 1, 4, 5);
    std::vector<double> expected(20, 0.0);
    expected[1] = 0.1, expected[2] = 0.2, expected[15] = 0.3, expected[13] = 0.4;
    CHECK(d_inp == expected);

    SUBCASE("a NaN in a window wins, as in PyTorch") {
        std::vector<double> with_nan = inp;
        with_nan[6] = std::numeric_limits<double>::quiet_NaN();
        maxpool2d_forward(out.data(), argmax.data(), with_nan.data(), 1, 1, 4, 5);
        CHECK(std::isnan(out[0]));
        CHECK(argmax[0] == 6);
    }
}

TEST_CASE("maxpool2d: backward matches finite differences; fp32 matches fp64") {
    const int64_t N = 2, C = 3, H = 6, W = 7;
    auto inp = random_values<double>(N * C * H * W, 31);
    const auto r = random_values<double>(N * C * (H / 2) * (W / 2), 32);
    std::vector<double> out(r.size()), d_inp(inp.size());
    std::vector<int32_t> argmax(r.size());
    const auto loss = [&] {
        maxpool2d_forward(out.data(), argmax.data(), inp.data(), N, C, H, W);
        return dot(out, r);
    };
    loss();
    maxpool2d_backward(d_inp.data(), r.data(), argmax.data(), N, C, H, W);
    CHECK(relative_error(d_inp, finite_difference(inp, h, loss)) < 1e-6);

    std::vector<float> out32(r.size()), d_inp32(inp.size());
    std::vector<int32_t> argmax32(r.size());
    maxpool2d_forward(out32.data(), argmax32.data(), cast<float>(inp).data(), N, C, H, W);
    maxpool2d_backward(d_inp32.data(), cast<float>(r).data(), argmax32.data(), N, C, H, W);
    CHECK(relative_error(out32, out) < 1e-6);
    CHECK(relative_error(d_inp32, d_inp) < 1e-6);
}
