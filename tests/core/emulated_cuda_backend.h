// A test double of the CUDA backend (backend/cuda_backend_api.h): a full
// distill_cuda_backend_v1 table whose "device memory" is host memory and
// whose student primitives are plain, obviously-correct loops written from
// the table's contract alone: a triple-loop GEMM that honours the row-major,
// transpose and leading-dimension rules, a direct convolution, attention
// as a plain softmax over each row's keys, and so on.
// None of them calls core/students/layers or core/lm, so a test that runs a model
// through this table cross-checks the layers rather than repeating them.
// The loss entries run the CPU kernels (the loss has its own tests).
//
// What it checks on the way, as a real device would fail on it: every
// pointer a primitive reads or writes lies inside a live allocation (a host
// pointer passed as a device one is an error), the session is live, and the
// GEMM's leading dimensions fit. New allocations are filled with NaN, so
// an output a caller forgets to write shows up.
//
// For the tests: the number of live allocations and sessions (nothing may
// leak), and failure injection (the n-th memory_alloc from now, or the next
// call of a named entry, fails with a given status and message).
//
// One backend per process (the table holds plain function pointers): a
// test makes an emulated_cuda_backend, which resets the state, and keeps it
// alive while anything uses the table. Not thread-safe.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "backend/context.h"
#include "common/error.h"
#include "backend/cuda_backend_api.h"
#include "kernels/cpu/kd_loss_cpu.h"
#include "losses/kd_loss_validation.h"
#include "students/layers/dropout.h"

namespace emulated_cuda {

struct injected_failure {
    std::string entry;  // "memory_alloc", "gemm", ... ("" = none)
    int64_t calls_to_skip = 0;
    int32_t code = 0;
    std::string message;
};

struct backend_state {
    std::map<const char *, size_t, std::less<>> allocations;  // base → bytes
    std::set<void *> sessions;
    int64_t allocations_made = 0;
    injected_failure failure;
};

inline backend_state & state() {
    static backend_state s;
    return s;
}

inline int32_t report(char * error, size_t capacity, int32_t code, const std::string & message) {
    if (error != nullptr && capacity > 0) {
        const size_t n = std::min(capacity - 1, message.size());
        std::memcpy(error, message.data(), n);
        error[n] = '\0';
    }
    return code;
}

// The injected failure, when `entry` is the one named and its turn came.
inline int32_t injected(const char * entry, char * error, size_t capacity) {
    injected_failure & f = state().failure;
    if (f.entry != entry) return 0;
    if (f.calls_to_skip-- > 0) return 0;
    const injected_failure fired = f;
    f = injected_failure{};
    return report(error, capacity, fired.code, fired.message);
}

// Whether [pointer, pointer + bytes) lies inside one live allocation.
inline bool on_device(const void * pointer, size_t bytes) {
    const auto * p = static_cast<const char *>(pointer);
    if (bytes == 0) return true;
    if (p == nullptr) return false;
    auto it = state().allocations.upper_bound(p);
    if (it == state().allocations.begin()) return false;
    --it;
    return p + bytes <= it->first + it->second;
}

// A failed check as a status 1 return (as the backend refuses bad arguments).
#define EMULATED_REQUIRE(condition, what)                                             \
    do {                                                                              \
        if (!(condition)) return report(error, error_capacity, 1, std::string(what)); \
    } while (0)
#define EMULATED_DEVICE(pointer, count, type, name)                    \
    EMULATED_REQUIRE(on_device(pointer, size_t(count) * sizeof(type)), \
                     std::string(name) + ": not device memory of the session")
#define EMULATED_ENTER(entry, session)                                              \
    do {                                                                            \
        if (int32_t failed = injected(entry, error, error_capacity)) return failed; \
        EMULATED_REQUIRE(state().sessions.count(session) == 1,                      \
                         std::string(entry) + ": not a live session");              \
    } while (0)

// ---- devices, sessions, memory --------------------------------------------------------

inline int32_t device_count(int32_t * out, char *, size_t) {
    *out = 1;
    return 0;
}

inline int32_t session_create(int32_t device_id, void *, void ** out, char * error,
                              size_t error_capacity) {
    if (int32_t failed = injected("session_create", error, error_capacity)) return failed;
    EMULATED_REQUIRE(device_id == 0, "session_create: device " + std::to_string(device_id) +
                                         " does not exist (1 emulated device)");
    *out = new int(device_id);
    state().sessions.insert(*out);
    return 0;
}

inline void session_destroy(void * session) {
    if (session == nullptr) return;
    state().sessions.erase(session);
    delete static_cast<int *>(session);
}

inline int32_t memory_alloc(void * session, size_t bytes, void ** out, char * error,
                            size_t error_capacity) {
    EMULATED_ENTER("memory_alloc", session);
    *out = nullptr;
    if (bytes == 0) return 0;
    const size_t floats = (bytes + sizeof(float) - 1) / sizeof(float);
    auto * memory = new float[floats];
    std::fill(memory, memory + floats, std::numeric_limits<float>::quiet_NaN());
    state().allocations[reinterpret_cast<const char *>(memory)] = bytes;
    ++state().allocations_made;
    *out = memory;
    return 0;
}

inline void memory_free(void *, void * pointer) {
    if (pointer == nullptr) return;
    state().allocations.erase(static_cast<const char *>(pointer));
    delete[] static_cast<float *>(pointer);
}

inline int32_t copy(void * session, void * destination, const void * source, size_t bytes,
                    int32_t direction, char * error, size_t error_capacity) {
    EMULATED_ENTER("copy", session);
    EMULATED_REQUIRE(direction >= 0 && direction <= 2, "copy: direction must be 0, 1 or 2");
    EMULATED_REQUIRE(direction == 1 || on_device(destination, bytes),
                     "copy: destination is not device memory");
    EMULATED_REQUIRE(direction == 0 || on_device(source, bytes),
                     "copy: source is not device memory");
    EMULATED_REQUIRE(direction != 0 || !on_device(source, 1), "copy: source is device memory");
    EMULATED_REQUIRE(direction != 1 || !on_device(destination, 1),
                     "copy: destination is device memory");
    if (bytes > 0) std::memmove(destination, source, bytes);
    return 0;
}

inline int32_t synchronize(void * session, char * error, size_t error_capacity) {
    EMULATED_ENTER("synchronize", session);
    return 0;
}

// ---- dense algebra --------------------------------------------------------------------

// C[m, n] = alpha · op(A) · op(B) + beta · C, row-major, accumulated in fp64.
inline int32_t gemm(void * session, int32_t trans_a, int32_t trans_b, int64_t m, int64_t n,
                    int64_t k, float alpha, const float * a, int64_t lda, const float * b,
                    int64_t ldb, float beta, float * c, int64_t ldc, char * error,
                    size_t error_capacity) {
    EMULATED_ENTER("gemm", session);
    EMULATED_REQUIRE(m >= 0 && n >= 0 && k >= 0, "gemm: negative size");
    if (m == 0 || n == 0) return 0;
    EMULATED_REQUIRE(lda >= std::max<int64_t>(1, trans_a ? m : k), "gemm: lda too small");
    EMULATED_REQUIRE(ldb >= std::max<int64_t>(1, trans_b ? k : n), "gemm: ldb too small");
    EMULATED_REQUIRE(ldc >= n, "gemm: ldc too small");
    if (k > 0) {
        EMULATED_DEVICE(a, (trans_a ? (k - 1) * lda + m : (m - 1) * lda + k), float, "gemm: a");
        EMULATED_DEVICE(b, (trans_b ? (n - 1) * ldb + k : (k - 1) * ldb + n), float, "gemm: b");
    }
    EMULATED_DEVICE(c, (m - 1) * ldc + n, float, "gemm: c");
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double sum = 0.0;
            for (int64_t p = 0; p < k; ++p) {
                const float a_ip = trans_a ? a[p * lda + i] : a[i * lda + p];
                const float b_pj = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                sum += double(a_ip) * double(b_pj);
            }
            float & out = c[i * ldc + j];
            out = float(double(alpha) * sum + (beta == 0.0f ? 0.0 : double(beta) * double(out)));
        }
    return 0;
}

