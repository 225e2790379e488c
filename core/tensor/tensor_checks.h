// Checks of DLTensor arguments that produce the errors users read:
// "<name>: expected <what>, got <actual>".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <dlpack/dlpack.h>

#include "backend/kd_loss_params.h"

namespace distill {

// "[512, 32000]"
std::string shape_string(const DLTensor & tensor);
// "float32", "bfloat16", "int64", or "code 7 bits 8 lanes 1"
std::string dtype_string(DLDataType dtype);
// "cpu", "cuda:1", ...
std::string device_string(DLDevice device);

// The DLTensor itself must not be NULL, nor its data (unless it is empty).
const DLTensor & require_tensor(const DLTensor * tensor, const char * name);

// The device the context runs on, as DLPack spells it.
struct expected_device {
    bool cuda;
    int32_t device_id;
};
void require_device(const DLTensor & tensor, const char * name, expected_device device);

// fp32, bf16 or fp16, single lane.
kernels::scalar_type require_floating(const DLTensor & tensor, const char * name);
// int32 or int64, single lane.
kernels::index_type require_integer(const DLTensor & tensor, const char * name);

// Exactly `expected` dimensions; `description` spells them for the message
// ("[N, V] = [512, 32000] (N and V of student_logits)").
void require_shape(const DLTensor & tensor, const char * name,
                   const std::vector<int64_t> & expected, const std::string & description);

// Row-major compact (strides NULL, or equal to the compact strides on every
// dimension of extent > 1). Non-contiguous tensors are refused.
void require_contiguous(const DLTensor & tensor, const char * name);

// Element count and the first byte, byte_offset included.
int64_t element_count(const DLTensor & tensor);
void * data_pointer(const DLTensor & tensor);
// Bytes spanned by a compact tensor.
int64_t byte_size(const DLTensor & tensor);

// Refuses an output whose memory overlaps an input's.
void require_no_overlap(const DLTensor & output, const char * output_name, const DLTensor & input,
                        const char * input_name);

}  // namespace distill
