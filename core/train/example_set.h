// An in-memory training set: N examples of D fp32 features, optional labels
// and optional teacher targets (dense logits or top-k log-probabilities).
// What the C ABI's distill_dataset holds and what the trainer reads.
#pragma once

#include <cstdint>
#include <vector>

namespace distill {

struct example_set {
    int64_t rows = 0;             // N
    int64_t features = 0;         // D
    std::vector<float> inputs;    // [N, D]
    std::vector<int64_t> labels;  // [N], or empty

    // Dense teacher targets: logits [N, C] (teacher_classes = C), or empty.
    int64_t teacher_classes = 0;
    std::vector<float> teacher_logits;
    // Top-k teacher targets: ids and log-probabilities [N, K], or empty.
    int64_t teacher_k = 0;
    std::vector<int32_t> teacher_topk_ids;
    std::vector<float> teacher_topk_logprobs;

    bool has_labels() const { return !labels.empty(); }
    bool has_teacher_logits() const { return teacher_classes > 0; }
    bool has_teacher_topk() const { return teacher_k > 0; }
    bool has_teacher() const { return has_teacher_logits() || has_teacher_topk(); }
};

// Rows [begin, begin + count) with everything they carry (checked by the caller).
example_set slice_examples(const example_set & set, int64_t begin, int64_t count);

// The rows `order[0..count)` gathered into `out` (resized), for one batch.
void gather_examples(const example_set & set, const int64_t * order, int64_t count,
                     example_set & out);

}  // namespace distill
