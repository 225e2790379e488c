// The C handles of the students' ABI (distill_model, distill_dataset,
// distill_trainer), shared by the capi sources. A model or trainer handle
// holds either a built-in MLP/CNN student or a transformer (distill.h,
// section 15), never both.
#pragma once

#include <distill/distill.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/context.h"
#include "train/example_set.h"

namespace distill {
class model;
class student_trainer;
class transformer_trainer;
namespace lm {
template <class T>
class basic_transformer;
using transformer = basic_transformer<float>;
}  // namespace lm
}  // namespace distill

namespace distill::capi {
// A transformer shared by the handles that use it (models, trainers,
// evaluations), with the mutex that serialises them: its forward keeps
// activations in the model.
struct shared_transformer {
    std::shared_ptr<lm::transformer> model;
    std::mutex mutex;
};
}  // namespace distill::capi

// A reference to a model: a trainer holds its own, so the caller may free
// the handle first (a model teacher answers with its own copy).
struct distill_model {
    std::shared_ptr<distill::model> impl;  // an MLP or CNN, used under impl->usage_mutex(); or null
    std::shared_ptr<distill::capi::shared_transformer> lm;  // a transformer; or null
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
    std::unique_ptr<distill::student_trainer> impl;      // an MLP or CNN's; or null
    std::unique_ptr<distill::transformer_trainer> lm;    // a transformer's; or null
    std::shared_ptr<distill::capi::shared_transformer> lm_model;  // its model and mutex
    ~distill_trainer();
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
distill_model * wrap_transformer(std::shared_ptr<lm::transformer> m);
// The transformer of a model or trainer handle; INVALID_ARGUMENT naming
// `call` for NULL or an MLP/CNN.
shared_transformer & unwrap_transformer(distill_model * model, const char * name);
distill::transformer_trainer & unwrap_transformer_trainer(distill_trainer * trainer);
}  // namespace distill::capi