inline int32_t bias_add(void * session, float * values, const float * bias, int64_t outer,
                        int64_t channels, int64_t inner, char * error, size_t error_capacity) {
    EMULATED_ENTER("bias_add", session);
    EMULATED_DEVICE(values, outer * channels * inner, float, "bias_add: values");
    EMULATED_DEVICE(bias, channels, float, "bias_add: bias");
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t ch = 0; ch < channels; ++ch)
            for (int64_t i = 0; i < inner; ++i) values[(o * channels + ch) * inner + i] += bias[ch];
    return 0;
}

inline int32_t bias_grad(void * session, float * d_bias, const float * d_values, int64_t outer,
                         int64_t channels, int64_t inner, char * error, size_t error_capacity) {
    EMULATED_ENTER("bias_grad", session);
    EMULATED_DEVICE(d_values, outer * channels * inner, float, "bias_grad: d_values");
    EMULATED_DEVICE(d_bias, channels, float, "bias_grad: d_bias");
    for (int64_t ch = 0; ch < channels; ++ch) {
        double sum = 0.0;
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t i = 0; i < inner; ++i) sum += d_values[(o * channels + ch) * inner + i];
        d_bias[ch] = float(sum);
    }
    return 0;
}

// ---- elementwise ----------------------------------------------------------------------

inline int32_t activation_forward(void * session, int32_t activation, float * out, const float * in,
                                  int64_t n, char * error, size_t error_capacity) {
    EMULATED_ENTER("activation_forward", session);
    EMULATED_REQUIRE(activation == 0 || activation == 1, "activation: expected 0 or 1");
    EMULATED_DEVICE(in, n, float, "activation_forward: in");
    EMULATED_DEVICE(out, n, float, "activation_forward: out");
    for (int64_t i = 0; i < n; ++i) {
        const double x = in[i];
        out[i] = float(activation == 0 ? (x < 0.0 ? 0.0 : x)  // relu: a NaN stays NaN
                                       : 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))));
    }
    return 0;
}

inline int32_t activation_backward(void * session, int32_t activation, float * d_in,
                                   const float * d_out, const float * in, int64_t n, char * error,
                                   size_t error_capacity) {
    EMULATED_ENTER("activation_backward", session);
    EMULATED_REQUIRE(activation == 0 || activation == 1, "activation: expected 0 or 1");
    EMULATED_DEVICE(in, n, float, "activation_backward: in");
    EMULATED_DEVICE(d_out, n, float, "activation_backward: d_out");
    EMULATED_DEVICE(d_in, n, float, "activation_backward: d_in");
    const double pi = 3.14159265358979323846;
    for (int64_t i = 0; i < n; ++i) {
        const double x = in[i];
        double slope = x <= 0.0 ? 0.0 : 1.0;  // relu: a NaN passes d_out
        if (activation == 1)                  // Φ(x) + x·φ(x)
            slope = 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))) +
                    x * std::exp(-0.5 * x * x) / std::sqrt(2.0 * pi);
        d_in[i] = float(double(d_out[i]) * slope);
    }
    return 0;
}

