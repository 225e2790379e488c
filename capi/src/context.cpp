// distill_context_*: a thin handle over distill::context.
#include <memory>
#include <string>

#include "api_guard.h"
#include "context_handle.h"
#include "backend/cuda_backend_loader.h"
#include "versioned_struct.h"

extern "C" {

distill_status distill_context_options_init(distill_context_options * options) {
    return distill::capi::guarded([&] {
        distill::capi::require_pointer(options, "options", "a distill_context_options to fill");
        *options = distill_context_options{};
        options->struct_size = sizeof(distill_context_options);
        options->device_type = DISTILL_DEVICE_CPU;
    });
}

distill_status distill_context_create(const distill_context_options * options,
                                      distill_context ** out) {
    return distill::capi::guarded([&] {
        distill::capi::require_pointer(out, "out", "a place for the new context");
        distill_context_options defaults{};
        distill_context_options_init(&defaults);
        const distill_context_options o =
            distill::capi::read_versioned(options, defaults, "options");
        if (o.device_type != DISTILL_DEVICE_CPU && o.device_type != DISTILL_DEVICE_CUDA)
            distill::fail_invalid(
                "options.device_type: expected DISTILL_DEVICE_CPU (0) or DISTILL_DEVICE_CUDA (1), "
                "got " +
                std::to_string(o.device_type));
        if (o.num_threads < 0)
            distill::fail_invalid("options.num_threads: expected >= 0 (0 = all cores), got " +
                                  std::to_string(o.num_threads));
        auto context = std::make_unique<distill_context>();
        context->impl.num_threads = o.num_threads;
        if (o.device_type == DISTILL_DEVICE_CUDA) {
            const distill_cuda_backend_v1 & backend = distill::cuda_backend();
            const int32_t devices = distill::cuda_device_count();
            if (o.device_id < 0 || o.device_id >= devices)
                distill::fail_unsupported(
                    "options.device_id: expected a CUDA device in [0, " + std::to_string(devices) +
                    "), got " + std::to_string(o.device_id) +
                    (devices == 0 ? " (this machine has no usable CUDA device)" : ""));
            context->impl.cuda = true;
            context->impl.device_id = o.device_id;
            context->impl.cuda_stream = o.cuda_stream;
            context->impl.cuda_backend = &backend;
        }
        *out = context.release();
    });
}

void distill_context_free(distill_context * context) { delete context; }

distill_status distill_cuda_device_count(int32_t * out_count) {
    return distill::capi::guarded([&] {
        distill::capi::require_pointer(out_count, "out_count", "a place for the count");
        *out_count = distill::cuda_device_count();
    });
}

}  // extern "C"

namespace distill::capi {
const distill::context & unwrap(const distill_context * context) {
    require_pointer(context, "context", "a context from distill_context_create");
    return context->impl;
}
}  // namespace distill::capi
