// The loss options struct of the C ABI, read into the core's options
// (shared by distill_kd_loss* and the trainer).
#pragma once

#include <distill/distill.h>

#include "losses/kd_loss.h"

namespace distill::capi {
// NULL = the defaults of distill_kd_loss_options_init.
distill::kd_loss_options to_core(const distill_kd_loss_options * given);
}  // namespace distill::capi