// The mask is the contract's: layers::dropout_keeps with dropout_threshold(p).
inline int32_t dropout(void * session, float * out, const float * in, int64_t n, double p,
                       uint64_t seed, char * error, size_t error_capacity) {
    EMULATED_ENTER("dropout", session);
    EMULATED_REQUIRE(p >= 0.0 && p < 1.0, "dropout: p must be in [0, 1)");
    EMULATED_DEVICE(in, n, float, "dropout: in");
    EMULATED_DEVICE(out, n, float, "dropout: out");
    const uint64_t threshold = distill::layers::dropout_threshold(p);
    const float scale = float(1.0 / (1.0 - p));
    for (int64_t i = 0; i < n; ++i)
        out[i] = distill::layers::dropout_keeps(seed, i, threshold) ? in[i] * scale : 0.0f;
    return 0;
}

// ---- convolution and pooling ----------------------------------------------------------

// dims {N, C, H, W, OC, KH, KW, P}; direct loops, fp64 sums.
inline int32_t conv2d_forward(void * session, const int64_t dims[8], float * out, const float * in,
                              const float * weight, const float * bias, char * error,
                              size_t error_capacity) {
    EMULATED_ENTER("conv2d_forward", session);
    const int64_t N = dims[0], C = dims[1], H = dims[2], W = dims[3], OC = dims[4], KH = dims[5],
                  KW = dims[6], P = dims[7], OH = H + 2 * P - KH + 1, OW = W + 2 * P - KW + 1;
    EMULATED_REQUIRE(OH > 0 && OW > 0, "conv2d: empty output");
    EMULATED_DEVICE(in, N * C * H * W, float, "conv2d_forward: in");
    EMULATED_DEVICE(weight, OC * C * KH * KW, float, "conv2d_forward: weight");
    EMULATED_DEVICE(bias, OC, float, "conv2d_forward: bias");
    EMULATED_DEVICE(out, N * OC * OH * OW, float, "conv2d_forward: out");
    for (int64_t n = 0; n < N; ++n)
        for (int64_t oc = 0; oc < OC; ++oc)
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    double sum = bias[oc];
                    for (int64_t c = 0; c < C; ++c)
                        for (int64_t kh = 0; kh < KH; ++kh)
                            for (int64_t kw = 0; kw < KW; ++kw) {
                                const int64_t h = oh + kh - P, w = ow + kw - P;
                                if (h < 0 || h >= H || w < 0 || w >= W) continue;
                                sum += double(in[((n * C + c) * H + h) * W + w]) *
                                       double(weight[((oc * C + c) * KH + kh) * KW + kw]);
                            }
                    out[((n * OC + oc) * OH + oh) * OW + ow] = float(sum);
                }
    return 0;
}

inline int32_t conv2d_backward(void * session, const int64_t dims[8], float * d_in,
                               float * d_weight, float * d_bias, const float * d_out,
                               const float * in, const float * weight, char * error,
                               size_t error_capacity) {
    EMULATED_ENTER("conv2d_backward", session);
    const int64_t N = dims[0], C = dims[1], H = dims[2], W = dims[3], OC = dims[4], KH = dims[5],
                  KW = dims[6], P = dims[7], OH = H + 2 * P - KH + 1, OW = W + 2 * P - KW + 1;
    EMULATED_DEVICE(in, N * C * H * W, float, "conv2d_backward: in");
    EMULATED_DEVICE(weight, OC * C * KH * KW, float, "conv2d_backward: weight");
    EMULATED_DEVICE(d_out, N * OC * OH * OW, float, "conv2d_backward: d_out");
    EMULATED_DEVICE(d_weight, OC * C * KH * KW, float, "conv2d_backward: d_weight");
    EMULATED_DEVICE(d_bias, OC, float, "conv2d_backward: d_bias");
    if (d_in != nullptr) EMULATED_DEVICE(d_in, N * C * H * W, float, "conv2d_backward: d_in");
    std::vector<double> dw(size_t(OC * C * KH * KW), 0.0), db(size_t(OC), 0.0),
        di(size_t(N * C * H * W), 0.0);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t oc = 0; oc < OC; ++oc)
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    const double g = d_out[((n * OC + oc) * OH + oh) * OW + ow];
                    db[size_t(oc)] += g;
                    for (int64_t c = 0; c < C; ++c)
                        for (int64_t kh = 0; kh < KH; ++kh)
                            for (int64_t kw = 0; kw < KW; ++kw) {
                                const int64_t h = oh + kh - P, w = ow + kw - P;
                                if (h < 0 || h >= H || w < 0 || w >= W) continue;
                                const size_t wi = size_t(((oc * C + c) * KH + kh) * KW + kw);
                                const size_t ii = size_t(((n * C + c) * H + h) * W + w);
                                dw[wi] += g * double(in[ii]);
                                di[ii] += g * double(weight[wi]);
                            }
                }
    for (size_t i = 0; i < dw.size(); ++i) d_weight[i] = float(dw[i]);
    for (size_t i = 0; i < db.size(); ++i) d_bias[i] = float(db[i]);
    if (d_in != nullptr)
        for (size_t i = 0; i < di.size(); ++i) d_in[i] = float(di[i]);
    return 0;
}

