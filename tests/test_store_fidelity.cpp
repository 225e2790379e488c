// What the store keeps is what the server said: why it stopped, which
// model answered, an absent log-probability as absent, and the same values
// fresh and read back.
#include "store_test_support.h"

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

using store_test::key_of;
using store_test::make_record;
using store_test::temp_dir;

namespace {

std::string last_error() { return distill_last_error_message(); }

distill::TeacherRecord record_with(const std::string & key, const std::string & finish_reason,
                                   const std::string & model = "",
                                   const std::string & teacher_json = "") {
    distill::TeacherRecord r = make_record(key, 1, 2, 3);
    r.set_string(DISTILL_RECORD_FINISH_REASON, finish_reason);
    r.set_string(DISTILL_RECORD_MODEL, model);
    if (!teacher_json.empty()) r.set_string(DISTILL_RECORD_TEACHER_JSON, teacher_json);
    return r;
}

float position_logprob(const distill::TeacherRecord & r, int64_t index) {
    float logprob = 0;
    distill::check(distill_teacher_record_get_position(r.get(), index, nullptr, nullptr, nullptr,
                                                       nullptr, &logprob, nullptr));
    return logprob;
}

std::vector<float> topk_logprobs(const distill::TeacherRecord & r, int64_t index) {
    std::vector<float> out(64);
    int32_t count = 0;
    distill::check(distill_teacher_record_get_topk(r.get(), index, 64, nullptr, out.data(),
                                                   nullptr, &count));
    out.resize(size_t(count));
    return out;
}

// A callback answering with full-precision values: -1/3 is not an fp16.
distill_status precise_answer(void *, const char *, distill_teacher_record * record) {
    const int32_t ids[3] = {5, 6, 7};
    const float logprobs[3] = {-1.0f / 3.0f, -2.0f / 3.0f, -7.0f / 3.0f};
    distill_teacher_record_set_string(record, DISTILL_RECORD_TEXT, "x");
    return distill_teacher_record_append_position(record, "x", nullptr, 0, 5, -1.0f / 3.0f, 3, ids,
                                                  nullptr, logprobs);
}

}  // namespace

TEST_CASE("store: finish_reason is kept, exported and counted") {
    temp_dir dir;
    const std::string path = dir.file("run.db");
    {
        distill::Store store(path);
        store.put(record_with(key_of(1), "stop"));
        store.put(record_with(key_of(2), "length"));
        store.put(record_with(key_of(3), "length"));
        store.put(record_with(key_of(4), "content_filter"));
        store.put(record_with(key_of(5), "tool_calls"));
        store.put(record_with(key_of(6), "abort"));
        store.put(record_with(key_of(7), ""));
        distill::TeacherRecord failed = record_with(key_of(8), "length");
        failed.set_integer(DISTILL_RECORD_ERROR_STATUS, DISTILL_STATUS_INTERNAL);
        store.put(failed);  // a failure is not counted as an answer
    }
    distill::Store store(path, /*read_only=*/true);
    CHECK(store.get(key_of(2))->string(DISTILL_RECORD_FINISH_REASON) == "length");
    CHECK(store.get(key_of(7))->string(DISTILL_RECORD_FINISH_REASON) == "");
    const distill_store_stats stats = store.stats();
    CHECK(stats.records == 8);
    CHECK(stats.finished_stop == 1);
    CHECK(stats.finished_length == 2);
    CHECK(stats.finished_content_filter == 1);
    CHECK(stats.finished_tool_calls == 1);
    CHECK(stats.finished_other == 1);
    CHECK(stats.finish_not_given == 1);

    temp_dir out;
    const std::string jsonl = out.file("out.jsonl");
    store.export_jsonl(jsonl);
    std::ifstream in(jsonl);
    std::string line;
    std::vector<nlohmann::json> lines;
    while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
    REQUIRE(lines.size() == 8);
    CHECK(lines[1]["finish_reason"] == "length");
    CHECK(lines[6]["finish_reason"].is_null());
}

TEST_CASE("store: a stats struct of ABI 2's size is filled only that far") {
    temp_dir dir;
    distill::Store store(dir.file("run.db"));
    store.put(record_with(key_of(1), "length"));
    distill_store_stats stats{};
    stats.struct_size = offsetof(distill_store_stats, finished_stop);
    stats.finished_length = -7;
    distill::check(distill_store_get_stats(store.get(), &stats));
    CHECK(stats.records == 1);
    CHECK(stats.finished_length == -7);
}

