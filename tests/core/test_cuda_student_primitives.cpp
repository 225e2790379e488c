// The CUDA backend's student primitives (core/backend/cuda_backend_api.h,
// API 2) against the CPU layers (core/students/layers/*) on the same
// random inputs, odd sizes included: bit for bit where the operations are
// the same (ReLU, dropout's mask, max pooling), to fp32 rounding where the
// summation order or erff/expf differ (GEMM, bias gradient, GELU,
// convolution). Host-only C++: device memory goes through the table's
// memory_alloc / copy, so this file builds without the CUDA toolkit.
//
// Without a device (or without the backend library) every case skips.
// This binary is not linked with libdistill.so, so the loader looks for
// libdistill_cuda.so.N next to the executable and on the library path;
// DISTILL_CUDA_BACKEND=<build>/lib/libdistill_cuda.so.N points it there.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include "backend/cuda_backend_loader.h"
#include "students/layers/blas.h"
#include "students/layers/conv2d.h"
#include "students/layers/dropout.h"
#include "students/layers/gelu.h"
#include "students/layers/maxpool2d.h"
#include "students/layers/relu.h"
#include "test_student_support.h"

namespace {

using student_test::random_values;
using student_test::relative_error;
using table = distill_cuda_backend_v1;

const float quiet_nan = std::numeric_limits<float>::quiet_NaN();
const float infinity = std::numeric_limits<float>::infinity();

// The backend, or null (with a skip message) when there is no device.
const table * backend_with_device() {
    try {
        (void)distill::cuda_backend();
    } catch (const std::exception & e) {  // not built, or not found (see the top)
        MESSAGE("no CUDA device: skipped (the CUDA backend did not load: ", std::string(e.what()),
                ")");
        return nullptr;
    }
    if (distill::cuda_device_count() == 0) {
        MESSAGE("no CUDA device: skipped");
        return nullptr;
    }
    return &distill::cuda_backend();
}

struct message_buffer {
    char text[512] = {};
};

void require_ok(int32_t status, const message_buffer & message) {
    REQUIRE_MESSAGE(status == 0, message.text);
}

// A session on device 0 and the legacy default stream.
class session_handle {
public:
    explicit session_handle(const table & backend) : backend_(backend) {
        message_buffer message;
        require_ok(backend.session_create(0, nullptr, &session_, message.text, sizeof message.text),
                   message);
    }
    ~session_handle() { backend_.session_destroy(session_); }
    session_handle(const session_handle &) = delete;
    session_handle & operator=(const session_handle &) = delete;

    void * get() const { return session_; }
    const table & backend() const { return backend_; }
    void synchronize() const {
        message_buffer message;
        require_ok(backend_.synchronize(session_, message.text, sizeof message.text), message);
    }

private:
    const table & backend_;
    void * session_ = nullptr;
};

// n values of T in the session's device memory.
template <class T>
class device_buffer {
public:
    device_buffer(const session_handle & session, size_t n) : session_(session), n_(n) {
        message_buffer message;
        require_ok(session.backend().memory_alloc(session.get(), n * sizeof(T), &data_,
                                                  message.text, sizeof message.text),
                   message);
    }
    device_buffer(const session_handle & session, const std::vector<T> & host)
        : device_buffer(session, host.size()) {
        upload(host);
    }
    ~device_buffer() { session_.backend().memory_free(session_.get(), data_); }
    device_buffer(const device_buffer &) = delete;
    device_buffer & operator=(const device_buffer &) = delete;