inline int32_t maxpool2d_forward(void * session, float * out, int32_t * argmax, const float * in,
                                 int64_t N, int64_t C, int64_t H, int64_t W, char * error,
                                 size_t error_capacity) {
    EMULATED_ENTER("maxpool2d_forward", session);
    const int64_t OH = H / 2, OW = W / 2;
    EMULATED_DEVICE(in, N * C * H * W, float, "maxpool2d_forward: in");
    EMULATED_DEVICE(out, N * C * OH * OW, float, "maxpool2d_forward: out");
    EMULATED_DEVICE(argmax, N * C * OH * OW, int32_t, "maxpool2d_forward: argmax");
    for (int64_t plane = 0; plane < N * C; ++plane)
        for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow) {
                const float * x = in + plane * H * W;
                int64_t best = 2 * oh * W + 2 * ow;
                for (int64_t candidate : {best + 1, best + W, best + W + 1})
                    if (!std::isnan(x[best]) &&
                        (std::isnan(x[candidate]) || x[candidate] > x[best]))
                        best = candidate;
                const int64_t o = (plane * OH + oh) * OW + ow;
                out[o] = x[best];
                argmax[o] = int32_t(best);
            }
    return 0;
}

inline int32_t maxpool2d_backward(void * session, float * d_in, const float * d_out,
                                  const int32_t * argmax, int64_t N, int64_t C, int64_t H,
                                  int64_t W, char * error, size_t error_capacity) {
    EMULATED_ENTER("maxpool2d_backward", session);
    const int64_t OH = H / 2, OW = W / 2;
    EMULATED_DEVICE(d_in, N * C * H * W, float, "maxpool2d_backward: d_in");
    EMULATED_DEVICE(d_out, N * C * OH * OW, float, "maxpool2d_backward: d_out");
    EMULATED_DEVICE(argmax, N * C * OH * OW, int32_t, "maxpool2d_backward: argmax");
    std::fill(d_in, d_in + N * C * H * W, 0.0f);
    for (int64_t plane = 0; plane < N * C; ++plane)
        for (int64_t o = 0; o < OH * OW; ++o)
            d_in[plane * H * W + argmax[plane * OH * OW + o]] += d_out[plane * OH * OW + o];
    return 0;
}

// ---- the transformer primitives (API 3): plain loops, fp64 sums -----------------------

inline int32_t fill(void * session, float * values, float value, int64_t n, char * error,
                    size_t error_capacity) {
    EMULATED_ENTER("fill", session);
    EMULATED_DEVICE(values, n, float, "fill: values");
    std::fill(values, values + n, value);
    return 0;
}

inline int32_t embedding_forward(void * session, float * out, const int32_t * tokens,
                                 const float * table, int64_t N, int64_t C, int64_t V, char * error,
                                 size_t error_capacity) {
    EMULATED_ENTER("embedding_forward", session);
    EMULATED_DEVICE(out, N * C, float, "embedding_forward: out");
    EMULATED_DEVICE(tokens, N, int32_t, "embedding_forward: tokens");
    EMULATED_DEVICE(table, V * C, float, "embedding_forward: table");
    for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
            out[n * C + c] = tokens[n] >= 0 && tokens[n] < V
                                 ? table[int64_t(tokens[n]) * C + c]
                                 : std::numeric_limits<float>::quiet_NaN();
    return 0;
}

// Checks the contract's rule on `order` (a permutation of the positions,
// each id's positions consecutive), then adds in position order.
inline int32_t embedding_backward(void * session, float * d_table, const float * d_out,
                                  const int32_t * tokens, const int32_t * order, int64_t N,
                                  int64_t C, int64_t V, char * error, size_t error_capacity) {
    EMULATED_ENTER("embedding_backward", session);
    EMULATED_DEVICE(d_table, V * C, float, "embedding_backward: d_table");
    EMULATED_DEVICE(d_out, N * C, float, "embedding_backward: d_out");
    EMULATED_DEVICE(tokens, N, int32_t, "embedding_backward: tokens");
    EMULATED_DEVICE(order, N, int32_t, "embedding_backward: order");
    std::vector<bool> seen(size_t(N), false);
    std::set<int32_t> finished;  // ids whose run has ended
    for (int64_t s = 0; s < N; ++s) {
        EMULATED_REQUIRE(order[s] >= 0 && order[s] < N && !seen[size_t(order[s])],
                         "embedding_backward: order is not a permutation of the positions");
        seen[size_t(order[s])] = true;
        const int32_t id = tokens[order[s]];
        EMULATED_REQUIRE(finished.count(id) == 0,
                         "embedding_backward: order does not group the positions by id");
        if (s + 1 < N && tokens[order[s + 1]] != id) finished.insert(id);
    }
    for (int64_t n = 0; n < N; ++n) {
        if (tokens[n] < 0 || tokens[n] >= V) continue;
        for (int64_t c = 0; c < C; ++c) d_table[int64_t(tokens[n]) * C + c] += d_out[n * C + c];
    }
    return 0;
}

