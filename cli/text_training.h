// distill train and distill eval on text: a transformer student trained
// for a number of steps on a token dataset's windows (*.tokens, made by
// `distill tokenize`), from the next tokens or from an in-process teacher
// transformer's logits, or on a teacher's stored answers (--teacher-store
// with the student's --tokenizer: token-level distillation from top-k
// log-probabilities); evaluated by perplexity, next-token accuracy and
// agreement with a teacher.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace distill_cli {

// Whether --data names a token dataset (the text path) rather than a
// feature dataset.
bool is_token_dataset(const std::string & data);

struct text_train_request {
    std::string config;      // JSON text (already read from a file)
    std::string data;        // *.tokens, or "" with teacher_store
    std::string teacher;     // a transformer model file or checkpoint; "" = none
    std::string teacher_store, tokenizer;         // stored answers, the student's tokenizer.json
    std::optional<std::string> teacher_identity;  // whose answers in teacher_store
    std::string checkpoint;  // resumed when it holds one
    std::string out;
    std::string optimizer, schedule;
    int64_t steps = 0;
    int batch_size = 8;
    int64_t eval_interval = 0, eval_windows = 0;
    int threads = 0;
    uint64_t seed = 0;
    float temperature = 1.0f;
    std::optional<float> soft_weight, hard_weight;
    float max_grad_norm = 0.0f;
    bool json = false;
};

int run_train_text(const text_train_request & request);

struct text_eval_request {
    std::string model, data, teacher;
    std::string teacher_store, tokenizer;  // stored answers instead of data
    std::optional<std::string> teacher_identity;
    std::string split = "validation";  // or "train"
    int64_t windows = 0;               // 0 = all
    int threads = 0;
    bool json = false;
};

int run_eval_text(const text_eval_request & request);

}  // namespace distill_cli
