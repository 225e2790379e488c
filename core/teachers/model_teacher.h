// A built-in model as a teacher, in process: the examples of a dataset
// (train/example_request.h) go through one batched forward pass, and each
// answer is the class distribution as one position's top-k list — the
// same record an OpenAI-compatible server gives for one generated token.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "teachers/batch_teacher.h"

namespace distill {

class model;

class model_teacher final : public batch_teacher {
public:
    // top_k = 0: every class. The identity holds the SHA-256 of the model's
    // config and weights, taken now: train the model further and it is a
    // different teacher (create a new one).
    model_teacher(std::shared_ptr<model> m, std::string name, int32_t top_k, float temperature);

    const nlohmann::json & identity() const override { return identity_; }
    const nlohmann::json & parameters() const override { return parameters_; }
    void ask(const nlohmann::json & request, teacher_record & record) override;
    void ask_batch(std::span<const nlohmann::json> requests,
                   std::span<teacher_record> records) override;

private:
    std::shared_ptr<model> model_;
    std::mutex forward_mutex_;  // the model keeps its activations
    int32_t top_k_;
    float temperature_;
    nlohmann::json identity_;
    nlohmann::json parameters_;
};

}  // namespace distill
