#include "train/example_set.h"

#include <algorithm>

namespace distill {
namespace {

// Copies the rows order[0..count) of a [N, width] array into out [count, width].
template <typename T>
void gather_rows(const std::vector<T> & in, int64_t width, const int64_t * order, int64_t count,
                 std::vector<T> & out) {
    if (in.empty()) {
        out.clear();
        return;
    }
    out.resize(size_t(count * width));
    for (int64_t r = 0; r < count; ++r)
        std::copy_n(in.begin() + order[r] * width, width, out.begin() + r * width);
}

}  // namespace

void gather_examples(const example_set & set, const int64_t * order, int64_t count,
                     example_set & out) {
    out.rows = count;
    out.features = set.features;
    out.teacher_classes = set.teacher_classes;
    out.teacher_k = set.teacher_k;
    gather_rows(set.inputs, set.features, order, count, out.inputs);
    gather_rows(set.labels, 1, order, count, out.labels);
    gather_rows(set.teacher_logits, set.teacher_classes, order, count, out.teacher_logits);
    gather_rows(set.teacher_topk_ids, set.teacher_k, order, count, out.teacher_topk_ids);
    gather_rows(set.teacher_topk_logprobs, set.teacher_k, order, count, out.teacher_topk_logprobs);
}

example_set slice_examples(const example_set & set, int64_t begin, int64_t count) {
    std::vector<int64_t> order(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) order[size_t(i)] = begin + i;
    example_set out;
    gather_examples(set, order.data(), count, out);
    return out;
}

}  // namespace distill
