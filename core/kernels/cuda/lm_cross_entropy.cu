// The causal LM loss, the CPU's core/lm/cross_entropy.cpp (shapes in
// core/backend/cuda_backend_api.h), in three kernels on the session's
// scratch (student_session.cuh's workspace: a header, then [N] row losses):
//   count   one block: the rows with a target, and whether a target is
//           invalid (neither −100 nor in [0, V)); 1 / count into the header
//   rows    a block per row: logsumexp (the online form of cuda_math.cuh),
//           the row's loss, and d_logits = (softmax − onehot) / count
//   reduce  one block: Σ row losses in fp64, in a fixed order, / count
// so the loss is the same bits on every run (not the CPU's: it sums in
// another order, and its row terms in fp64).
#include <cmath>

#include "cuda_math.cuh"
#include "lm_primitives.cuh"
#include "student_session.cuh"

namespace distill::kernels::cuda {
namespace {

constexpr int32_t ignore_target = -100;
constexpr int loss_threads = 256;
constexpr int64_t max_loss_blocks = 65535;

struct loss_header {
    double inv_count;  // 1 / the rows with a target; 0 when none has
    int32_t invalid;   // a target is neither −100 nor in [0, V)
};

// Header bytes, rounded so that the row losses after it stay aligned.
constexpr size_t header_bytes = (sizeof(loss_header) + 15) / 16 * 16;

__global__ void count_kernel(loss_header * header, const int32_t * targets, int64_t N, int64_t V) {
    long long count = 0, invalid = 0;
    for (int64_t n = threadIdx.x; n < N; n += blockDim.x) {
        const int32_t t = targets[n];
        if (t == ignore_target) continue;
        if (t < 0 || t >= V) ++invalid;
        else ++count;
    }
    tuple_of<long long, 2> both{{count, invalid}};
    both = block_reduce(both, elementwise<sum_op>{});
    if (threadIdx.x == 0) {
        header->inv_count = both.v[0] > 0 ? 1.0 / double(both.v[0]) : 0.0;
        header->invalid = both.v[1] > 0 ? 1 : 0;
    }
}

__global__ void rows_kernel(float * row_loss, float * d_logits, const float * logits,
                            const int32_t * targets, const loss_header * header, int64_t N,
                            int64_t V) {
    const float inv_count = float(header->inv_count);
    for (int64_t n = blockIdx.x; n < N; n += gridDim.x) {
        const float * x = logits + n * V;
        float * d = d_logits != nullptr ? d_logits + n * V : nullptr;
        const int32_t target = targets[n];
        if (target == ignore_target || target < 0 || target >= V) {
            if (d != nullptr) fill_row(d, V, 0.0f);
            if (threadIdx.x == 0)
                row_loss[n] = target == ignore_target ? 0.0f : quiet_nan();
            continue;
        }
        lse_state state = lse_empty();
        for (int64_t v = threadIdx.x; v < V; v += blockDim.x) lse_add(state, x[v]);
        state = block_reduce(state, lse_merge{});
        const float lse = lse_value(state);
        if (threadIdx.x == 0) row_loss[n] = lse - x[target];
        if (d != nullptr)
            for (int64_t v = threadIdx.x; v < V; v += blockDim.x) {
                const float p = expf(x[v] - lse);
                d[v] = (v == target ? p - 1.0f : p) * inv_count;
            }
    }
}

__global__ void reduce_kernel(float * loss_out, const float * row_loss, const loss_header * header,
                              int64_t N) {
    double sum = 0.0;
    for (int64_t n = threadIdx.x; n < N; n += blockDim.x) sum += double(row_loss[n]);
    sum = block_reduce(sum, sum_op{});
    if (threadIdx.x == 0)
        *loss_out = header->invalid ? quiet_nan() : float(sum * header->inv_count);
}

}  // namespace

int32_t cross_entropy(void * session, float * loss_out, float * d_logits, const float * logits,
                      const int32_t * targets, int64_t N, int64_t V, char * error,
                      size_t error_capacity) {
    argument_checks checks("cross_entropy", error, error_capacity);
    int64_t total = 0;
    checks.session(session)
        .non_negative("N", N)
        .positive("V", V)
        .product("N * V", N, V, 1, &total)
        .pointer("loss_out", loss_out, true)
        .pointer("logits", logits, N > 0)
        .pointer("targets", targets, N > 0);
    if (checks.status() != status_ok) return checks.status();
    return run_on_session(session, error, error_capacity, [&](student_session & s) -> int32_t {
        void * scratch = nullptr;
        const size_t bytes = header_bytes + sizeof(float) * size_t(N > 0 ? N : 1);
        if (int32_t failed = session_workspace(s, bytes, &scratch, error, error_capacity))
            return failed;
        auto * header = static_cast<loss_header *>(scratch);
        auto * row_loss = reinterpret_cast<float *>(static_cast<char *>(scratch) + header_bytes);
        count_kernel<<<1, loss_threads, 0, s.stream>>>(header, targets, N, V);
        if (int32_t failed = report_launch("the cross_entropy kernel (count)", error,
                                           error_capacity))
            return failed;
        if (N > 0) {
            const auto blocks = static_cast<unsigned>(N < max_loss_blocks ? N : max_loss_blocks);
            rows_kernel<<<blocks, loss_threads, 0, s.stream>>>(row_loss, d_logits, logits, targets,
                                                               header, N, V);
            if (int32_t failed =
                    report_launch("the cross_entropy kernel (rows)", error, error_capacity))
                return failed;
        }
        reduce_kernel<<<1, loss_threads, 0, s.stream>>>(loss_out, row_loss, header, N);
        return report_launch("the cross_entropy kernel (reduce)", error, error_capacity);
    });
}

}  // namespace distill::kernels::cuda
