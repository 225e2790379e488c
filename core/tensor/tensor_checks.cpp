#include "tensor_checks.h"

#include <sstream>

#include "common/error.h"

namespace distill {

std::string shape_string(const DLTensor & tensor) {
    std::ostringstream out;
    out << '[';
    for (int32_t d = 0; d < tensor.ndim; ++d) out << (d ? ", " : "") << tensor.shape[d];
    out << ']';
    return out.str();
}

std::string dtype_string(DLDataType dtype) {
    const char * base = nullptr;
    switch (dtype.code) {
    case kDLFloat: base = "float"; break;
    case kDLBfloat: base = "bfloat"; break;
    case kDLInt: base = "int"; break;
    case kDLUInt: base = "uint"; break;
    default: break;
    }
    std::ostringstream out;
    if (base != nullptr)
        out << base << int(dtype.bits);
    else
        out << "code " << int(dtype.code) << " bits " << int(dtype.bits);
    if (dtype.lanes != 1) out << "x" << dtype.lanes;
    return out.str();
}

std::string device_string(DLDevice device) {
    switch (device.device_type) {
    case kDLCPU: return "cpu";
    case kDLCUDA: return "cuda:" + std::to_string(device.device_id);
    case kDLCUDAHost: return "cuda_host";
    case kDLCUDAManaged: return "cuda_managed:" + std::to_string(device.device_id);
    default: return "device type " + std::to_string(int(device.device_type));
    }
}

const DLTensor & require_tensor(const DLTensor * tensor, const char * name) {
    if (tensor == nullptr) fail_invalid(std::string(name) + ": expected a DLTensor, got NULL");
    if (tensor->ndim < 0 || (tensor->ndim > 0 && tensor->shape == nullptr))
        fail_invalid(std::string(name) + ": expected a shape, got ndim = " +
                     std::to_string(tensor->ndim) + " and shape = NULL");
    for (int32_t d = 0; d < tensor->ndim; ++d)
        if (tensor->shape[d] < 0)
            fail_invalid(std::string(name) + ": expected non-negative extents, got shape " +
                         shape_string(*tensor));
    if (tensor->data == nullptr && element_count(*tensor) > 0)
        fail_invalid(std::string(name) + ": expected data, got a NULL data pointer");
    return *tensor;
}

void require_device(const DLTensor & tensor, const char * name, expected_device device) {
    const DLDevice actual = tensor.device;
    bool ok = false;
    if (device.cuda)
        ok = (actual.device_type == kDLCUDA || actual.device_type == kDLCUDAManaged) &&
             actual.device_id == device.device_id;
    else
        ok = actual.device_type == kDLCPU || actual.device_type == kDLCUDAHost;
    if (!ok) {
        const std::string wanted =
            device.cuda ? "cuda:" + std::to_string(device.device_id) : std::string("cpu");
        fail_invalid(std::string(name) + ": expected a tensor on the context's device (" + wanted +
                     "), got one on " + device_string(actual));
    }
}

kernels::scalar_type require_floating(const DLTensor & tensor, const char * name) {
    const DLDataType t = tensor.dtype;
    if (t.lanes == 1) {
        if (t.code == kDLFloat && t.bits == 32) return kernels::scalar_type::f32;
        if (t.code == kDLFloat && t.bits == 16) return kernels::scalar_type::f16;
        if (t.code == kDLBfloat && t.bits == 16) return kernels::scalar_type::bf16;
    }
    fail_invalid(std::string(name) + ": expected dtype float32, bfloat16 or float16, got " +
                 dtype_string(t));
}

kernels::index_type require_integer(const DLTensor & tensor, const char * name) {
    const DLDataType t = tensor.dtype;
    if (t.lanes == 1 && t.code == kDLInt) {
        if (t.bits == 64) return kernels::index_type::i64;
        if (t.bits == 32) return kernels::index_type::i32;
    }
    fail_invalid(std::string(name) + ": expected dtype int64 or int32, got " + dtype_string(t));
}

void require_shape(const DLTensor & tensor, const char * name,
                   const std::vector<int64_t> & expected, const std::string & description) {
    bool ok = tensor.ndim == static_cast<int32_t>(expected.size());
    for (size_t d = 0; ok && d < expected.size(); ++d) ok = tensor.shape[d] == expected[d];
    if (!ok)
        fail_invalid(std::string(name) + ": expected shape " + description + ", got " +
                     shape_string(tensor));
}

void require_contiguous(const DLTensor & tensor, const char * name) {
    // An empty tensor addresses no element, whatever strides it carries
    // (PyTorch gives [0, V] and [N, 0] tensors strides such as [1, 1]).
    if (tensor.strides == nullptr || element_count(tensor) == 0) return;
    int64_t compact = 1;
    for (int32_t d = tensor.ndim - 1; d >= 0; --d) {
        if (tensor.shape[d] > 1 && tensor.strides[d] != compact) {
            std::ostringstream strides;
            for (int32_t e = 0; e < tensor.ndim; ++e)
                strides << (e ? ", " : "") << tensor.strides[e];
            fail_invalid(std::string(name) +
                         ": expected a row-major contiguous tensor, got strides [" + strides.str() +
                         "] for shape " + shape_string(tensor) + " (make it contiguous first)");
        }
        compact *= tensor.shape[d];
    }
}

int64_t element_count(const DLTensor & tensor) {
    int64_t count = 1;
    for (int32_t d = 0; d < tensor.ndim; ++d) count *= tensor.shape[d];
    return count;
}

void * data_pointer(const DLTensor & tensor) {
    return static_cast<char *>(tensor.data) + tensor.byte_offset;
}

int64_t byte_size(const DLTensor & tensor) {
    return element_count(tensor) * ((tensor.dtype.bits * tensor.dtype.lanes + 7) / 8);
}

void require_no_overlap(const DLTensor & output, const char * output_name, const DLTensor & input,
                        const char * input_name) {
    const auto out_begin = reinterpret_cast<uintptr_t>(data_pointer(output));
    const auto in_begin = reinterpret_cast<uintptr_t>(data_pointer(input));
    const auto out_end = out_begin + static_cast<uintptr_t>(byte_size(output));
    const auto in_end = in_begin + static_cast<uintptr_t>(byte_size(input));
    if (out_begin < in_end && in_begin < out_end && out_begin != out_end && in_begin != in_end)
        fail_invalid(std::string(output_name) + ": expected memory separate from " + input_name +
                     ", got overlapping buffers (in-place is not supported)");
}

}  // namespace distill