TEST_CASE("store: an absent log-probability reads back absent (NaN), exported as null") {
    temp_dir dir;
    const std::string path = dir.file("run.db");
    distill::TeacherRecord r;
    r.set_string(DISTILL_RECORD_KEY, key_of(1));
    const float nan = std::nanf("");
    const float top[2] = {-0.5f, nan};
    distill::check(distill_teacher_record_append_position(r.get(), "The", nullptr, 0, 1, nan, 0,
                                                          nullptr, nullptr, nullptr));
    distill::check(distill_teacher_record_append_position(r.get(), " cat", nullptr, 0, 2, -0.5f, 2,
                                                          nullptr, nullptr, top));
    CHECK(std::isnan(position_logprob(r, 0)));
    {
        distill::Store store(path);
        store.put(r);
    }
    distill::Store store(path, /*read_only=*/true);
    const distill::TeacherRecord got = *store.get(key_of(1));
    CHECK(std::isnan(position_logprob(got, 0)));
    CHECK(position_logprob(got, 1) == -0.5f);
    const std::vector<float> got_top = topk_logprobs(got, 1);
    REQUIRE(got_top.size() == 2);
    CHECK(got_top[0] == -0.5f);
    CHECK(std::isnan(got_top[1]));

    temp_dir out;
    store.export_jsonl(out.file("out.jsonl"));
    std::ifstream in(out.file("out.jsonl"));
    std::string line;
    std::getline(in, line);
    const nlohmann::json j = nlohmann::json::parse(line);
    CHECK(j["positions"][0]["logprob"].is_null());
    CHECK(j["positions"][1]["logprob"] == -0.5);
    CHECK(j["positions"][1]["top_logprobs"][1]["logprob"].is_null());
}

TEST_CASE("teacher: a fresh answer has the values a later read of the store gives") {
    temp_dir dir;
    distill::Store store(dir.file("run.db"));
    distill::Teacher teacher = distill::Teacher::callback(precise_answer, nullptr, "precise");
    const std::string request = R"({"prompt": "p"})";
    const distill::TeacherRecord fresh = teacher.query_cached(store, request);
    const distill::TeacherRecord stored = teacher.query_cached(store, request);  // from the store
    const distill::TeacherRecord plain = teacher.query(request);
    CHECK(topk_logprobs(fresh, 0) == topk_logprobs(stored, 0));
    CHECK(topk_logprobs(plain, 0) == topk_logprobs(stored, 0));
    CHECK(position_logprob(fresh, 0) == position_logprob(stored, 0));
    CHECK(position_logprob(fresh, 0) == -1.0f / 3.0f);  // the chosen token's stays fp32
    CHECK(topk_logprobs(fresh, 0)[1] == float(_Float16(-2.0f / 3.0f)));
}

TEST_CASE("store: a record answered by another model than asked is flagged and counted") {
    const std::string teacher = R"({"kind": "http", "model": "tiny-chat"})";
    distill::TeacherRecord same = record_with(key_of(1), "stop", "tiny-chat", teacher);
    CHECK(same.integer(DISTILL_RECORD_OTHER_MODEL) == 0);
    distill::TeacherRecord fallback =
        record_with(key_of(2), "stop", "/models/qwen2-0_5b-instruct-q4_0.gguf", teacher);
    CHECK(fallback.integer(DISTILL_RECORD_OTHER_MODEL) == 1);
    distill::TeacherRecord snapshot = record_with(
        key_of(3), "stop", "gpt-4o-2024-08-06", R"({"kind": "http", "model": "gpt-4o"})");
    CHECK(snapshot.integer(DISTILL_RECORD_OTHER_MODEL) == 0);
    distill::TeacherRecord tagged =
        record_with(key_of(4), "stop", "llama3:latest", R"({"kind": "http", "model": "llama3"})");
    CHECK(tagged.integer(DISTILL_RECORD_OTHER_MODEL) == 0);
    distill::TeacherRecord bigger =
        record_with(key_of(5), "stop", "gpt-4o-mini", R"({"kind": "http", "model": "gpt-4o"})");
    CHECK(bigger.integer(DISTILL_RECORD_OTHER_MODEL) == 1);
    // The request's own "model" is what was asked for.
    distill::TeacherRecord asked = record_with(key_of(6), "stop", "big", teacher);
    asked.set_string(DISTILL_RECORD_REQUEST_JSON, R"({"model": "big", "prompt": "x"})");
    CHECK(asked.integer(DISTILL_RECORD_OTHER_MODEL) == 0);
    distill::TeacherRecord unsaid = record_with(key_of(7), "stop", "", teacher);
    CHECK(unsaid.integer(DISTILL_RECORD_OTHER_MODEL) == 0);

    CHECK(distill_teacher_record_set_int(same.get(), DISTILL_RECORD_OTHER_MODEL, 1) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error().find("derived") != std::string::npos);

    temp_dir dir;
    distill::Store store(dir.file("run.db"));
    for (const distill::TeacherRecord * r :
         {&same, &fallback, &snapshot, &tagged, &bigger, &asked, &unsaid})
        store.put(*r);
    CHECK(store.stats().other_model == 2);
    CHECK(store.get(key_of(2))->integer(DISTILL_RECORD_OTHER_MODEL) == 1);
}