inline int32_t rmsnorm_forward(void * session, float * out, float * rstd, const float * inp,
                               const float * weight, int64_t N, int64_t C, double eps,
                               char * error, size_t error_capacity) {
    EMULATED_ENTER("rmsnorm_forward", session);
    EMULATED_DEVICE(out, N * C, float, "rmsnorm_forward: out");
    EMULATED_DEVICE(rstd, N, float, "rmsnorm_forward: rstd");
    EMULATED_DEVICE(inp, N * C, float, "rmsnorm_forward: inp");
    EMULATED_DEVICE(weight, C, float, "rmsnorm_forward: weight");
    for (int64_t n = 0; n < N; ++n) {
        double squares = 0.0;
        for (int64_t c = 0; c < C; ++c) squares += double(inp[n * C + c]) * inp[n * C + c];
        const double r = 1.0 / std::sqrt(squares / double(C) + eps);
        rstd[n] = float(r);
        for (int64_t c = 0; c < C; ++c) out[n * C + c] = float(double(weight[c]) * inp[n * C + c] * r);
    }
    return 0;
}

// y = w · x · r with r = (Σ x² / C + eps)^(−1/2):
// dx = r · (w · dy) − x · r³ · Σ_c (w · dy · x) / C,  dw = Σ_n dy · x · r.
inline int32_t rmsnorm_backward(void * session, float * d_inp, float * d_weight,
                                const float * d_out, const float * inp, const float * rstd,
                                const float * weight, int64_t N, int64_t C, int32_t accumulate,
                                char * error, size_t error_capacity) {
    EMULATED_ENTER("rmsnorm_backward", session);
    EMULATED_REQUIRE(accumulate == 0 || accumulate == 1, "rmsnorm_backward: accumulate: 0 or 1");
    EMULATED_DEVICE(d_inp, N * C, float, "rmsnorm_backward: d_inp");
    EMULATED_DEVICE(d_weight, C, float, "rmsnorm_backward: d_weight");
    EMULATED_DEVICE(d_out, N * C, float, "rmsnorm_backward: d_out");
    EMULATED_DEVICE(inp, N * C, float, "rmsnorm_backward: inp");
    EMULATED_DEVICE(rstd, N, float, "rmsnorm_backward: rstd");
    EMULATED_DEVICE(weight, C, float, "rmsnorm_backward: weight");
    std::vector<double> dw(size_t(C), 0.0);
    for (int64_t n = 0; n < N; ++n) {
        const double r = rstd[n];
        double projection = 0.0;
        for (int64_t c = 0; c < C; ++c)
            projection += double(weight[c]) * d_out[n * C + c] * inp[n * C + c];
        for (int64_t c = 0; c < C; ++c) {
            const double x = inp[n * C + c], dy = d_out[n * C + c];
            const double dx = r * weight[c] * dy - x * r * r * r * projection / double(C);
            d_inp[n * C + c] = float((accumulate ? double(d_inp[n * C + c]) : 0.0) + dx);
            dw[size_t(c)] += dy * x * r;
        }
    }
    for (int64_t c = 0; c < C; ++c) d_weight[c] = float(dw[size_t(c)]);
    return 0;
}

inline int32_t rope(void * session, float * x, const float * cos, const float * sin, int64_t B,
                    int64_t T, int64_t NH, int64_t D, int32_t inverse, char * error,
                    size_t error_capacity) {
    EMULATED_ENTER("rope", session);
    EMULATED_REQUIRE(D % 2 == 0, "rope: D must be even");
    EMULATED_DEVICE(x, B * T * NH * D, float, "rope: x");
    EMULATED_DEVICE(cos, T * D / 2, float, "rope: cos");
    EMULATED_DEVICE(sin, T * D / 2, float, "rope: sin");
    const int64_t half = D / 2;
    for (int64_t row = 0; row < B * T * NH; ++row) {
        const int64_t t = (row / NH) % T;
        float * head = x + row * D;
        for (int64_t i = 0; i < half; ++i) {
            const double a = head[i], b = head[i + half], c = cos[t * half + i],
                         s = (inverse ? -1.0 : 1.0) * sin[t * half + i];
            head[i] = float(a * c - b * s);
            head[i + half] = float(b * c + a * s);
        }
    }
    return 0;
}

inline int32_t swiglu_forward(void * session, float * out, const float * gate, const float * up,
                              int64_t n, char * error, size_t error_capacity) {
    EMULATED_ENTER("swiglu_forward", session);
    EMULATED_DEVICE(out, n, float, "swiglu_forward: out");
    EMULATED_DEVICE(gate, n, float, "swiglu_forward: gate");
    EMULATED_DEVICE(up, n, float, "swiglu_forward: up");
    for (int64_t i = 0; i < n; ++i) {
        const double x = gate[i];
        out[i] = float(x / (1.0 + std::exp(-x)) * up[i]);
    }
    return 0;
}

inline int32_t swiglu_backward(void * session, float * d_gate, float * d_up, const float * d_out,
                               const float * gate, const float * up, int64_t n, char * error,
                               size_t error_capacity) {
    EMULATED_ENTER("swiglu_backward", session);
    EMULATED_DEVICE(d_gate, n, float, "swiglu_backward: d_gate");
    EMULATED_DEVICE(d_up, n, float, "swiglu_backward: d_up");
    EMULATED_DEVICE(d_out, n, float, "swiglu_backward: d_out");
    EMULATED_DEVICE(gate, n, float, "swiglu_backward: gate");
    EMULATED_DEVICE(up, n, float, "swiglu_backward: up");
    for (int64_t i = 0; i < n; ++i) {
        const double x = gate[i], s = 1.0 / (1.0 + std::exp(-x));
        d_up[i] = float(double(d_out[i]) * x * s);
        // d/dx (x · σ(x)) = σ + x · σ · (1 − σ)
        d_gate[i] = float(double(d_out[i]) * up[i] * (s + x * s * (1.0 - s)));
    }
    return 0;
}

