// Asking a teacher about every example of a training set, through the
// store: the distiller's half of the demo, and distill_dataset_ask_teacher.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "teachers/teacher_record.h"
#include "train/example_set.h"

namespace distill {

class store;
class teacher;

struct ask_counts {
    int64_t asked = 0;       // answered by the teacher in this call
    int64_t from_store = 0;  // found in the store as a success
};

// Called after each batch with the counts so far; returning false cancels
// (ask_teacher_for_targets then throws error(cancelled), keeping what was
// stored).
using ask_progress = std::function<bool(const ask_counts & counts, int64_t done, int64_t total)>;

// The teacher's class distributions over a set's examples, as top-k
// targets [N, K] (K = the smallest top-k answered, best first).
struct topk_targets {
    int64_t k = 0;
    std::vector<int32_t> ids;     // [N, K]
    std::vector<float> logprobs;  // [N, K]
    ask_counts counts;
};

// Asks `t` about every example of `set`, through the store `s` when not
// null. Requests are teachers/example_wire.h's; answers stored in
// transactions of batch_size. Throws invalid_argument for a failed answer
// or one without top-k class ids, naming the example.
topk_targets ask_teacher_for_targets(const example_set & set, teacher & t, store * s,
                                     int64_t batch_size, const ask_progress & progress);

// The class distribution an answer gives, best first: its first position's
// top-k list. Throws invalid_argument naming `example` for a failed answer,
// one without top-k log-probabilities, or a class id < 0.
std::vector<top_logprob> answer_classes(const teacher_record & record, int64_t example);

// Targets [N, K] from each example's classes (answer_classes), K = the
// shortest list; log-probabilities rounded to fp16 as the store keeps them,
// so fresh and stored answers give the same targets. counts left at zero.
topk_targets targets_from_classes(const std::vector<std::vector<top_logprob>> & answers);

}  // namespace distill