    T * get() const { return static_cast<T *>(data_); }
    void upload(const std::vector<T> & host) const {
        REQUIRE(host.size() == n_);
        message_buffer message;
        require_ok(session_.backend().copy(session_.get(), data_, host.data(), n_ * sizeof(T), 0,
                                           message.text, sizeof message.text),
                   message);
        // The source is pageable host memory that the caller may reuse.
        session_.synchronize();
    }
    std::vector<T> download() const {
        std::vector<T> host(n_);
        message_buffer message;
        require_ok(session_.backend().copy(session_.get(), host.data(), data_, n_ * sizeof(T), 1,
                                           message.text, sizeof message.text),
                   message);
        return host;
    }

private:
    const session_handle & session_;
    size_t n_;
    void * data_ = nullptr;
};

// Every entry NaN: a value the backend forgets to write shows up.
std::vector<float> poisoned(size_t n) { return std::vector<float>(n, quiet_nan); }

bool same_bits(const std::vector<float> & a, const std::vector<float> & b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

size_t index(int64_t i) { return static_cast<size_t>(i); }

}  // namespace

TEST_CASE("cuda student primitives: session_create on a missing device is an invalid argument") {
    const table * backend = nullptr;
    try {
        backend = &distill::cuda_backend();
    } catch (const std::exception & e) {
        MESSAGE("no CUDA backend: skipped (", std::string(e.what()), ")");
        return;
    }
    const int32_t devices = distill::cuda_device_count();
    void * session = nullptr;
    message_buffer message;
    CHECK(backend->session_create(devices, nullptr, &session, message.text, sizeof message.text) ==
          1);
    CHECK(session == nullptr);
    CHECK(std::string(message.text).find("device_id") != std::string::npos);
    CHECK(backend->gemm(nullptr, 0, 0, 1, 1, 1, 1.0f, nullptr, 1, nullptr, 1, 0.0f, nullptr, 1,
                        message.text, sizeof message.text) == 1);
    CHECK(std::string(message.text).find("session") != std::string::npos);
    backend->session_destroy(nullptr);
}

TEST_CASE("cuda student primitives: invalid arguments name the argument") {
    const table * backend = backend_with_device();
    if (backend == nullptr) return;
    const session_handle session(*backend);
    device_buffer<float> some(session, 16);
    message_buffer message;
    const auto fails_naming = [&](int32_t status, const char * argument) {
        INFO(message.text);
        CHECK(status == 1);
        CHECK(std::string(message.text).find(argument) != std::string::npos);
    };
    fails_naming(backend->gemm(session.get(), 0, 0, 2, 3, 4, 1.0f, some.get(), 3, some.get(), 3,
                               0.0f, some.get(), 3, message.text, sizeof message.text),
                 "lda");
    fails_naming(backend->gemm(session.get(), 2, 0, 2, 3, 4, 1.0f, some.get(), 4, some.get(), 3,
                               0.0f, some.get(), 3, message.text, sizeof message.text),
                 "trans_a");
    fails_naming(backend->bias_add(session.get(), some.get(), nullptr, 1, 2, 3, message.text,
                                   sizeof message.text),
                 "bias");
    fails_naming(backend->activation_forward(session.get(), 2, some.get(), some.get(), 4,
                                             message.text, sizeof message.text),
                 "activation");
    fails_naming(backend->dropout(session.get(), some.get(), some.get(), 4, 1.0, 7, message.text,
                                  sizeof message.text),
                 "p");
    fails_naming(backend->maxpool2d_forward(session.get(), some.get(), nullptr, some.get(), 1, 1, 4,
                                            4, message.text, sizeof message.text),
                 "argmax");
    const int64_t too_small[8] = {1, 1, 2, 2, 1, 5, 5, 1};  // OH = 2 + 2 - 5 + 1 = 0
    fails_naming(backend->conv2d_forward(session.get(), too_small, some.get(), some.get(),
                                         some.get(), some.get(), message.text, sizeof message.text),
                 "OH");
    const int64_t negative[8] = {1, -3, 4, 4, 1, 3, 3, 1};
    fails_naming(backend->conv2d_forward(session.get(), negative, some.get(), some.get(),
                                         some.get(), some.get(), message.text, sizeof message.text),
                 "dims[1] (C)");
    fails_naming(backend->copy(session.get(), some.get(), some.get(), 4, 3, message.text,
                               sizeof message.text),
                 "direction");
    // Size 0: nothing to do, NULL pointers allowed.
    CHECK(backend->gemm(session.get(), 0, 0, 0, 3, 4, 1.0f, nullptr, 4, nullptr, 3, 0.0f, nullptr,
                        3, message.text, sizeof message.text) == 0);
    CHECK(backend->activation_backward(session.get(), 1, nullptr, nullptr, nullptr, 0, message.text,
                                       sizeof message.text) == 0);
    CHECK(backend->dropout(session.get(), nullptr, nullptr, 0, 0.5, 1, message.text,
                           sizeof message.text) == 0);
}

TEST_CASE("cuda student primitives: gemm matches the CPU for every transpose and stride") {
    const table * backend = backend_with_device();
    if (backend == nullptr) return;
    const session_handle session(*backend);
    struct shape {
        int64_t m, n, k;
    };
    const shape shapes[] = {{5, 7, 3}, {1, 33, 17}, {64, 48, 70}, {3, 1, 129}, {4, 6, 0}};
    uint64_t seed = 1;
    for (const shape & s : shapes)
        for (int trans_a = 0; trans_a < 2; ++trans_a)
            for (int trans_b = 0; trans_b < 2; ++trans_b)
                for (const float beta : {0.0f, 0.5f}) {
                    // Leading dimensions larger than needed (odd padding).
                    const int64_t a_rows = trans_a ? s.k : s.m, a_cols = trans_a ? s.m : s.k;
                    const int64_t b_rows = trans_b ? s.n : s.k, b_cols = trans_b ? s.k : s.n;
                    const int64_t lda = a_cols + 3, ldb = b_cols + 2, ldc = s.n + 1;
                    const auto a = random_values<float>(index(a_rows * lda), seed++);
                    const auto b = random_values<float>(index(b_rows * ldb), seed++);
                    auto c = random_values<float>(index(s.m * ldc), seed++);
                    // beta = 0 must ignore C's old contents, NaN included.
                    if (beta == 0.0f) std::fill(c.begin(), c.end(), quiet_nan);
                    const float alpha = 1.25f;
                    INFO("m ", s.m, " n ", s.n, " k ", s.k, " trans_a ", trans_a, " trans_b ",
                         trans_b, " beta ", beta);
                    device_buffer<float> d_a(session, a), d_b(session, b), d_c(session, c);
                    message_buffer message;
                    require_ok(backend->gemm(session.get(), trans_a, trans_b, s.m, s.n, s.k, alpha,
                                             d_a.get(), lda, d_b.get(), ldb, beta, d_c.get(), ldc,
                                             message.text, sizeof message.text),
                               message);
                    std::vector<float> expected = c;
                    if (beta == 0.0f) std::fill(expected.begin(), expected.end(), 0.0f);
                    distill::layers::gemm(trans_a != 0, trans_b != 0, s.m, s.n, s.k, alpha,
                                          a.data(), lda, b.data(), ldb, beta, expected.data(), ldc);
                    const std::vector<float> got = d_c.download();
                    // Compare the m × n block only; the padding columns of C
                    // must be untouched.
                    std::vector<float> got_block, expected_block;
                    for (int64_t i = 0; i < s.m; ++i)
                        for (int64_t j = 0; j < ldc; ++j) {
                            const size_t at = index(i * ldc + j);
                            if (j < s.n) {
                                got_block.push_back(got[at]);
                                expected_block.push_back(expected[at]);
                            } else {
                                CHECK(same_bits({got[at]}, {c[at]}));
                            }
                        }
                    CHECK(relative_error(got_block, expected_block) < 1e-5);
                }
}

TEST_CASE("cuda student primitives: bias_add and bias_grad match the CPU") {
    const table * backend = backend_with_device();
    if (backend == nullptr) return;
    const session_handle session(*backend);
    struct shape {
        int64_t outer, channels, inner;
    };
    for (const shape s : {shape{3, 5, 7}, shape{33, 10, 1}, shape{2, 300, 49}, shape{0, 4, 9}}) {
        INFO("outer ", s.outer, " channels ", s.channels, " inner ", s.inner);
        const size_t total = index(s.outer * s.channels * s.inner);
        const auto values = random_values<float>(total, 11);
        const auto bias = random_values<float>(index(s.channels), 12);
        std::vector<float> added = values;
        std::vector<double> sums(index(s.channels), 0.0);
        for (int64_t o = 0; o < s.outer; ++o)
            for (int64_t c = 0; c < s.channels; ++c)
                for (int64_t i = 0; i < s.inner; ++i) {
                    const size_t at = index((o * s.channels + c) * s.inner + i);
                    added[at] = values[at] + bias[index(c)];
                    sums[index(c)] += values[at];
                }
        device_buffer<float> d_values(session, std::max<size_t>(total, 1));
        if (total > 0) d_values.upload(values);
        device_buffer<float> d_bias(session, bias);
        device_buffer<float> d_grad(session, poisoned(index(s.channels)));
        message_buffer message;
        require_ok(backend->bias_grad(session.get(), d_grad.get(), d_values.get(), s.outer,
                                      s.channels, s.inner, message.text, sizeof message.text),
                   message);
        require_ok(backend->bias_add(session.get(), d_values.get(), d_bias.get(), s.outer,
                                     s.channels, s.inner, message.text, sizeof message.text),
                   message);
        if (total > 0) CHECK(same_bits(d_values.download(), added));
        CHECK(relative_error(d_grad.download(), sums) < 1e-5);
    }
}

TEST_CASE("cuda student primitives: ReLU and GELU match the CPU") {
    const table * backend = backend_with_device();
    if (backend == nullptr) return;
    const session_handle session(*backend);
    const int64_t n = 10007;
    auto in = random_values<float>(index(n), 21, -5.0, 5.0);
    in[0] = 0.0f;
    in[1] = -0.0f;
    const auto d_out = random_values<float>(index(n), 22);
    device_buffer<float> d_in_values(session, in), d_grad_out(session, d_out);
    device_buffer<float> d_result(session, index(n));
    message_buffer message;
    const auto run = [&](int32_t activation, bool backward) {
        d_result.upload(poisoned(index(n)));
        const int32_t status =
            backward ? backend->activation_backward(session.get(), activation, d_result.get(),
                                                    d_grad_out.get(), d_in_values.get(), n,
                                                    message.text, sizeof message.text)
                     : backend->activation_forward(session.get(), activation, d_result.get(),
                                                   d_in_values.get(), n, message.text,
                                                   sizeof message.text);
        require_ok(status, message);
        return d_result.download();
    };
    std::vector<float> expected(index(n));
    distill::layers::relu_forward(expected.data(), in.data(), n);
    CHECK(same_bits(run(0, false), expected));
    distill::layers::relu_backward(expected.data(), d_out.data(), in.data(), n);
    CHECK(same_bits(run(0, true), expected));
    distill::layers::gelu_forward(expected.data(), in.data(), n);
    CHECK(relative_error(run(1, false), expected) < 1e-6);
    distill::layers::gelu_backward(expected.data(), d_out.data(), in.data(), n);
    CHECK(relative_error(run(1, true), expected) < 1e-6);

    SUBCASE("NaN and infinities as on the CPU") {
        const std::vector<float> special = {quiet_nan, infinity, -infinity, 0.0f, -0.0f, 1.0f};
        const auto m = static_cast<int64_t>(special.size());
        device_buffer<float> d_special(session, special), d_ones(session, std::vector<float>(6, 1));
        device_buffer<float> d_out_special(session, index(m));
        std::vector<float> cpu(index(m));
        require_ok(
            backend->activation_forward(session.get(), 0, d_out_special.get(), d_special.get(), m,
                                        message.text, sizeof message.text),
            message);
        distill::layers::relu_forward(cpu.data(), special.data(), m);
        CHECK(same_bits(d_out_special.download(), cpu));
        require_ok(
            backend->activation_backward(session.get(), 0, d_out_special.get(), d_ones.get(),
                                         d_special.get(), m, message.text, sizeof message.text),
            message);
        const std::vector<float> ones(6, 1.0f);
        distill::layers::relu_backward(cpu.data(), ones.data(), special.data(), m);
        CHECK(same_bits(d_out_special.download(), cpu));
    }
}

TEST_CASE("cuda student primitives: dropout reproduces the CPU's mask bit for bit") {
    const table * backend = backend_with_device();
    if (backend == nullptr) return;
    const session_handle session(*backend);
    const int64_t n = 100003;
    const auto in = random_values<float>(index(n), 31);
    device_buffer<float> d_in(session, in), d_out(session, index(n));
    for (const double p : {0.0, 0.1, 0.5, 0.9, 0.999})
        for (const uint64_t seed : {uint64_t{0}, uint64_t{42}, ~uint64_t{0}}) {
            INFO("p ", p, " seed ", seed);
            d_out.upload(poisoned(index(n)));
            message_buffer message;
            require_ok(backend->dropout(session.get(), d_out.get(), d_in.get(), n, p, seed,
                                        message.text, sizeof message.text),
                       message);
            std::vector<float> expected(index(n));
            distill::layers::dropout_forward(expected.data(), in.data(), n, p, seed);
            CHECK(same_bits(d_out.download(), expected));
        }
}

TEST_CASE("cuda student primitives: conv2d matches the CPU (3x3 and 5x5, padding 0 and 1)") {
    const table * backend = backend_with_device();
    if (backend == nullptr) return;
    const session_handle session(*backend);
    const distill::layers::conv2d_dims shapes[] = {
        {2, 3, 7, 6, 4, 3, 3, 1},
        {1, 2, 9, 8, 3, 5, 5, 1},
        {3, 1, 5, 5, 2, 3, 3, 0},
        {2, 4, 6, 7, 5, 5, 5, 2},
    };
    uint64_t seed = 40;
    for (const auto & d : shapes) {
        INFO("N ", d.N, " C ", d.C, " H ", d.H, " W ", d.W, " OC ", d.OC, " KH ", d.KH, " KW ",
             d.KW, " P ", d.P);
        const int64_t dims[8] = {d.N, d.C, d.H, d.W, d.OC, d.KH, d.KW, d.P};
        const size_t inputs = index(d.N * d.C * d.H * d.W);
        const size_t outputs = index(d.N * d.OC * d.out_height() * d.out_width());
        const size_t weights = index(d.OC * d.C * d.KH * d.KW);
        const auto in = random_values<float>(inputs, seed++);
        const auto weight = random_values<float>(weights, seed++);
        const auto bias = random_values<float>(index(d.OC), seed++);
        const auto d_out = random_values<float>(outputs, seed++);
        std::vector<float> workspace(index(distill::layers::conv2d_workspace_size(d)));

        std::vector<float> out(outputs);
        distill::layers::conv2d_forward(out.data(), workspace.data(), in.data(), weight.data(),
                                        bias.data(), d);
        std::vector<float> d_in(inputs), d_weight(weights), d_bias(index(d.OC));
        distill::layers::conv2d_backward(d_in.data(), d_weight.data(), d_bias.data(),
                                         workspace.data(), d_out.data(), in.data(), weight.data(),
                                         d);

        device_buffer<float> g_in(session, in), g_weight(session, weight), g_bias(session, bias);
        device_buffer<float> g_d_out(session, d_out), g_out(session, poisoned(outputs));
        device_buffer<float> g_d_in(session, poisoned(inputs));
        device_buffer<float> g_d_weight(session, poisoned(weights));
        device_buffer<float> g_d_bias(session, poisoned(index(d.OC)));
        message_buffer message;
        require_ok(
            backend->conv2d_forward(session.get(), dims, g_out.get(), g_in.get(), g_weight.get(),
                                    g_bias.get(), message.text, sizeof message.text),
            message);
        CHECK(relative_error(g_out.download(), out) < 1e-5);
        require_ok(backend->conv2d_backward(session.get(), dims, g_d_in.get(), g_d_weight.get(),
                                            g_d_bias.get(), g_d_out.get(), g_in.get(),
                                            g_weight.get(), message.text, sizeof message.text),
                   message);
        CHECK(relative_error(g_d_in.download(), d_in) < 1e-5);
        CHECK(relative_error(g_d_weight.download(), d_weight) < 1e-5);
        CHECK(relative_error(g_d_bias.download(), d_bias) < 1e-5);
        // Without d_in (the first layer): the same parameter gradients.
        g_d_weight.upload(poisoned(weights));
        require_ok(backend->conv2d_backward(session.get(), dims, nullptr, g_d_weight.get(),
                                            g_d_bias.get(), g_d_out.get(), g_in.get(), nullptr,
                                            message.text, sizeof message.text),
                   message);
        CHECK(relative_error(g_d_weight.download(), d_weight) < 1e-5);
    }
}

TEST_CASE("cuda student primitives: maxpool2d matches the CPU with ties, NaN and odd sizes") {
    const table * backend = backend_with_device();
    if (backend == nullptr) return;
    const session_handle session(*backend);
    const int64_t N = 2, C = 3, H = 7, W = 9, OH = H / 2, OW = W / 2;
    // Few distinct values: many ties inside the windows.
    auto in = random_values<float>(index(N * C * H * W), 51, 0.0, 3.0);
    for (float & v : in) v = std::floor(v);
    in[10] = quiet_nan;
    in[11] = quiet_nan;
    in[40] = -infinity;
    const auto d_out = random_values<float>(index(N * C * OH * OW), 52);

    std::vector<float> out(index(N * C * OH * OW)), d_in(in.size());
    std::vector<int32_t> argmax(out.size());
    distill::layers::maxpool2d_forward(out.data(), argmax.data(), in.data(), N, C, H, W);
    distill::layers::maxpool2d_backward(d_in.data(), d_out.data(), argmax.data(), N, C, H, W);

    device_buffer<float> g_in(session, in), g_out(session, poisoned(out.size()));
    device_buffer<int32_t> g_argmax(session, std::vector<int32_t>(out.size(), -1));
    device_buffer<float> g_d_out(session, d_out), g_d_in(session, poisoned(in.size()));
    message_buffer message;
    require_ok(backend->maxpool2d_forward(session.get(), g_out.get(), g_argmax.get(), g_in.get(), N,
                                          C, H, W, message.text, sizeof message.text),
               message);
    CHECK(same_bits(g_out.download(), out));
    CHECK(g_argmax.download() == argmax);
    require_ok(
        backend->maxpool2d_backward(session.get(), g_d_in.get(), g_d_out.get(), g_argmax.get(), N,
                                    C, H, W, message.text, sizeof message.text),
        message);
    CHECK(same_bits(g_d_in.download(), d_in));
}