// The scores of query (b, t, h) against keys 0 … t, as a plain softmax
// over all of them at once (no tiles).
inline std::vector<double> attention_probabilities(const float * q, const float * k, int64_t b,
                                                   int64_t t, int64_t h, int64_t T, int64_t H,
                                                   int64_t KV, int64_t D) {
    const int64_t g = h / (H / KV);
    std::vector<double> p(size_t(t + 1));
    double largest = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j <= t; ++j) {
        double score = 0.0;
        for (int64_t d = 0; d < D; ++d)
            score += double(q[((b * T + t) * H + h) * D + d]) * k[((b * T + j) * KV + g) * D + d];
        p[size_t(j)] = score / std::sqrt(double(D));
        largest = std::max(largest, p[size_t(j)]);
    }
    double sum = 0.0;
    for (double & value : p) sum += (value = std::exp(value - largest));
    for (double & value : p) value /= sum;
    p.push_back(largest + std::log(sum));  // the lse, last
    return p;
}

inline int32_t attention_forward(void * session, float * out, float * lse, const float * q,
                                 const float * k, const float * v, int64_t B, int64_t T,
                                 int64_t H, int64_t KV, int64_t D, char * error,
                                 size_t error_capacity) {
    EMULATED_ENTER("attention_forward", session);
    EMULATED_REQUIRE(KV > 0 && H % KV == 0, "attention_forward: KV must divide H");
    EMULATED_DEVICE(out, B * T * H * D, float, "attention_forward: out");
    EMULATED_DEVICE(lse, B * H * T, float, "attention_forward: lse");
    EMULATED_DEVICE(q, B * T * H * D, float, "attention_forward: q");
    EMULATED_DEVICE(k, B * T * KV * D, float, "attention_forward: k");
    EMULATED_DEVICE(v, B * T * KV * D, float, "attention_forward: v");
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t t = 0; t < T; ++t) {
                const std::vector<double> p = attention_probabilities(q, k, b, t, h, T, H, KV, D);
                const int64_t g = h / (H / KV);
                for (int64_t d = 0; d < D; ++d) {
                    double sum = 0.0;
                    for (int64_t j = 0; j <= t; ++j)
                        sum += p[size_t(j)] * v[((b * T + j) * KV + g) * D + d];
                    out[((b * T + t) * H + h) * D + d] = float(sum);
                }
                lse[(b * H + h) * T + t] = float(p.back());
            }
    return 0;
}

// The softmax's backward written out: dP_ij = d_out_i · v_j,
// dS_ij = P_ij (dP_ij − Σ_j' P_ij' dP_ij') / √D; d_q_i = Σ_j dS_ij k_j,
// d_k_j = Σ_i dS_ij q_i, d_v_j = Σ_i P_ij d_out_i (over the group's heads).
// It ignores `out` and `lse` (recomputed here) but writes row_dot.
inline int32_t attention_backward(void * session, float * d_q, float * d_k, float * d_v,
                                  float * row_dot, const float * d_out, const float * out,
                                  const float * lse, const float * q, const float * k,
                                  const float * v, int64_t B, int64_t T, int64_t H, int64_t KV,
                                  int64_t D, char * error, size_t error_capacity) {
    EMULATED_ENTER("attention_backward", session);
    EMULATED_REQUIRE(KV > 0 && H % KV == 0, "attention_backward: KV must divide H");
    EMULATED_DEVICE(d_q, B * T * H * D, float, "attention_backward: d_q");
    EMULATED_DEVICE(d_k, B * T * KV * D, float, "attention_backward: d_k");
    EMULATED_DEVICE(d_v, B * T * KV * D, float, "attention_backward: d_v");
    EMULATED_DEVICE(row_dot, B * H * T, float, "attention_backward: row_dot");
    EMULATED_DEVICE(d_out, B * T * H * D, float, "attention_backward: d_out");
    EMULATED_DEVICE(out, B * T * H * D, float, "attention_backward: out");
    EMULATED_DEVICE(lse, B * H * T, float, "attention_backward: lse");
    EMULATED_DEVICE(q, B * T * H * D, float, "attention_backward: q");
    EMULATED_DEVICE(k, B * T * KV * D, float, "attention_backward: k");
    EMULATED_DEVICE(v, B * T * KV * D, float, "attention_backward: v");
    std::vector<double> dq(size_t(B * T * H * D), 0.0), dk(size_t(B * T * KV * D), 0.0),
        dv(size_t(B * T * KV * D), 0.0);
    const double scale = 1.0 / std::sqrt(double(D));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t t = 0; t < T; ++t) {
                const std::vector<double> p = attention_probabilities(q, k, b, t, h, T, H, KV, D);
                const int64_t g = h / (H / KV), at = ((b * T + t) * H + h) * D;
                std::vector<double> dp(size_t(t + 1), 0.0);
                double mean = 0.0;
                for (int64_t j = 0; j <= t; ++j) {
                    for (int64_t d = 0; d < D; ++d)
                        dp[size_t(j)] += double(d_out[at + d]) * v[((b * T + j) * KV + g) * D + d];
                    mean += p[size_t(j)] * dp[size_t(j)];
                }
                row_dot[(b * H + h) * T + t] = float(mean);
                for (int64_t j = 0; j <= t; ++j) {
                    const double ds = p[size_t(j)] * (dp[size_t(j)] - mean) * scale;
                    const int64_t kv_at = ((b * T + j) * KV + g) * D;
                    for (int64_t d = 0; d < D; ++d) {
                        dq[size_t(at + d)] += ds * k[kv_at + d];
                        dk[size_t(kv_at + d)] += ds * q[at + d];
                        dv[size_t(kv_at + d)] += p[size_t(j)] * d_out[at + d];
                    }
                }
            }
    for (size_t i = 0; i < dq.size(); ++i) d_q[i] = float(dq[i]);
    for (size_t i = 0; i < dk.size(); ++i) d_k[i] = float(dk[i]);
    for (size_t i = 0; i < dv.size(); ++i) d_v[i] = float(dv[i]);
    return 0;
}

