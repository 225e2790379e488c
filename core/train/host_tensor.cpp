#include "train/host_tensor.h"

#include <string>

#include "common/error.h"
#include "tensor/tensor_checks.h"

namespace distill {
namespace {

template <typename T>
DLTensor make_tensor(T * data, int64_t * shape, int32_t ndim, DLDataType dtype) {
    DLTensor t{};
    t.data = data;
    t.device = {kDLCPU, 0};
    t.ndim = ndim;
    t.dtype = dtype;
    t.shape = shape;
    return t;
}

void require_cpu_contiguous(const DLTensor & t, const char * name) {
    require_device(t, name, expected_device{false, 0});
    require_contiguous(t, name);
}

}  // namespace

DLTensor host_tensor(float * data, int64_t * shape, int32_t ndim) {
    return make_tensor(data, shape, ndim, DLDataType{kDLFloat, 32, 1});
}
DLTensor host_tensor(int64_t * data, int64_t * shape, int32_t ndim) {
    return make_tensor(data, shape, ndim, DLDataType{kDLInt, 64, 1});
}
DLTensor host_tensor(int32_t * data, int64_t * shape, int32_t ndim) {
    return make_tensor(data, shape, ndim, DLDataType{kDLInt, 32, 1});
}

const float * require_host_matrix(const DLTensor * tensor, const char * name,
                                  int64_t expected_columns, int64_t * rows, int64_t * columns) {
    const DLTensor & t = require_tensor(tensor, name);
    if (t.ndim != 2)
        fail_invalid(
            std::string(name) + ": expected a matrix [rows, " +
            (expected_columns < 0 ? std::string("columns") : std::to_string(expected_columns)) +
            "], got shape " + shape_string(t));
    if (t.dtype.code != kDLFloat || t.dtype.bits != 32 || t.dtype.lanes != 1)
        fail_invalid(std::string(name) + ": expected dtype float32, got " + dtype_string(t.dtype));
    require_cpu_contiguous(t, name);
    if (expected_columns >= 0 && t.shape[1] != expected_columns)
        fail_invalid(std::string(name) + ": expected shape [rows, " +
                     std::to_string(expected_columns) + "] (the model's features), got " +
                     shape_string(t));
    if (t.shape[0] < 1 || t.shape[1] < 1)
        fail_invalid(std::string(name) + ": expected at least one row and one column, got " +
                     shape_string(t));
    *rows = t.shape[0];
    *columns = t.shape[1];
    return static_cast<const float *>(data_pointer(t));
}

const int64_t * require_host_labels(const DLTensor * tensor, const char * name,
                                    int64_t expected_rows) {
    const DLTensor & t = require_tensor(tensor, name);
    if (t.dtype.code != kDLInt || t.dtype.bits != 64 || t.dtype.lanes != 1)
        fail_invalid(std::string(name) + ": expected dtype int64, got " + dtype_string(t.dtype));
    require_shape(t, name, {expected_rows}, "[N] = [" + std::to_string(expected_rows) + "]");
    require_cpu_contiguous(t, name);
    return static_cast<const int64_t *>(data_pointer(t));
}

}  // namespace distill
