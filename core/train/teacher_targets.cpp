#include "train/teacher_targets.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "common/error.h"
#include "store/store.h"
#include "teachers/batch_teacher.h"
#include "teachers/example_wire.h"
#include "teachers/teacher.h"

namespace distill {
namespace {

// Asks the teacher the requests of one batch: in one call when it can
// (batch_teacher), else one by one; stamps each record as query() does.
// `records` receives the answers in order; when asking one by one throws
// (a cancel), it holds those answered before.
void ask_batch(teacher & t, std::span<const nlohmann::json> requests,
               std::vector<teacher_record> & records) {
    const auto wall_start = std::chrono::system_clock::now();
    const auto start = std::chrono::steady_clock::now();
    if (auto * batched = dynamic_cast<batch_teacher *>(&t)) {
        records.resize(requests.size());
        batched->ask_batch(requests, records);
        for (size_t i = 0; i < requests.size(); ++i)
            stamp_record(t, requests[i], wall_start, start, records[i]);
        return;
    }
    for (const nlohmann::json & request : requests) records.push_back(query(t, request));
}

}  // namespace

// Sorted here: a host teacher may give its top-k list in any order.
std::vector<top_logprob> answer_classes(const teacher_record & record, int64_t example) {
    const std::string where = "teacher answer for example " + std::to_string(example);
    if (record.failed())
        fail_invalid(where + ": the teacher failed (" + record.error_message + ")");
    if (record.positions.empty() || record.positions[0].top.empty())
        fail_invalid(where + ": expected a position with top-k log-probabilities, got " +
                     std::to_string(record.positions.size()) + " positions");
    std::vector<top_logprob> classes = record.positions[0].top;
    for (const top_logprob & alternative : classes)
        if (alternative.id < 0)
            fail_invalid(where + ": expected class ids ≥ 0 in the top-k list, got " +
                         std::to_string(alternative.id) + " (token '" + alternative.token + "')");
    std::stable_sort(
        classes.begin(), classes.end(),
        [](const top_logprob & a, const top_logprob & b) { return a.logprob > b.logprob; });
    return classes;
}

topk_targets targets_from_classes(const std::vector<std::vector<top_logprob>> & answers) {
    const int64_t rows = int64_t(answers.size());
    topk_targets targets;
    targets.k = rows == 0 ? 0 : INT64_MAX;
    for (const std::vector<top_logprob> & classes : answers)
        targets.k = std::min<int64_t>(targets.k, int64_t(classes.size()));
    const int64_t k = targets.k;
    targets.ids.resize(size_t(rows * k));
    targets.logprobs.resize(size_t(rows * k));
    for (int64_t i = 0; i < rows; ++i) {
        const std::vector<top_logprob> & classes = answers[size_t(i)];
        for (int64_t j = 0; j < k; ++j) {
            targets.ids[size_t(i * k + j)] = classes[size_t(j)].id;
            // The store keeps top-k log-probabilities as fp16 (round to
            // nearest even): round fresh answers the same way, so a run
            // that asks and a run that reads the store train identically.
            targets.logprobs[size_t(i * k + j)] = float(_Float16(classes[size_t(j)].logprob));
        }
    }
    return targets;
}

topk_targets ask_teacher_for_targets(const example_set & set, teacher & t, store * s,
                                     int64_t batch_size, const ask_progress & progress) {
    if (batch_size < 1)
        fail_invalid("options.batch_size: expected ≥ 1, got " + std::to_string(batch_size));
    ask_counts counts;
    // Only each example's class list is kept, not its whole record.
    std::vector<std::vector<top_logprob>> answers(size_t(set.rows));
    std::vector<nlohmann::json> pending_requests;
    std::vector<int64_t> pending_examples;

    const auto flush = [&] {
        if (pending_requests.empty()) return;
        std::vector<teacher_record> records;
        try {
            ask_batch(t, pending_requests, records);
        } catch (...) {
            // Cancelled or failed midway: what was answered is stored (it may
            // have cost money), then the error goes on.
            if (s && !records.empty()) s->put_many(records);
            throw;
        }
        if (s) s->put_many(records);
        for (size_t i = 0; i < records.size(); ++i)
            answers[size_t(pending_examples[i])] = answer_classes(records[i], pending_examples[i]);
        counts.asked += int64_t(records.size());
        pending_requests.clear();
        pending_examples.clear();
    };

    for (int64_t begin = 0; begin < set.rows; begin += batch_size) {
        const int64_t end = std::min(set.rows, begin + batch_size);
        for (int64_t i = begin; i < end; ++i) {
            nlohmann::json request =
                example_request(set.inputs.data() + i * set.features, set.features);
            if (s) {
                std::optional<teacher_record> stored = s->get(request_key(t, request));
                if (stored && !stored->failed()) {
                    answers[size_t(i)] = answer_classes(*stored, i);
                    ++counts.from_store;
                    continue;
                }
            }
            pending_requests.push_back(std::move(request));
            pending_examples.push_back(i);
        }
        flush();
        if (progress && !progress(counts, end, set.rows))
            throw error(status::cancelled, "asking the teacher was cancelled after " +
                                               std::to_string(end) + " of " +
                                               std::to_string(set.rows) + " examples");
    }

    // Every answer is in.
    topk_targets targets = targets_from_classes(answers);
    targets.counts = counts;
    return targets;
}

}  // namespace distill