inline int32_t cross_entropy(void * session, float * loss_out, float * d_logits,
                             const float * logits, const int32_t * targets, int64_t N, int64_t V,
                             char * error, size_t error_capacity) {
    EMULATED_ENTER("cross_entropy", session);
    EMULATED_DEVICE(loss_out, 1, float, "cross_entropy: loss_out");
    EMULATED_DEVICE(logits, N * V, float, "cross_entropy: logits");
    EMULATED_DEVICE(targets, N, int32_t, "cross_entropy: targets");
    if (d_logits != nullptr) EMULATED_DEVICE(d_logits, N * V, float, "cross_entropy: d_logits");
    int64_t count = 0;
    bool invalid = false;
    for (int64_t n = 0; n < N; ++n) {
        if (targets[n] == -100) continue;
        if (targets[n] < 0 || targets[n] >= V) invalid = true;
        else ++count;
    }
    double total = 0.0;
    for (int64_t n = 0; n < N; ++n) {
        const bool active = targets[n] >= 0 && targets[n] < V;
        double largest = -std::numeric_limits<double>::infinity(), sum = 0.0;
        for (int64_t v = 0; v < V; ++v) largest = std::max(largest, double(logits[n * V + v]));
        for (int64_t v = 0; v < V; ++v) sum += std::exp(logits[n * V + v] - largest);
        const double lse = largest + std::log(sum);
        if (active) total += lse - logits[n * V + targets[n]];
        if (d_logits != nullptr)
            for (int64_t v = 0; v < V; ++v)
                d_logits[n * V + v] =
                    active ? float((std::exp(logits[n * V + v] - lse) - (v == targets[n] ? 1 : 0)) /
                                   double(count))
                           : 0.0f;
    }
    *loss_out = invalid ? std::numeric_limits<float>::quiet_NaN()
                        : float(count > 0 ? total / double(count) : 0.0);
    return 0;
}

// ---- the loss: the CPU kernels, reduced as the CUDA backend's contract says ------------

inline size_t scalar_bytes(distill::kernels::scalar_type t) {
    return t == distill::kernels::scalar_type::f32 ? 4 : 2;
}
inline size_t index_bytes(distill::kernels::index_type t) {
    return t == distill::kernels::index_type::i64   ? 8
           : t == distill::kernels::index_type::i32 ? 4
                                                    : 0;
}

// Runs `kernel(row_losses, grad_scale)` and writes the reduction into
// output. Invalid values (labels, top-k ids: `check_values` throws) give a
// NaN loss, as the device kernels flag them instead of failing.
template <class Check, class Kernel>
int32_t run_loss(const distill::kernels::kd_loss_params & p, distill_cuda_loss_output output,
                 const void * labels, char * error, size_t error_capacity, Check && check_values,
                 Kernel && kernel) {
    const int64_t loss_count = output.reduction == 2 ? p.rows : 1;
    EMULATED_DEVICE(output.loss_out, loss_count, float, "kd_loss: loss_out");
    EMULATED_REQUIRE(p.label_type == distill::kernels::index_type::none ||
                         on_device(labels, size_t(p.rows) * index_bytes(p.label_type)),
                     "kd_loss: labels: not device memory of the session");
    try {
        check_values();
        distill::check_label_values(labels, p);
    } catch (const distill::error &) {
        std::fill(output.loss_out, output.loss_out + loss_count,
                  std::numeric_limits<float>::quiet_NaN());
        return 0;
    }
    const int64_t active = distill::count_active_rows(labels, p);
    const float grad_scale =
        output.reduction == 0 ? (active > 0 ? 1.0f / float(active) : 0.0f) : 1.0f;
    std::vector<float> rows(size_t(p.rows));
    kernel(rows.data(), grad_scale);
    if (output.reduction == 2) {
        std::copy(rows.begin(), rows.end(), output.loss_out);
        return 0;
    }
    double total = 0.0;
    for (float r : rows) total += r;
    if (output.reduction == 0) total = active > 0 ? total / double(active) : 0.0;
    *output.loss_out = float(total);
    return 0;
}

inline int32_t kd_loss_dense(const distill::kernels::kd_loss_params * p,
                             distill_cuda_loss_output output, void * grad, const void * student,
                             const void * teacher, const void * labels, int32_t device_id, void *,
                             char * error, size_t error_capacity) {
    if (int32_t failed = injected("kd_loss_dense", error, error_capacity)) return failed;
    EMULATED_REQUIRE(device_id == 0, "kd_loss_dense: no such device");
    const size_t values = size_t(p->rows * p->vocab);
    EMULATED_REQUIRE(on_device(student, values * scalar_bytes(p->student_type)),
                     "kd_loss_dense: student: not device memory");
    EMULATED_REQUIRE(on_device(teacher, values * scalar_bytes(p->teacher_type)),
                     "kd_loss_dense: teacher: not device memory");
    EMULATED_REQUIRE(grad == nullptr || on_device(grad, values * scalar_bytes(p->student_type)),
                     "kd_loss_dense: grad: not device memory");
    return run_loss(
        *p, output, labels, error, error_capacity, [] {},
        [&](float * rows, float scale) {
            distill::kernels::cpu::kd_loss_dense(rows, grad, student, teacher, labels, *p, scale,
                                                 1);
        });
}

