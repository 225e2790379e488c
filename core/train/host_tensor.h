// DLTensor views over host memory, and the checks of host tensor arguments
// the students' C ABI shares (fp32 matrices, int64 label vectors).
#pragma once

#include <cstdint>

#include <dlpack/dlpack.h>

namespace distill {

// A compact CPU DLTensor over `data` with `ndim` dims in `shape` (both borrowed).
DLTensor host_tensor(float * data, int64_t * shape, int32_t ndim);
DLTensor host_tensor(int64_t * data, int64_t * shape, int32_t ndim);
DLTensor host_tensor(int32_t * data, int64_t * shape, int32_t ndim);

// A contiguous fp32 CPU matrix [rows, columns]; expected_columns < 0 = any.
// Returns the data; *rows / *columns receive the extents. Errors name `name`.
const float * require_host_matrix(const DLTensor * tensor, const char * name,
                                  int64_t expected_columns, int64_t * rows, int64_t * columns);

// A contiguous int64 CPU vector of `expected_rows` entries.
const int64_t * require_host_labels(const DLTensor * tensor, const char * name,
                                    int64_t expected_rows);

}  // namespace distill
