// Helpers of the store and teacher tests: a temporary directory, records
// built through the C ABI, and a counting callback teacher.
#pragma once

#include <distill/distill.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "temp_dir.h"

namespace store_test {

// tests/temp_dir.h's directory, whose file() gives the string the C ABI takes.
class temp_dir : public ::test::temp_dir {
public:
    temp_dir() : ::test::temp_dir("distill-store") {}
    std::string file(const std::string & name) const { return ::test::temp_dir::file(name).string(); }
};

// A record with `positions` positions of top-k `k`, its text and values
// derived from `seed` so two records differ; key = the given key.
inline distill::TeacherRecord make_record(const std::string & key, int seed, int positions = 3,
                                          int k = 4) {
    distill::TeacherRecord r;
    r.set_string(DISTILL_RECORD_KEY, key);
    r.set_string(DISTILL_RECORD_TEXT, "answer " + std::to_string(seed));
    for (int p = 0; p < positions; ++p) {
        int32_t ids[64];
        float logprobs[64];
        const char * tokens[64];
        std::string texts[64];
        for (int i = 0; i < k; ++i) {
            ids[i] = seed * 100 + p * 10 + i;
            logprobs[i] = -0.1f * float(i + 1) - 0.01f * float(p);
            texts[i] = "t" + std::to_string(i);
            tokens[i] = texts[i].c_str();
        }
        const std::string token = "tok" + std::to_string(p);
        distill::check(distill_teacher_record_append_position(r.get(), token.c_str(), nullptr, 0,
                                                              seed + p, -0.05f * float(p + 1), k,
                                                              ids, tokens, logprobs));
    }
    return r;
}

// A key for test index i (any 64 hex digits will do).
inline std::string key_of(int i) {
    char key[65];
    std::snprintf(key, sizeof key, "%064x", i);
    return key;
}

}  // namespace store_test

namespace store_test {

// What the counting callback saw, and what it answers.
struct answer_counter {
    int calls = 0;
    std::string last_request;
    distill_status result = DISTILL_STATUS_OK;
};

// A callback teacher's function: counts the call, answers "echo: <request>"
// with one position, and returns counter->result.
inline distill_status count_and_answer(void * user_data, const char * request_json,
                                       distill_teacher_record * record) {
    auto * counter = static_cast<answer_counter *>(user_data);
    ++counter->calls;
    counter->last_request = request_json;
    const std::string text = std::string("echo: ") + request_json;
    distill_teacher_record_set_string(record, DISTILL_RECORD_TEXT, text.c_str());
    const float logprob = -0.25f;
    const int32_t id = 7;
    distill_teacher_record_append_position(record, "echo", nullptr, 0, 7, -0.25f, 1, &id, nullptr,
                                           &logprob);
    distill_teacher_record_set_int(record, DISTILL_RECORD_PROMPT_TOKENS, 3);
    if (counter->result != DISTILL_STATUS_OK)
        distill_teacher_record_set_string(record, DISTILL_RECORD_ERROR_MESSAGE, "teacher is down");
    return counter->result;
}

}  // namespace store_test
