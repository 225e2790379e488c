// The C handle behind distill_context, shared by the capi sources.
#pragma once

#include <distill/distill.h>

#include "backend/context.h"

struct distill_context {
    distill::context impl;
};

namespace distill::capi {
// The core context behind a handle; throws invalid_argument for NULL.
const distill::context & unwrap(const distill_context * context);
}  // namespace distill::capi
