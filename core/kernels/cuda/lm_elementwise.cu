// The transformer's elementwise primitives: fill, the embedding gather and
// its scatter-add, RoPE in place, SwiGLU forward and backward (the CPU's
// core/lm/embedding.cpp, rope.cpp, swiglu.cpp; shapes in
// core/backend/cuda_backend_api.h).
//
// Written so that nvcc fuses no multiply and add into an FMA the CPU does
// not do (__fmul_rn / __fadd_rn) where that keeps the CPU's bits cheaply:
// the gather and the scatter-add match bit for bit (the scatter adds each
// id's rows in position order, as the CPU does), RoPE to one rounding,
// SwiGLU to the rounding of expf.
#include "lm_primitives.cuh"
#include "student_session.cuh"

namespace distill::kernels::cuda {
namespace {

__global__ void fill_kernel(float * values, float value, int64_t n) {
    for (int64_t at = grid_first(); at < n; at += grid_stride()) values[at] = value;
}

// out[n, c] = table[tokens[n], c]; an id outside [0, V) gives NaN.
__global__ void embedding_forward_kernel(float * out, const int32_t * tokens, const float * table,
                                         int64_t N, int64_t C, int64_t V) {
    const int64_t total = N * C;
    for (int64_t at = grid_first(); at < total; at += grid_stride()) {
        const int64_t n = at / C, c = at - n * C;
        const int64_t id = tokens[n];
        out[at] = id >= 0 && id < V ? table[id * C + c] : __int_as_float(0x7fc00000);
    }
}

// Block per entry s of `order` (grid-striding): the block whose entry
// starts a run of one id (the first, or the previous entry has another id)
// adds the run's rows, in order, to that id's row of d_table, one thread
// per column. Blocks inside a run return at once. No two blocks write the
// same row (each id is one run), so no atomics.
constexpr int embedding_threads = 128;
constexpr int64_t max_embedding_blocks = 65535;

__global__ void embedding_backward_kernel(float * d_table, const float * d_out,
                                          const int32_t * tokens, const int32_t * order, int64_t N,
                                          int64_t C, int64_t V) {
    for (int64_t s = blockIdx.x; s < N; s += gridDim.x) {
        const int32_t id = tokens[order[s]];
        if (s > 0 && tokens[order[s - 1]] == id) continue;
        if (id < 0 || id >= V) continue;
        float * row = d_table + int64_t(id) * C;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
            float sum = row[c];
            for (int64_t e = s; e < N && tokens[order[e]] == id; ++e)
                sum = __fadd_rn(sum, d_out[int64_t(order[e]) * C + c]);
            row[c] = sum;
        }
    }
}

// One thread per pair (i, i + D/2) of a head: x[B, T, NH, D], cos/sin
// [≥ T, D/2]; sign +1 turns forward, −1 back (the transpose).
__global__ void rope_kernel(float * x, const float * cos, const float * sin, int64_t T, int64_t NH,
                            int64_t D, int64_t pairs, float sign) {
    const int64_t half = D / 2;
    for (int64_t at = grid_first(); at < pairs; at += grid_stride()) {
        const int64_t i = at % half, row = at / half;  // row: (b · T + t) · NH + h
        const int64_t t = (row / NH) % T;
        float * head = x + row * D;
        const float a = head[i], b = head[i + half];
        const float c = cos[t * half + i], s = __fmul_rn(sign, sin[t * half + i]);
        head[i] = __fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s));
        head[i + half] = __fadd_rn(__fmul_rn(b, c), __fmul_rn(a, s));
    }
}

// out = gate / (1 + exp(−gate)) · up, as swiglu.cpp.
__global__ void swiglu_forward_kernel(float * out, const float * gate, const float * up,
                                      int64_t n) {
    for (int64_t at = grid_first(); at < n; at += grid_stride()) {
        const float x = gate[at];
        out[at] = __fmul_rn(__fdiv_rn(x, __fadd_rn(1.0f, expf(-x))), up[at]);
    }
}

// d_up = d_out · silu(x); d_gate = d_out · up · σ(x) · (1 + x · (1 − σ(x))).
__global__ void swiglu_backward_kernel(float * d_gate, float * d_up, const float * d_out,
                                       const float * gate, const float * up, int64_t n) {
    for (int64_t at = grid_first(); at < n; at += grid_stride()) {
        const float x = gate[at], g = d_out[at];
        const float sigmoid = __fdiv_rn(1.0f, __fadd_rn(1.0f, expf(-x)));
        const float silu = __fmul_rn(x, sigmoid);
        d_up[at] = __fmul_rn(g, silu);
        const float slope =
            __fadd_rn(1.0f, __fmul_rn(x, __fsub_rn(1.0f, sigmoid)));  // 1 + x · (1 − σ)
        d_gate[at] = __fmul_rn(__fmul_rn(__fmul_rn(g, up[at]), sigmoid), slope);
    }
}

}  // namespace

int32_t fill(void * session, float * values, float value, int64_t n, char * error,
             size_t error_capacity) {
    argument_checks checks("fill", error, error_capacity);
    checks.session(session).non_negative("n", n).pointer("values", values, n > 0);
    if (checks.status() != status_ok) return checks.status();
    if (n == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        fill_kernel<<<elementwise_blocks(n), elementwise_threads, 0, s.stream>>>(values, value, n);
        return report_launch("the fill kernel", error, error_capacity);
    });
}

