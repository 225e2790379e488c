// Every NULL argument and invalid value of the record and store functions:
// a status, a message naming the argument, out-parameters untouched.
#include "store_test_support.h"

#include <cmath>
#include <limits>

using store_test::key_of;
using store_test::temp_dir;

namespace {
std::string last_error() { return distill_last_error_message(); }
}  // namespace

TEST_CASE("store: record setter and getter errors") {
    constexpr distill_status invalid = DISTILL_STATUS_INVALID_ARGUMENT;
    CHECK(distill_teacher_record_create(nullptr) == invalid);
    CHECK(last_error() == "out: expected a place for the new record, got NULL");
    distill_teacher_record_free(nullptr);

    distill::TeacherRecord r;
    distill_teacher_record * h = r.get();
    const char * text = "untouched";
    int64_t value = -7;
    CHECK(distill_teacher_record_set_string(nullptr, DISTILL_RECORD_TEXT, "x") == invalid);
    CHECK(last_error() == "record: expected a record from distill_teacher_record_create, got NULL");
    CHECK(distill_teacher_record_set_string(h, DISTILL_RECORD_TEXT, nullptr) == invalid);
    CHECK(last_error() == "value: expected a NUL-terminated UTF-8 string, got NULL");
    CHECK(distill_teacher_record_set_string(h, 99, "x") == invalid);
    CHECK(last_error() == "field: expected a distill_record_string in [0, 11], got 99");
    CHECK(distill_teacher_record_set_string(h, DISTILL_RECORD_KEY, "abc") == invalid);
    CHECK(last_error() == "value: expected a request key (64 lowercase hex digits), got 'abc'");
    CHECK(distill_teacher_record_set_string(h, DISTILL_RECORD_PARAMETERS_JSON, "{") == invalid);
    CHECK(last_error().find("value: expected valid JSON") == 0);
    CHECK(distill_teacher_record_get_string(h, DISTILL_RECORD_TEXT, nullptr) == invalid);
    CHECK(last_error() == "out: expected a place for the string, got NULL");
    CHECK(distill_teacher_record_get_string(h, -1, &text) == invalid);
    CHECK(distill_teacher_record_get_string(nullptr, DISTILL_RECORD_TEXT, &text) == invalid);
    CHECK(std::string(text) == "untouched");

    CHECK(distill_teacher_record_set_int(h, DISTILL_RECORD_PROMPT_TOKENS, -1) == invalid);
    CHECK(last_error() == "value: expected a count or time >= 0, got -1");
    CHECK(distill_teacher_record_set_int(h, DISTILL_RECORD_LOGPROBS_KIND, 3) == invalid);
    CHECK(last_error() == "value: expected a distill_logprobs_kind in [0, 2], got 3");
    CHECK(distill_teacher_record_set_int(h, DISTILL_RECORD_ERROR_STATUS, -2) == invalid);
    CHECK(distill_teacher_record_set_int(h, 42, 1) == invalid);
    CHECK(last_error() == "field: expected a distill_record_int in [0, 10], got 42");
    CHECK(distill_teacher_record_get_int(h, DISTILL_RECORD_ATTEMPTS, nullptr) == invalid);
    CHECK(distill_teacher_record_get_int(h, 42, &value) == invalid);
    CHECK(value == -7);

    const float good[2] = {-0.5f, -1.0f};
    const float positive[2] = {-0.5f, 0.25f};  // (NaN is accepted: an absent value)
    const int32_t bad_ids[2] = {0, -5};
    CHECK(distill_teacher_record_append_position(nullptr, "a", nullptr, 0, 0, 0.0f, 0, nullptr,
                                                 nullptr, nullptr) == invalid);
    CHECK(distill_teacher_record_append_position(h, nullptr, nullptr, 0, 0, 0.0f, 0, nullptr,
                                                 nullptr, nullptr) == invalid);
    CHECK(last_error() == "token: expected the token's text, got NULL");
    CHECK(distill_teacher_record_append_position(h, "a", nullptr, 3, 0, 0.0f, 0, nullptr, nullptr,
                                                 nullptr) == invalid);
    CHECK(last_error() == "token_bytes: expected 3 bytes, got NULL");
    CHECK(distill_teacher_record_append_position(h, "a", nullptr, 0, -2, 0.0f, 0, nullptr, nullptr,
                                                 nullptr) == invalid);
    CHECK(last_error() == "token_id: expected an id >= 0 or -1 (unknown), got -2");
    CHECK(distill_teacher_record_append_position(h, "a", nullptr, 0, 0, 0.5f, 0, nullptr, nullptr,
                                                 nullptr) == invalid);
    CHECK(last_error().find("logprob: expected a log-probability <= 0 (or -inf, or NaN: absent), got 0.5") == 0);
    CHECK(distill_teacher_record_append_position(h, "a", nullptr, 0, 0, 0.0f, -1, nullptr, nullptr,
                                                 nullptr) == invalid);
    CHECK(last_error() == "top_k: expected >= 0, got -1");
    CHECK(distill_teacher_record_append_position(h, "a", nullptr, 0, 0, 0.0f, 2, nullptr, nullptr,
                                                 nullptr) == invalid);
    CHECK(last_error() == "topk_logprobs: expected [2] log-probabilities, got NULL");
    CHECK(distill_teacher_record_append_position(h, "a", nullptr, 0, 0, 0.0f, 2, nullptr, nullptr,
                                                 positive) == invalid);
    CHECK(last_error().find("topk_logprobs[1]: expected a log-probability <= 0") == 0);
    CHECK(distill_teacher_record_append_position(h, "a", nullptr, 0, 0, 0.0f, 2, bad_ids, nullptr,
                                                 good) == invalid);
    CHECK(last_error() == "topk_ids[1]: expected an id >= 0 or -1, got -5");
    const char * tokens[2] = {"x", nullptr};
    CHECK(distill_teacher_record_append_position(h, "a", nullptr, 0, 0, 0.0f, 2, nullptr, tokens,
                                                 good) == invalid);
    CHECK(last_error() == "topk_tokens[1]: expected a token text, got NULL");
    CHECK(r.position_count() == 0);  // nothing half-appended

    int32_t count = -3;
    CHECK(distill_teacher_record_get_position(h, 0, nullptr, nullptr, nullptr, nullptr, nullptr,
                                              nullptr) == invalid);
    CHECK(last_error() == "index: expected a position index in [0, 0), got 0");
    CHECK(distill_teacher_record_position_count(h, nullptr) == invalid);
    CHECK(distill_teacher_record_append_position(h, "a", nullptr, 0, 0, 0.0f, 2, nullptr, nullptr,
                                                 good) == DISTILL_STATUS_OK);
    CHECK(distill_teacher_record_get_topk(h, 0, -1, nullptr, nullptr, nullptr, &count) == invalid);
    CHECK(last_error() == "capacity: expected >= 0, got -1");
    CHECK(distill_teacher_record_get_topk(h, 0, 2, nullptr, nullptr, nullptr, nullptr) == invalid);
    CHECK(last_error() == "out_count: expected a place for the number copied, got NULL");
    CHECK(distill_teacher_record_get_topk(h, 1, 2, nullptr, nullptr, nullptr, &count) == invalid);
    CHECK(count == -3);
    float one[1];
    CHECK(distill_teacher_record_get_topk(h, 0, 1, nullptr, one, nullptr, &count) ==
          DISTILL_STATUS_OK);
    CHECK(count == 1);  // capacity caps the copy
    CHECK(one[0] == -0.5f);

    const float inf[2] = {1.0f, std::numeric_limits<float>::infinity()};
    const float * values = nullptr;
    int64_t dim = -1;
    CHECK(distill_teacher_record_append_embedding(h, nullptr, 2) == invalid);
    CHECK(last_error() == "values: expected an embedding vector, got NULL");
    CHECK(distill_teacher_record_append_embedding(h, good, 0) == invalid);
    CHECK(last_error() == "dim: expected >= 1, got 0");
    CHECK(distill_teacher_record_append_embedding(h, inf, 2) == invalid);
    CHECK(last_error() == "values[1]: expected finite, got inf");
    CHECK(distill_teacher_record_embedding_count(h, nullptr) == invalid);
    CHECK(distill_teacher_record_get_embedding(h, 0, &values, &dim) == invalid);
    CHECK(last_error() == "index: expected a embedding index in [0, 0), got 0");
    CHECK(distill_teacher_record_get_embedding(nullptr, 0, &values, &dim) == invalid);
    CHECK(dim == -1);
}

