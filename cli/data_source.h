// Where a CLI verb reads its examples: "fashion-mnist:train",
// "fashion-mnist:test" (Debian's dataset-fashion-mnist, or
// $DISTILL_FASHION_MNIST_DIR), or "idx:IMAGES,LABELS" (IDX files, gzip'ed
// or not). An optional ":N" suffix keeps the first N examples.
#pragma once

#include <distill/distill.hpp>

#include <string>

namespace distill_cli {

// Throws distill::Exception (INVALID_ARGUMENT) for a spec it cannot read.
distill::Dataset open_data_source(const std::string & spec);

// The help text shared by the verbs' --data options.
inline constexpr const char * data_source_help =
    "fashion-mnist:train | fashion-mnist:test | idx:IMAGES,LABELS, each optionally followed by :N "
    "(the first N examples)";

}  // namespace distill_cli
