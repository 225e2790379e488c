// One position of a teacher record read back through the C ABI, as plain
// values: what the store, migration and HTTP-dialect tests compare against
// what they wrote or what the server sent.
#pragma once

#include <distill/distill.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace record_test {

struct position {
    std::string token;
    std::string bytes;  // the token's UTF-8 bytes (the text when none were given)
    int32_t id = 0;     // -1: no token id
    float logprob = 0;  // NaN: none given
    // The top-k alternatives, best first, as stored (log-probabilities fp16).
    std::vector<int32_t> top_ids;
    std::vector<float> top_logprobs;
    std::vector<std::string> top_tokens;
};

// Position `index` (0 ≤ index < r.position_count(); a bad one throws
// distill::Error) with its whole top-k list.
inline position read_position(const distill::TeacherRecord & r, int64_t index) {
    position p;
    const char * token = nullptr;
    const uint8_t * bytes = nullptr;
    size_t n_bytes = 0;
    int32_t top_k = 0;
    distill::check(distill_teacher_record_get_position(r.get(), index, &token, &bytes, &n_bytes,
                                                       &p.id, &p.logprob, &top_k));
    p.token = token;
    p.bytes.assign(reinterpret_cast<const char *>(bytes), n_bytes);
    p.top_ids.resize(size_t(top_k));
    p.top_logprobs.resize(size_t(top_k));
    std::vector<const char *> tokens(size_t(top_k), nullptr);
    int32_t copied = 0;
    distill::check(distill_teacher_record_get_topk(r.get(), index, top_k, p.top_ids.data(),
                                                   p.top_logprobs.data(), tokens.data(), &copied));
    p.top_ids.resize(size_t(copied));
    p.top_logprobs.resize(size_t(copied));
    for (int32_t k = 0; k < copied; ++k) p.top_tokens.emplace_back(tokens[size_t(k)]);
    return p;
}

}  // namespace record_test