TEST_CASE("store: store function errors") {
    constexpr distill_status invalid = DISTILL_STATUS_INVALID_ARGUMENT;
    temp_dir dir;
    distill::Store store(dir.file("run.db"));
    distill::TeacherRecord keyless;
    distill_store * out = nullptr;

    CHECK(distill_store_options_init(nullptr) == invalid);
    CHECK(distill_store_open(nullptr, nullptr, &out) == invalid);
    CHECK(last_error() == "path: expected the store's file name, got NULL");
    CHECK(distill_store_open(dir.file("x.db").c_str(), nullptr, nullptr) == invalid);
    CHECK(last_error() == "out: expected a place for the new store, got NULL");
    distill_store_free(nullptr);

    CHECK(distill_store_put(nullptr, keyless.get()) == invalid);
    CHECK(last_error() == "store: expected a store from distill_store_open, got NULL");
    CHECK(distill_store_put(store.get(), nullptr) == invalid);
    CHECK(last_error() == "record: expected a record from distill_teacher_record_create, got NULL");
    CHECK(distill_store_put(store.get(), keyless.get()) == invalid);
    CHECK(last_error() == "record.key: expected a request key (64 lowercase hex digits), got ''");

    distill_teacher_record * found = reinterpret_cast<distill_teacher_record *>(0x1);
    CHECK(distill_store_get(store.get(), nullptr, &found) == invalid);
    CHECK(last_error() == "key: expected a request key (64 hex digits), got NULL");
    CHECK(distill_store_get(store.get(), "ABC", &found) == invalid);
    CHECK(last_error() == "key: expected a request key (64 lowercase hex digits), got 'ABC'");
    CHECK(distill_store_get(store.get(), key_of(1).c_str(), nullptr) == invalid);
    CHECK(distill_store_get(nullptr, key_of(1).c_str(), &found) == invalid);
    CHECK(found == reinterpret_cast<distill_teacher_record *>(0x1));
    CHECK(distill_store_get(store.get(), key_of(1).c_str(), &found) == DISTILL_STATUS_OK);
    CHECK(found == nullptr);

    distill_store_stats stats{};
    CHECK(distill_store_get_stats(store.get(), nullptr) == invalid);
    CHECK(distill_store_get_stats(nullptr, &stats) == invalid);
    stats.struct_size = 0;
    CHECK(distill_store_get_stats(store.get(), &stats) == invalid);
    CHECK(last_error().find("out->struct_size: expected sizeof(distill_store_stats)") == 0);
    // An older caller's smaller struct gets only the fields it knows.
    struct {
        uint32_t struct_size;
        int64_t records;
    } old_stats{sizeof old_stats, -1};
    CHECK(distill_store_get_stats(store.get(), reinterpret_cast<distill_store_stats *>(
                                                   &old_stats)) == DISTILL_STATUS_OK);
    CHECK(old_stats.records == 0);

    CHECK(distill_store_export_jsonl(store.get(), nullptr) == invalid);
    CHECK(last_error() == "path: expected the JSONL file to write, got NULL");
    CHECK(distill_store_export_jsonl(nullptr, "x") == invalid);
    const std::string unwritable = dir.file("no/such/dir/out.jsonl");
    CHECK(distill_store_export_jsonl(store.get(), unwritable.c_str()) == DISTILL_STATUS_NOT_FOUND);
    CHECK(last_error() ==
          "creating a temporary file for '" + unwritable + "' failed: No such file or directory");
}
