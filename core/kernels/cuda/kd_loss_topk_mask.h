// Where the top-k kd-loss kernel keeps a row's bitmap of its K ids (V bits,
// one 32-bit word per 32 entries). Host-only arithmetic, so that the CPU
// tests can check it without a GPU.
//
//   shared         the bitmap fits beside the kernel's static shared memory
//                  (its block reductions, ~2.3 KiB) within the 48 KiB every
//                  block gets: static + dynamic ≤ 48 KiB.
//   shared_opt_in  it fits within the device's opt-in limit
//                  (cudaDevAttrMaxSharedMemoryPerBlockOptin: 227 KiB on
//                  Hopper, V up to about 1.84 million): the launch first
//                  raises the kernel's cudaFuncAttributeMaxDynamicSharedMemorySize.
//   global         beyond that: one bitmap per block in a global-memory
//                  scratch buffer of the call.
// Every placement keeps the exact tail sum (Σ over the entries outside the
// top-k) and the repeated-id check.
#pragma once

#include <cstddef>
#include <cstdint>

namespace distill::kernels::cuda {

enum class topk_mask_place { shared, shared_opt_in, global };

struct topk_mask_plan {
    topk_mask_place place;
    int64_t words;        // ⌈V / 32⌉
    size_t shared_bytes;  // dynamic shared memory of the launch (0 for global)
};

inline constexpr size_t default_shared_per_block = 48 * 1024;

inline topk_mask_plan plan_topk_mask(int64_t vocab, size_t static_shared, size_t opt_in_limit) {
    const int64_t words = (vocab + 31) / 32;
    const size_t bytes = static_cast<size_t>(words) * sizeof(uint32_t);
    if (static_shared + bytes <= default_shared_per_block)
        return {topk_mask_place::shared, words, bytes};
    if (static_shared + bytes <= opt_in_limit)
        return {topk_mask_place::shared_opt_in, words, bytes};
    return {topk_mask_place::global, words, 0};
}

}  // namespace distill::kernels::cuda
