// Where a call runs. Immutable after creation, so shared freely by threads.
#pragma once

#include <cstdint>

#include "cuda_backend_api.h"

namespace distill {

struct context {
    bool cuda = false;
    int32_t device_id = 0;
    int32_t num_threads = 0;  // 0 = OpenMP's default
    void * cuda_stream = nullptr;
    // Set when cuda: the loaded backend's function table.
    const distill_cuda_backend_v1 * cuda_backend = nullptr;
};

}  // namespace distill
