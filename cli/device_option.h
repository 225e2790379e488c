// --device for the commands that run a built-in student: "cpu" (default),
// "cuda" (device 0) or "cuda:N". Training and prediction then run on that
// device; teachers, evaluation and data stay on the CPU.
#pragma once

#include <distill/distill.hpp>

#include <string>

namespace distill_cli {

inline constexpr const char * train_device_help =
    "Where the student trains: cpu (default), cuda or cuda:N (a GPU; the teacher and the final "
    "evaluation stay on the CPU)";
inline constexpr const char * predict_device_help =
    "Where the model predicts: cpu (default), cuda or cuda:N (a GPU; the data is read on the "
    "CPU)";

// The context options for `text`, with `threads` CPU threads for a CPU
// device. Throws distill::Exception(INVALID_ARGUMENT) naming --device for
// anything else.
distill::ContextOptions device_context_options(const std::string & text, int threads);

}  // namespace distill_cli
