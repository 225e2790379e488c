// CPU kernels of the distillation-loss family. Plain functions over raw
// pointers: outputs first, then inputs, then the call's description.
// Arguments are trusted (core/losses validated them); rows are split
// across `num_threads` OpenMP threads, and each row's result depends only
// on that row, so the output is the same for any thread count.
#pragma once

#include <cstdint>

#include "backend/kd_loss_params.h"

namespace distill::kernels::cpu {

// Dense teacher.
//   row_losses  [N] fp32    each row's loss (0 for an ignored row)
//   grad        [N, V]      student_type, or nullptr; d(Σ rows · grad_scale)/dz
//   student     [N, V]      student_type logits z
//   teacher     [N, V]      teacher_type logits t
//   labels      [N]         label_type, or nullptr
void kd_loss_dense(float * row_losses, void * grad, const void * student, const void * teacher,
                   const void * labels, const kd_loss_params & params, float grad_scale,
                   int num_threads);

// Top-k teacher.
//   topk_ids       [N, K]  topk_id_type; in range, distinct within a row
//   topk_logprobs  [N, K]  teacher_type log-probabilities
// Other arguments as kd_loss_dense.
void kd_loss_topk(float * row_losses, void * grad, const void * student, const void * topk_ids,
                  const void * topk_logprobs, const void * labels, const kd_loss_params & params,
                  float grad_scale, int num_threads);

// The same two kernels compiled once per instruction set (the files are
// built three times, see core/CMakeLists.txt); the functions above pick one
// by the CPU's features (kd_loss_cpu_dispatch.cpp).
#define DISTILL_DECLARE_CPU_KD_LOSS_KERNELS(isa)                                               \
    namespace isa {                                                                            \
    void kd_loss_dense(float *, void *, const void *, const void *, const void *,              \
                       const kd_loss_params &, float, int);                                    \
    void kd_loss_topk(float *, void *, const void *, const void *, const void *, const void *, \
                      const kd_loss_params &, float, int);                                     \
    }
DISTILL_DECLARE_CPU_KD_LOSS_KERNELS(isa_generic)
DISTILL_DECLARE_CPU_KD_LOSS_KERNELS(isa_x86_64_v3)
DISTILL_DECLARE_CPU_KD_LOSS_KERNELS(isa_x86_64_v4)
#undef DISTILL_DECLARE_CPU_KD_LOSS_KERNELS

}  // namespace distill::kernels::cpu
