#include "train/stored_targets.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "store/store.h"
#include "teachers/example_wire.h"
#include "teachers/request_key.h"

namespace distill {
namespace {

std::string request_text(const example_set & set, int64_t example) {
    return canonical_json(
        example_request(set.inputs.data() + example * set.features, set.features));
}

// The examples by their canonical request: a hash per example (8 bytes
// instead of the ~1 KB request text of a 28×28 image); a hit is confirmed
// against the example's request, rebuilt.
class request_index {
public:
    explicit request_index(const example_set & set) : set_(set) {
        by_hash_.reserve(size_t(set.rows));
        for (int64_t i = 0; i < set.rows; ++i)
            by_hash_.emplace(std::hash<std::string>{}(request_text(set, i)), i);
    }

    // The examples whose request is `request_json` (identical inputs share
    // one request), in `out`.
    void examples_of(const std::string & request_json, std::vector<int64_t> & out) const {
        out.clear();
        const auto [first, last] = by_hash_.equal_range(std::hash<std::string>{}(request_json));
        for (auto it = first; it != last; ++it)
            if (request_text(set_, it->second) == request_json) out.push_back(it->second);
    }

private:
    const example_set & set_;
    std::unordered_multimap<size_t, int64_t> by_hash_;
};

// A teacher (identity and parameters) that answered some of the examples.
struct answering_teacher {
    std::string identity;    // canonical JSON, as stored
    std::string parameters;  // canonical JSON, as stored
    int64_t examples = 0;    // examples it answered
};

// "T with parameters P (n examples), ...": at most 8, the rest counted.
std::string list_teachers(const std::vector<answering_teacher> & teachers, bool with_parameters) {
    constexpr size_t shown = 8;
    std::string text;
    for (size_t i = 0; i < teachers.size() && i < shown; ++i) {
        const answering_teacher & t = teachers[i];
        if (i > 0) text += ", ";
        text += with_parameters ? t.identity + " with parameters " + t.parameters : t.identity;
        text += " (" + std::to_string(t.examples) + " examples)";
    }
    if (teachers.size() > shown)
        text += " and " + std::to_string(teachers.size() - shown) + " more";
    return text;
}

// The answering teachers grouped by identity (parameters summed).
std::vector<answering_teacher> by_identity(const std::vector<answering_teacher> & teachers) {
    std::vector<answering_teacher> identities;
    for (const answering_teacher & t : teachers) {
        auto it =
            std::find_if(identities.begin(), identities.end(),
                         [&](const answering_teacher & u) { return u.identity == t.identity; });
        if (it == identities.end())
            identities.push_back({t.identity, "", t.examples});
        else
            it->examples += t.examples;
    }
    return identities;
}

// What one scan of the store finds: every answering teacher, and the
// answers of the one `which` selects (the first such seen; a second one
// makes the choice ambiguous, reported after the scan).
class stored_answers {
public:
    stored_answers(const example_set & set, const stored_teacher & which)
        : index_(set), answers_(size_t(set.rows)) {
        if (which.identity) identity_ = canonical_json(*which.identity);
        if (which.parameters) parameters_ = canonical_json(*which.parameters);
    }

    void visit(const record_summary & row, const std::function<teacher_record()> & decode) {
        ++rows_;
        index_.examples_of(row.request_json, examples_);
        if (examples_.empty()) return;
        answering_teacher & t = teacher_of(row);
        t.examples += int64_t(examples_.size());
        if (!selectable(t)) return;
        if (!chosen_) chosen_ = size_t(&t - teachers_.data());
        if (&teachers_[*chosen_] != &t) return;
        teacher_record answer = decode();
        // Only what answer_classes reads is kept: not the request, text
        // and provenance (~2 KB an example).
        answer.positions.resize(std::min<size_t>(answer.positions.size(), 1));
        answer.origin = {};
        answer.text.clear();
        answer.embeddings.clear();
        for (int64_t example : examples_) {
            std::optional<teacher_record> & slot = answers_[size_t(example)];
            // A success wins over a failure filed under another key.
            if (!slot || (slot->failed() && !answer.failed())) slot = answer;
        }
    }

