// A built-in model as a teacher, in process: the examples of a dataset
// (teachers/example_wire.h) go through one batched forward pass, and each
// answer is the class distribution as one position's top-k list — the
// same record an OpenAI-compatible server gives for one generated token.
#pragma once

#include <memory>
#include <string>

#include "backend/context.h"
#include "teachers/batch_teacher.h"

namespace distill {

class device_student;
class model;

class model_teacher final : public batch_teacher {
public:
    // top_k = 0: every class. The teacher answers with its own copy of the
    // model, taken now, and its identity holds the SHA-256 of that copy's
    // config and weights: training `m` further changes neither (a retrained
    // model needs a new teacher, which is then a different one to a store).
    // ctx: where its forward passes run: the CPU (ctx.num_threads OpenMP
    // threads; ≤ 0: OpenMP's default) or, for a CUDA context, that GPU,
    // which then holds the copy's weights for the teacher's life
    // (students/device_student.h).
    model_teacher(const model & m, std::string name, int32_t top_k, float temperature,
                  const context & ctx = {});
    ~model_teacher() override;

    const nlohmann::json & identity() const override { return identity_; }
    const nlohmann::json & parameters() const override { return parameters_; }
    void ask(const nlohmann::json & request, teacher_record & record) override;
    void ask_batch(std::span<const nlohmann::json> requests,
                   std::span<teacher_record> records) override;

private:
    std::unique_ptr<model> model_;  // guarded by its usage_mutex()
    std::unique_ptr<device_student> device_;  // CUDA only; guarded by the same mutex
    int32_t top_k_;
    int num_threads_;
    float temperature_;
    nlohmann::json identity_;
    nlohmann::json parameters_;
    std::string name_, fingerprint_;  // read by concurrent asks: never through json's operator[]
};

}  // namespace distill
