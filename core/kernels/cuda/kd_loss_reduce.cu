// Reductions of the kd-loss row losses on the device, with no host
// synchronisation anywhere:
//   1. (BATCHMEAN) count_active_rows_kernel counts the rows whose label is
//      not ignore_index into device memory and derives grad_scale from it;
//   2. the row kernels (kd_loss_dense.cu, kd_loss_topk.cu), enqueued after
//      it on the same stream, read grad_scale to scale the gradient and
//      write each row's loss into a scratch [N];
//   3. reduce_row_losses_kernel sums the scratch in a fixed order (so a
//      call is bit-for-bit repeatable) into loss_out[0], ÷ the count for
//      BATCHMEAN (0 when every row is ignored: never 0/0).
// The scratch is [state | N row losses], one stream-ordered allocation.
#include "kd_loss_cuda.cuh"

namespace distill::kernels::cuda {
namespace {

// Both kernels below run as one block: the work is O(N) with N in the
// thousands, and one block keeps the summation order fixed.
constexpr unsigned reduce_block_threads = 512;

//   state   the count and grad_scale, written here
//   labels  [N] of label_type, or nullptr (every row active)
__global__ void __launch_bounds__(reduce_block_threads)
    count_active_rows_kernel(reduction_state * state, const void * __restrict__ labels,
                             index_type label_type, int64_t ignore_index, int64_t rows) {
    long long active = 0;
    if (label_type == index_type::none) {
        active = threadIdx.x == 0 ? rows : 0;
    } else {
        for (int64_t i = threadIdx.x; i < rows; i += blockDim.x)
            active += load_index(labels, label_type, i) != ignore_index ? 1 : 0;
    }
    active = block_reduce(active, sum_op{});
    if (threadIdx.x == 0) {
        state->active_rows = active;
        // As the CPU path: 1 / count in fp32, and 0 (a zero gradient) for no rows.
        state->grad_scale = active > 0 ? 1.0f / static_cast<float>(active) : 0.0f;
    }
}

//   loss_out    [1]: Σ row_losses, or Σ / active_rows when state != nullptr
//   row_losses  [N]
__global__ void __launch_bounds__(reduce_block_threads)
    reduce_row_losses_kernel(float * loss_out, const float * __restrict__ row_losses, int64_t rows,
                             const reduction_state * state) {
    double part = 0.0;
    for (int64_t i = threadIdx.x; i < rows; i += blockDim.x) part += row_losses[i];
    double total = block_reduce(part, sum_op{});
    if (threadIdx.x == 0) {
        if (state != nullptr) {
            const long long active = state->active_rows;
            total = active > 0 ? total / static_cast<double>(active) : 0.0;
        }
        loss_out[0] = static_cast<float>(total);
    }
}

// The row losses follow the state directly; both need only 8-byte alignment.
constexpr size_t state_bytes = sizeof(reduction_state);
static_assert(state_bytes % alignof(reduction_state) == 0 && state_bytes % alignof(float) == 0);

}  // namespace

cudaError_t begin_reduction(reduction_buffers * buffers, float * loss_out, reduction_kind reduction,
                            const void * labels, const row_constants & c, cudaStream_t stream) {
    *buffers = reduction_buffers{};
    if (reduction == reduction_kind::none) {
        buffers->row_losses = loss_out;
        return cudaSuccess;
    }
    if (c.rows <= 0) return cudaMemsetAsync(loss_out, 0, sizeof(float), stream);  // 0.0f

    const bool batchmean = reduction == reduction_kind::batchmean;
    const size_t header = batchmean ? state_bytes : 0;
    const size_t bytes = header + static_cast<size_t>(c.rows) * sizeof(float);
    void * allocation = nullptr;
    const cudaError_t allocated = cudaMallocAsync(&allocation, bytes, stream);
    if (allocated != cudaSuccess) return allocated;
    buffers->allocation = allocation;
    buffers->row_losses = reinterpret_cast<float *>(static_cast<char *>(allocation) + header);
    if (!batchmean) return cudaSuccess;

    buffers->state = static_cast<reduction_state *>(allocation);
    buffers->grad_scale = &buffers->state->grad_scale;
    count_active_rows_kernel<<<1, reduce_block_threads, 0, stream>>>(
        buffers->state, labels, c.label_type, c.ignore_index, c.rows);
    return cudaGetLastError();
}

cudaError_t finish_reduction(const reduction_buffers & buffers, float * loss_out, int64_t rows,
                             bool reduce, cudaStream_t stream) {
    if (buffers.allocation == nullptr) return cudaSuccess;
    cudaError_t result = cudaSuccess;
    if (reduce) {
        reduce_row_losses_kernel<<<1, reduce_block_threads, 0, stream>>>(
            loss_out, buffers.row_losses, rows, buffers.state);
        result = cudaGetLastError();
    }
    // Stream-ordered: freed only after the kernels above have run.
    const cudaError_t freed = cudaFreeAsync(buffers.allocation, stream);
    return result != cudaSuccess ? result : freed;
}

}  // namespace distill::kernels::cuda