    // The targets, or the reason there are none (see read_stored_targets).
    topk_targets targets(const std::string & path) const {
        const std::string where = "store '" + path + "'";
        const int64_t n = int64_t(answers_.size());
        const std::string of_n = " of these " + std::to_string(n) + " examples";
        check_one_teacher(where, of_n);
        const answering_teacher & chosen = teachers_[*chosen_];
        int64_t found = 0, failures = 0, first_missing = -1, first_failure = -1;
        for (int64_t i = 0; i < n; ++i) {
            const std::optional<teacher_record> & answer = answers_[size_t(i)];
            if (!answer) {
                if (first_missing < 0) first_missing = i;
                continue;
            }
            ++found;
            if (answer->failed() && failures++ == 0) first_failure = i;
        }
        if (found < n)
            fail_invalid(where + ": found answers from teacher " + chosen.identity + " for " +
                         std::to_string(found) + of_n + "; " + std::to_string(n - found) +
                         " are missing, the first is example " + std::to_string(first_missing) +
                         "; ask the teacher about them through this store (only the missing "
                         "ones are asked)");
        if (failures > 0)
            fail_invalid(where + ": the stored answer for example " +
                         std::to_string(first_failure) + " is a failure (" +
                         answers_[size_t(first_failure)]->error_message + "); " +
                         std::to_string(failures) + " of the " + std::to_string(n) +
                         " stored answers are failures: ask the teacher again through this "
                         "store (stored failures are asked again)");

        std::vector<std::vector<top_logprob>> classes(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i)
            classes[size_t(i)] = answer_classes(*answers_[size_t(i)], i);
        topk_targets out = targets_from_classes(classes);
        out.counts.from_store = n;
        return out;
    }

private:
    // Throws unless exactly one answering teacher matches `which`.
    void check_one_teacher(const std::string & where, const std::string & of_n) const {
        std::vector<answering_teacher> candidates;
        for (const answering_teacher & t : teachers_)
            if (selectable(t)) candidates.push_back(t);
        if (teachers_.empty())
            fail_invalid(where + ": holds no answer to any" + of_n + " (" + std::to_string(rows_) +
                         " records in all); ask a teacher about them through this store first");
        if (candidates.empty()) {
            // The identity is at fault when no teacher has it; else the parameters.
            const bool unknown_identity = identity_ && !answered_by_identity();
            fail_invalid(std::string(unknown_identity ? "teacher_identity_json"
                                                      : "teacher_parameters_json") +
                         ": " + where + " holds no answer to any" + of_n + " from teacher " +
                         (identity_ ? *identity_ : "(any)") +
                         (parameters_ ? " with parameters " + *parameters_ : "") +
                         "; it answers them from: " + list_teachers(teachers_, true));
        }
        if (const std::vector<answering_teacher> identities = by_identity(candidates);
            identities.size() > 1)
            fail_invalid(
                "teacher_identity_json: " + where + " answers these examples from " +
                std::to_string(identities.size()) +
                " teachers; pass the identity of one: " + list_teachers(identities, false));
        if (candidates.size() > 1)
            fail_invalid(
                "teacher_parameters_json: " + where + " answers these examples from teacher " +
                candidates[0].identity + " asked with " + std::to_string(candidates.size()) +
                " parameter sets; pass the parameters of one: " + list_teachers(candidates, true));
    }

    answering_teacher & teacher_of(const record_summary & row) {
        for (answering_teacher & t : teachers_)
            if (t.identity == row.teacher_json && t.parameters == row.parameters_json) return t;
        // Grows rarely (one entry per teacher and parameter set): chosen_ is
        // an index, not a pointer, for that reason.
        teachers_.push_back({row.teacher_json, row.parameters_json, 0});
        return teachers_.back();
    }

    bool selectable(const answering_teacher & t) const {
        return (!identity_ || t.identity == *identity_) &&
               (!parameters_ || t.parameters == *parameters_);
    }

    // Whether a teacher with the asked-for identity answered (any parameters).
    bool answered_by_identity() const {
        return std::any_of(teachers_.begin(), teachers_.end(),
                           [&](const answering_teacher & t) { return t.identity == *identity_; });
    }

    request_index index_;
    std::optional<std::string> identity_, parameters_;
    std::vector<answering_teacher> teachers_;
    std::optional<size_t> chosen_;
    std::vector<std::optional<teacher_record>> answers_;  // [N], slim
    std::vector<int64_t> examples_;                       // scratch: the row's examples
    int64_t rows_ = 0;
};

}  // namespace

topk_targets read_stored_targets(const example_set & set, store & s, const stored_teacher & which) {
    if (set.rows < 1) fail_invalid("dataset: expected at least 1 example, got 0");
    stored_answers answers(set, which);
    s.scan([&](const record_summary & row, const std::function<teacher_record()> & decode) {
        answers.visit(row, decode);
    });
    return answers.targets(s.path());
}

}  // namespace distill
