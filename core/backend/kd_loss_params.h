// The resolved description of one distillation-loss call, shared by the CPU
// and CUDA kernels. Plain data: no CUDA or DLPack types, so both compilers
// and both shared libraries see the same layout. It lives in backend/, the
// lowest room that needs it: the CUDA backend's function table
// (cuda_backend_api.h) carries it to the kernels above.
#pragma once

#include <cstdint>

namespace distill::kernels {

enum class scalar_type : int32_t { f32 = 0, bf16 = 1, f16 = 2 };
enum class index_type : int32_t { none = 0, i32 = 1, i64 = 2 };

// JSD with beta = 0 or 1 arrives here already resolved to forward_kl or
// reverse_kl, so a kernel's jsd path always has 0 < beta < 1.
enum class divergence_kind : int32_t { forward_kl = 0, reverse_kl = 1, jsd = 2, tvd = 3 };

// Below this, 1 − Σ exp(top-k log-probs) is rounding, not tail mass.
inline constexpr float topk_tail_rounding_floor = 1e-6f;
// A top-k row whose Σ exp(log-probs) exceeds 1 + this is refused.
inline constexpr float topk_mass_tolerance = 1e-3f;

struct kd_loss_params {
    int64_t rows = 0;   // N
    int64_t vocab = 0;  // V
    int64_t topk = 0;   // K (top-k teacher only)

    divergence_kind divergence = divergence_kind::forward_kl;
    float beta = 0.5f;
    float temperature = 1.0f;
    float inv_temperature = 1.0f;
    // soft_weight × (T² when scale_by_t2); 0 disables the soft term.
    float soft_scale = 1.0f;
    // 0 disables the hard-label term.
    float hard_weight = 0.0f;
    int64_t ignore_index = -100;
    bool tail_bucket = false;

    scalar_type student_type = scalar_type::f32;  // also the gradient's type
    scalar_type teacher_type = scalar_type::f32;  // dense logits or top-k log-probs
    index_type label_type = index_type::none;
    index_type topk_id_type = index_type::none;
};

}  // namespace distill::kernels
