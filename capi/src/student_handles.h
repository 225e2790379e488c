// The C handles of the students' ABI (distill_model, distill_dataset,
// distill_trainer), shared by the capi sources.
#pragma once

#include <distill/distill.h>

#include <memory>
#include <string>
#include <vector>

#include "backend/context.h"
#include "train/example_set.h"

namespace distill {
class model;
class student_trainer;
}  // namespace distill

// A reference to a model: a trainer holds its own, so the caller may free
// the handle first (a model teacher answers with its own copy).
struct distill_model {
    std::shared_ptr<distill::model> impl;  // used under impl->usage_mutex()
    std::string config_json;               // canonical, for distill_model_config_json
};

struct distill_dataset {
    distill::example_set examples;
    // Shapes of the views distill_dataset_get hands out: [N, D], [N], [N, C], [N, K].
    int64_t input_shape[2] = {0, 0};
    int64_t label_shape[1] = {0};
    int64_t logit_shape[2] = {0, 0};
    int64_t topk_shape[2] = {0, 0};
    void refresh_shapes();
};

struct distill_trainer {
    std::unique_ptr<distill::student_trainer> impl;
};

namespace distill::capi {
distill::model & unwrap(distill_model * model);
const distill::model & unwrap(const distill_model * model);
distill::example_set & unwrap(distill_dataset * dataset);
const distill::example_set & unwrap(const distill_dataset * dataset);
distill::student_trainer & unwrap(distill_trainer * trainer);
const distill::student_trainer & unwrap(const distill_trainer * trainer);
// A new handle over `m`, its canonical config cached.
distill_model * wrap_model(std::shared_ptr<distill::model> m);
}  // namespace distill::capi
