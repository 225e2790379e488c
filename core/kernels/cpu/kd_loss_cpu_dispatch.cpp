// Picks the CPU kernels compiled for the best instruction set this CPU
// has, once, at first use.
#include "kd_loss_cpu.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace distill::kernels::cpu {
namespace {

#if defined(__x86_64__)
// F16C from CPUID leaf 1 (ECX bit 29): __builtin_cpu_supports("f16c") is
// GCC-only (clang learned it in version 16).
bool has_f16c() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}
#endif

enum class isa_level { generic, x86_64_v3, x86_64_v4 };

isa_level detect() {
#if defined(__x86_64__) && defined(DISTILL_CPU_HAS_ISA_VARIANTS)
    __builtin_cpu_init();
    const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("bmi2") && has_f16c();
    const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    if (v4) return isa_level::x86_64_v4;
    if (v3) return isa_level::x86_64_v3;
#endif
    return isa_level::generic;
}

isa_level best() {
    static const isa_level level = detect();
    return level;
}

}  // namespace

void kd_loss_dense(float * row_losses, void * grad, const void * student, const void * teacher,
                   const void * labels, const kd_loss_params & params, float grad_scale,
                   int num_threads) {
    switch (best()) {
#if defined(DISTILL_CPU_HAS_ISA_VARIANTS)
    case isa_level::x86_64_v4:
        return isa_x86_64_v4::kd_loss_dense(row_losses, grad, student, teacher, labels, params,
                                            grad_scale, num_threads);
    case isa_level::x86_64_v3:
        return isa_x86_64_v3::kd_loss_dense(row_losses, grad, student, teacher, labels, params,
                                            grad_scale, num_threads);
#endif
    default:
        return isa_generic::kd_loss_dense(row_losses, grad, student, teacher, labels, params,
                                          grad_scale, num_threads);
    }
}

void kd_loss_topk(float * row_losses, void * grad, const void * student, const void * topk_ids,
                  const void * topk_logprobs, const void * labels, const kd_loss_params & params,
                  float grad_scale, int num_threads) {
    switch (best()) {
#if defined(DISTILL_CPU_HAS_ISA_VARIANTS)
    case isa_level::x86_64_v4:
        return isa_x86_64_v4::kd_loss_topk(row_losses, grad, student, topk_ids, topk_logprobs,
                                           labels, params, grad_scale, num_threads);
    case isa_level::x86_64_v3:
        return isa_x86_64_v3::kd_loss_topk(row_losses, grad, student, topk_ids, topk_logprobs,
                                           labels, params, grad_scale, num_threads);
#endif
    default:
        return isa_generic::kd_loss_topk(row_losses, grad, student, topk_ids, topk_logprobs, labels,
                                         params, grad_scale, num_threads);
    }
}

}  // namespace distill::kernels::cpu
