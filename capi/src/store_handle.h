// The C handle behind distill_store, shared by the capi sources.
#pragma once

#include <distill/distill.h>

#include <memory>

#include "store/store.h"

struct distill_store {
    std::unique_ptr<distill::store> impl;
};

namespace distill::capi {
// The store behind a handle; throws invalid_argument for NULL.
distill::store & unwrap(distill_store * store);
}  // namespace distill::capi