inline int32_t kd_loss_topk(const distill::kernels::kd_loss_params * p,
                            distill_cuda_loss_output output, void * grad, const void * student,
                            const void * topk_ids, const void * topk_logprobs, const void * labels,
                            int32_t device_id, void *, char * error, size_t error_capacity) {
    if (int32_t failed = injected("kd_loss_topk", error, error_capacity)) return failed;
    EMULATED_REQUIRE(device_id == 0, "kd_loss_topk: no such device");
    const size_t values = size_t(p->rows * p->vocab), top = size_t(p->rows * p->topk);
    EMULATED_REQUIRE(on_device(student, values * scalar_bytes(p->student_type)),
                     "kd_loss_topk: student: not device memory");
    EMULATED_REQUIRE(on_device(topk_ids, top * index_bytes(p->topk_id_type)),
                     "kd_loss_topk: topk_ids: not device memory");
    EMULATED_REQUIRE(on_device(topk_logprobs, top * scalar_bytes(p->teacher_type)),
                     "kd_loss_topk: topk_logprobs: not device memory");
    EMULATED_REQUIRE(grad == nullptr || on_device(grad, values * scalar_bytes(p->student_type)),
                     "kd_loss_topk: grad: not device memory");
    return run_loss(
        *p, output, labels, error, error_capacity,
        [&] { distill::check_topk_values(topk_ids, topk_logprobs, *p); },
        [&](float * rows, float scale) {
            distill::kernels::cpu::kd_loss_topk(rows, grad, student, topk_ids, topk_logprobs,
                                                labels, *p, scale, 1);
        });
}

#undef EMULATED_ENTER
#undef EMULATED_DEVICE
#undef EMULATED_REQUIRE

// The table, and what a test asks of the emulation. Constructing one resets
// the state (allocations and sessions left by an earlier test included).
class emulated_cuda_backend {
public:
    emulated_cuda_backend() {
        state() = backend_state{};
        table_.api_version = DISTILL_CUDA_BACKEND_API_VERSION;
        table_.device_count = emulated_cuda::device_count;
        table_.kd_loss_dense = emulated_cuda::kd_loss_dense;
        table_.kd_loss_topk = emulated_cuda::kd_loss_topk;
        table_.session_create = emulated_cuda::session_create;
        table_.session_destroy = emulated_cuda::session_destroy;
        table_.memory_alloc = emulated_cuda::memory_alloc;
        table_.memory_free = emulated_cuda::memory_free;
        table_.copy = emulated_cuda::copy;
        table_.synchronize = emulated_cuda::synchronize;
        table_.gemm = emulated_cuda::gemm;
        table_.bias_add = emulated_cuda::bias_add;
        table_.bias_grad = emulated_cuda::bias_grad;
        table_.activation_forward = emulated_cuda::activation_forward;
        table_.activation_backward = emulated_cuda::activation_backward;
        table_.dropout = emulated_cuda::dropout;
        table_.conv2d_forward = emulated_cuda::conv2d_forward;
        table_.conv2d_backward = emulated_cuda::conv2d_backward;
        table_.maxpool2d_forward = emulated_cuda::maxpool2d_forward;
        table_.maxpool2d_backward = emulated_cuda::maxpool2d_backward;
        table_.fill = emulated_cuda::fill;
        table_.embedding_forward = emulated_cuda::embedding_forward;
        table_.embedding_backward = emulated_cuda::embedding_backward;
        table_.rmsnorm_forward = emulated_cuda::rmsnorm_forward;
        table_.rmsnorm_backward = emulated_cuda::rmsnorm_backward;
        table_.rope = emulated_cuda::rope;
        table_.swiglu_forward = emulated_cuda::swiglu_forward;
        table_.swiglu_backward = emulated_cuda::swiglu_backward;
        table_.attention_forward = emulated_cuda::attention_forward;
        table_.attention_backward = emulated_cuda::attention_backward;
        table_.cross_entropy = emulated_cuda::cross_entropy;
    }
    emulated_cuda_backend(const emulated_cuda_backend &) = delete;
    emulated_cuda_backend & operator=(const emulated_cuda_backend &) = delete;

    const distill_cuda_backend_v1 & table() const { return table_; }

    // A CUDA context on emulated device 0, as distill_context_create makes one.
    distill::context context(int32_t num_threads = 0) const {
        distill::context ctx;
        ctx.cuda = true;
        ctx.device_id = 0;
        ctx.num_threads = num_threads;
        ctx.cuda_backend = &table_;
        return ctx;
    }

    size_t live_allocations() const { return state().allocations.size(); }
    size_t live_sessions() const { return state().sessions.size(); }
    int64_t allocations_made() const { return state().allocations_made; }

    // The call of `entry` after `calls_to_skip` more calls of it fails with
    // `code` and `message` (once).
    void fail(const std::string & entry, int64_t calls_to_skip, int32_t code,
              const std::string & message) {
        state().failure = {entry, calls_to_skip, code, message};
    }

private:
    distill_cuda_backend_v1 table_{};
};

}  // namespace emulated_cuda