int32_t embedding_forward(void * session, float * out, const int32_t * tokens, const float * table,
                          int64_t N, int64_t C, int64_t V, char * error, size_t error_capacity) {
    argument_checks checks("embedding_forward", error, error_capacity);
    int64_t total = 0, table_size = 0;
    checks.session(session)
        .non_negative("N", N)
        .non_negative("C", C)
        .positive("V", V)
        .product("N * C", N, C, 1, &total)
        .product("V * C", V, C, 1, &table_size)
        .pointer("out", out, total > 0)
        .pointer("tokens", tokens, total > 0)
        .pointer("table", table, total > 0);
    if (checks.status() != status_ok) return checks.status();
    if (total == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        embedding_forward_kernel<<<elementwise_blocks(total), elementwise_threads, 0, s.stream>>>(
            out, tokens, table, N, C, V);
        return report_launch("the embedding_forward kernel", error, error_capacity);
    });
}

int32_t embedding_backward(void * session, float * d_table, const float * d_out,
                           const int32_t * tokens, const int32_t * order, int64_t N, int64_t C,
                           int64_t V, char * error, size_t error_capacity) {
    argument_checks checks("embedding_backward", error, error_capacity);
    int64_t total = 0, table_size = 0;
    checks.session(session)
        .non_negative("N", N)
        .non_negative("C", C)
        .positive("V", V)
        .at_most("N", N, INT32_MAX, "order holds int32 positions")
        .product("N * C", N, C, 1, &total)
        .product("V * C", V, C, 1, &table_size)
        .pointer("d_table", d_table, total > 0)
        .pointer("d_out", d_out, total > 0)
        .pointer("tokens", tokens, total > 0)
        .pointer("order", order, total > 0);
    if (checks.status() != status_ok) return checks.status();
    if (total == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        const auto blocks = static_cast<unsigned>(N < max_embedding_blocks ? N : max_embedding_blocks);
        embedding_backward_kernel<<<blocks, embedding_threads, 0, s.stream>>>(d_table, d_out,
                                                                              tokens, order, N, C,
                                                                              V);
        return report_launch("the embedding_backward kernel", error, error_capacity);
    });
}

int32_t rope(void * session, float * x, const float * cos, const float * sin, int64_t B, int64_t T,
             int64_t NH, int64_t D, int32_t inverse, char * error, size_t error_capacity) {
    argument_checks checks("rope", error, error_capacity);
    int64_t rows = 0, pairs = 0;
    checks.session(session)
        .non_negative("B", B)
        .non_negative("T", T)
        .non_negative("NH", NH)
        .positive("D", D)
        .require(D % 2 == 0, "D expected even (rotate_half pairs i and i + D/2), got %lld",
                 static_cast<long long>(D))
        .one_of_two("inverse", inverse, "0 the rotation, 1 its transpose")
        .product("B * T * NH", B, T, NH, &rows)
        .product("B * T * NH * D/2", rows, D / 2, 1, &pairs)
        .pointer("x", x, pairs > 0)
        .pointer("cos", cos, pairs > 0)
        .pointer("sin", sin, pairs > 0);
    if (checks.status() != status_ok) return checks.status();
    if (pairs == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        rope_kernel<<<elementwise_blocks(pairs), elementwise_threads, 0, s.stream>>>(
            x, cos, sin, T, NH, D, pairs, inverse != 0 ? -1.0f : 1.0f);
        return report_launch("the rope kernel", error, error_capacity);
    });
}

int32_t swiglu_forward(void * session, float * out, const float * gate, const float * up,
                       int64_t n, char * error, size_t error_capacity) {
    argument_checks checks("swiglu_forward", error, error_capacity);
    checks.session(session)
        .non_negative("n", n)
        .pointer("out", out, n > 0)
        .pointer("gate", gate, n > 0)
        .pointer("up", up, n > 0);
    if (checks.status() != status_ok) return checks.status();
    if (n == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        swiglu_forward_kernel<<<elementwise_blocks(n), elementwise_threads, 0, s.stream>>>(
            out, gate, up, n);
        return report_launch("the swiglu_forward kernel", error, error_capacity);
    });
}

int32_t swiglu_backward(void * session, float * d_gate, float * d_up, const float * d_out,
                        const float * gate, const float * up, int64_t n, char * error,
                        size_t error_capacity) {
    argument_checks checks("swiglu_backward", error, error_capacity);
    checks.session(session)
        .non_negative("n", n)
        .pointer("d_gate", d_gate, n > 0)
        .pointer("d_up", d_up, n > 0)
        .pointer("d_out", d_out, n > 0)
        .pointer("gate", gate, n > 0)
        .pointer("up", up, n > 0);
    if (checks.status() != status_ok) return checks.status();
    if (n == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        swiglu_backward_kernel<<<elementwise_blocks(n), elementwise_threads, 0, s.stream>>>(
            d_gate, d_up, d_out, gate, up, n);
        return report_launch("the swiglu_backward kernel", error, error_capacity);
    });
}

}  // namespace distill::kernels::cuda
