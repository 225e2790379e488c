// Loads libdistill_cuda.so on first demand (never at start-up), so that
// libdistill.so runs on machines without any CUDA installation.
#pragma once

#include <cstdint>

#include "cuda_backend_api.h"

namespace distill {

// The backend's table. Throws distill::error(unsupported) saying why it
// cannot be loaded (not built, library missing, libcudart/driver missing,
// version mismatch). Thread-safe; the outcome is cached.
const distill_cuda_backend_v1 & cuda_backend();

// Number of usable CUDA devices; 0 when the backend cannot be loaded.
int32_t cuda_device_count();

}  // namespace distill
