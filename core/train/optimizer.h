// The optimizers of the built-in students, over one contiguous fp32
// parameter buffer and its gradient buffer (the students keep all their
// tensors in one buffer; a tensor is an [offset, offset + count) range).
//
// Arithmetic follows PyTorch's single-tensor (CPU) implementations step for
// step in fp32, so a run matches torch.optim to rounding:
//   SGD   (torch.optim.SGD, dampening 0):
//           g = grad + weight_decay · p
//           buf = g on the first step, else momentum · buf + g
//           g = nesterov ? g + momentum · buf : buf            (momentum > 0)
//           p = p − lr · g
//   AdamW (torch.optim.AdamW), t = step_count after the increment:
//           p = p · (1 − lr · weight_decay)
//           m = lerp(m, grad, 1 − β1);  v = β2 · v + (1 − β2) · grad²
//           p = p − lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
//
// Updates are split into chunks fixed by the parameter count, shared out
// among the students' worker threads (students/layers/thread_team.h; as
// many as OpenMP's thread count or num_threads), so every element sees the
// same instructions whatever the thread count: the result is bit-identical
// for any number of threads.
#pragma once

#include "train/lr_schedule.h"
#include "train/optimizer_config.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace distill {

// One named state buffer, parameter_count values: "momentum_buffer" (SGD
// with momentum > 0), "exp_avg" and "exp_avg_sq" (AdamW). The names are
// PyTorch's, so a checkpoint's optimizer tensors read like its state_dict.
struct optimizer_state_buffer {
    std::string name;
    std::vector<float> values;
};

class optimizer {
public:
    // Zeroed state for `parameter_count` parameters; refuses an invalid config.
    optimizer(const optimizer_config & config, int64_t parameter_count);

    // One update of `parameters` from `gradients` (both parameter_count
    // values) at learning rate `lr`, normally
    // learning_rate_at(schedule, base_learning_rate(config()), step_count()).
    // num_threads <= 0: OpenMP's default.
    void step(std::span<float> parameters, std::span<const float> gradients, double lr,
              int num_threads = 0);

    const optimizer_config & config() const { return config_; }
    int64_t parameter_count() const { return parameter_count_; }
    // Updates done so far (AdamW's t of the last update).
    int64_t step_count() const { return step_count_; }
    const std::vector<optimizer_state_buffer> & state() const { return state_; }

    // Restoring from a checkpoint: the step count, then each buffer of
    // state() by name, with exactly parameter_count values.
    void set_step_count(int64_t step_count);
    void set_state(std::string_view name, std::span<const float> values);

private:
    float * buffer(std::string_view name);

    optimizer_config config_;
    int64_t parameter_count_;
    int64_t step_count_ = 0;
    std::vector<optimizer_state_buffer> state_;
};

// The L2 norm of all gradients, accumulated in double (in fixed chunks, so
// bit-identical for any thread count).
double global_grad_norm(std::span<const float> gradients, int num_threads = 0);

// torch.nn.utils.clip_grad_norm_: scales the gradients by
// coef = max_norm / (norm + 1e-6) when coef < 1 and returns the norm before
// clipping. A non-finite norm (an inf or NaN gradient) leaves the gradients
// as they are: the caller sees it in the returned value and skips the step.
double clip_grad_norm(std::span<float> gradients, double max_norm, int num_threads = 0);

struct update_outcome {
    double grad_norm = 0.0;  // before clipping
    double learning_rate = 0.0;
};

// The update every trainer makes once its gradients are in: clips them to
// max_grad_norm (> 0; 0 = only measure the norm), refuses a non-finite norm
// (invalid_argument naming step + 1, the parameters unchanged), then one
// optimizer step at the schedule's rate for `step`, the updates done before
// this one.
update_outcome clipped_update(optimizer & opt, const lr_schedule_config & schedule,
                              std::span<float> parameters, std::span<float> gradients,
                              double max_grad_norm, int64_t step, int num_threads);

}  // namespace distill
