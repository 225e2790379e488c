// The handle behind distill_text_dataset, shared by the calls that take one
// (text_dataset.cpp, language_model.cpp), and the reading of a distill_split.
#pragma once

#include <distill/distill.h>

#include <memory>
#include <string>

#include "api_guard.h"
#include "common/error.h"
#include "text/text_dataset.h"

struct distill_text_dataset {
    std::unique_ptr<distill::text::text_dataset> dataset;
};

namespace distill::capi {

inline const text::text_dataset & unwrap_text_dataset(const distill_text_dataset * handle) {
    require_pointer(handle, "dataset", "a dataset from distill_text_dataset_open");
    return *handle->dataset;
}

// `name` is the argument as the caller spells it ("split", "options.split").
inline text::dataset_split split_of(int32_t split, const char * name = "split") {
    if (split == DISTILL_SPLIT_TRAIN) return text::dataset_split::train;
    if (split == DISTILL_SPLIT_VALIDATION) return text::dataset_split::validation;
    fail_invalid(std::string(name) + ": expected DISTILL_SPLIT_TRAIN (0) or "
                 "DISTILL_SPLIT_VALIDATION (1), got " + std::to_string(split));
}

}  // namespace distill::capi
