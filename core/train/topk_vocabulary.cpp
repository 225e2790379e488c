#include "train/topk_vocabulary.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "common/error.h"
#include "text/byte_level.h"

namespace distill {
namespace {

constexpr float no_mass = -std::numeric_limits<float>::infinity();

// The bytes of the student's token `id`, or nullopt when no token has it.
std::optional<std::string> student_bytes(const tokenizer::bpe_tokenizer & t, int32_t id) {
    if (const tokenizer::added_token * added = t.added().by_id(id)) return added->content;
    if (id < 0 || id >= t.model().size() || t.model().token(id).empty()) return std::nullopt;
    return t.model().token_bytes(id);
}

// Whether a server's text can be compared with a token's bytes: not the
// id spelled out (vLLM's "token_id:N"), not a stand-in for bytes that are
// not a whole character (U+FFFD, OpenAI's "bytes:\xe2…").
bool comparable_text(const std::string & text) {
    return !text.empty() && text.rfind("token_id:", 0) != 0 && text.rfind("bytes:", 0) != 0 &&
           text.find("\xEF\xBF\xBD") == std::string::npos;
}

// log(exp(a) + exp(b)) without overflow; a, b ≤ 0 or −inf.
float log_add(float a, float b) {
    const double hi = std::max(a, b), lo = std::min(a, b);
    if (hi == -std::numeric_limits<double>::infinity()) return no_mass;
    return float(hi + std::log1p(std::exp(lo - hi)));
}

std::string percent(int64_t part, int64_t whole) {
    const double value = whole > 0 ? 100.0 * double(part) / double(whole) : 0.0;
    return std::to_string(int64_t(std::lround(value))) + "%";
}

}  // namespace

topk_vocabulary_map::topk_vocabulary_map(const tokenizer::bpe_tokenizer & student,
                                         std::string student_name, std::string teacher_name)
    : student_(student),
      student_name_(std::move(student_name)),
      teacher_name_(std::move(teacher_name)) {}

std::string topk_vocabulary_map::vocabularies() const {
    const std::string teacher = teacher_name_.empty() ? "unnamed" : "'" + teacher_name_ + "'";
    const std::string student = student_name_.empty() ? "unnamed" : "'" + student_name_ + "'";
    return "the teacher's vocabulary (" + teacher + ") and the student's (" + student + ", " +
           std::to_string(student_.vocab_size()) + " ids)";
}

int64_t topk_vocabulary_map::map(const std::vector<top_logprob> & top, int64_t K, int32_t * ids,
                                 float * logprobs, const std::string & where) {
    if (K < 1) fail_invalid("top-k targets: expected K >= 1, got " + std::to_string(K));
    for (int64_t slot = 0; slot < K; ++slot) {
        ids[slot] = -1;
        logprobs[slot] = no_mass;
    }
    int64_t filled = 0;
    const int64_t count = std::min<int64_t>(K, int64_t(top.size()));
    for (int64_t i = 0; i < count; ++i) {
        const top_logprob & alt = top[size_t(i)];
        const std::string what = where + " alternative " + std::to_string(i) + " ('" + alt.token + "')";
        if (std::isnan(alt.logprob) || alt.logprob > 0.0f)
            fail_invalid(what + ": expected a log-probability <= 0, got " +
                         std::to_string(alt.logprob));
        ++counts_.alternatives;
        const std::optional<int32_t> id = student_id(alt.id, alt.token, what);
        if (alt.id >= 0) {
            ++counts_.by_id;
            if (comparable_text(alt.token)) {
                ++counts_.ids_checked;
                if (student_bytes(student_, alt.id) != alt.token) ++counts_.ids_disagreeing;
            }
        } else if (id) {
            ++counts_.by_bytes;
        }
        if (!id) {
            ++counts_.unmapped;  // an empty slot: its mass is in the tail
            continue;
        }
        bool merged = false;
        for (int64_t slot = 0; slot < filled && !merged; ++slot)
            if (ids[slot] == *id) {
                logprobs[slot] = log_add(logprobs[slot], alt.logprob);
                merged = true;
            }
        if (merged) {
            ++counts_.merged;
            continue;
        }
        ids[filled] = *id;
        logprobs[filled] = alt.logprob;
        ++filled;
    }
    return filled;
}

std::optional<int32_t> topk_vocabulary_map::student_id(int32_t server_id,
                                                       const std::string & bytes,
                                                       const std::string & where) const {
    if (server_id >= 0) {
        if (server_id >= student_.vocab_size())
            fail_invalid(where + ": the teacher's id " + std::to_string(server_id) +
                         " is outside the student's vocabulary of " +
                         std::to_string(student_.vocab_size()) + " ids; " + vocabularies() +
                         " differ (distil across vocabularies by token text: a server "
                         "without ids, or train on the teacher's completions)");
        return server_id;
    }
    if (const tokenizer::added_token * added = student_.added().by_content(bytes))
        return added->id;
    return student_.model().id(tokenizer::bytes_to_alphabet(bytes));
}

void topk_vocabulary_map::check() const {
    const topk_mapping_counts & c = counts_;
    if (c.alternatives > 0 &&
        double(c.unmapped) > vocabulary_mismatch_fraction * double(c.alternatives))
        fail_invalid(vocabularies() + " do not match: " + std::to_string(c.unmapped) + " of " +
                     std::to_string(c.alternatives) + " top-k alternatives (" +
                     percent(c.unmapped, c.alternatives) +
                     ") name no student token; expected most to map (distil from a teacher of "
                     "the student's tokenizer, or train on the teacher's completions)");
    if (c.ids_checked > 0 &&
        double(c.ids_disagreeing) > vocabulary_mismatch_fraction * double(c.ids_checked))
        fail_invalid(vocabularies() + " do not match: for " + std::to_string(c.ids_disagreeing) +
                     " of " + std::to_string(c.ids_checked) + " top-k alternatives (" +
                     percent(c.ids_disagreeing, c.ids_checked) +
                     ") the teacher's id names a student token of other text; expected the "
                     "same tokens under the same ids");
}

mapped_topk_targets map_record_alternatives(std::span<const teacher_record> records,
                                            const tokenizer::bpe_tokenizer & student,
                                            const std::string & student_name, int64_t K,
                                            std::string teacher_name) {
    if (K < 1) fail_invalid("top-k targets: expected K >= 1, got " + std::to_string(K));
    if (teacher_name.empty() && !records.empty()) {
        teacher_name = records.front().origin.model;
        if (teacher_name.empty()) teacher_name = requested_model(records.front());
    }
    topk_vocabulary_map map(student, student_name, teacher_name);
    mapped_topk_targets out;
    out.k = K;
    for (size_t r = 0; r < records.size(); ++r) {
        const teacher_record & record = records[r];
        if (record.failed())
            fail_invalid("records[" + std::to_string(r) + "]: a failed answer (" +
                         record.error_message + ") has no top-k alternatives");
        for (size_t p = 0; p < record.positions.size(); ++p) {
            const size_t at = out.ids.size();
            out.ids.resize(at + size_t(K));
            out.logprobs.resize(at + size_t(K));
            map.map(record.positions[p].top, K, out.ids.data() + at, out.logprobs.data() + at,
                    "records[" + std::to_string(r) + "] position " + std::to_string(p));
            ++out.positions;
        }
    }
    map.check();
    out.counts = map.counts();
    return out;
}

}  // namespace distill
