// Every field of a record survives put → get; top-k log-probabilities come
// back within fp16 rounding; failures are rows; the JSONL export parses.
#include "store_test_support.h"

#include <cmath>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

using store_test::key_of;
using store_test::make_record;
using store_test::temp_dir;

namespace {

// A record with every field set, through the setters a callback uses.
distill::TeacherRecord full_record() {
    distill::TeacherRecord r;
    r.set_string(DISTILL_RECORD_KEY, key_of(42));
    r.set_string(DISTILL_RECORD_TEXT, "Bonjour, ça va ?");
    r.set_string(DISTILL_RECORD_PROVIDER, "vllm");
    r.set_string(DISTILL_RECORD_ENDPOINT, "http://127.0.0.1:8000/v1/chat/completions");
    r.set_string(DISTILL_RECORD_MODEL, "llama-3-8b");
    r.set_string(DISTILL_RECORD_SYSTEM_FINGERPRINT, "fp_44709d6fcb");
    r.set_string(DISTILL_RECORD_REQUEST_ID, "chatcmpl-123");
    r.set_string(DISTILL_RECORD_TEACHER_JSON, R"({"name": "t", "kind": "http"})");
    r.set_string(DISTILL_RECORD_REQUEST_JSON, R"({"prompt": "hi"})");
    r.set_string(DISTILL_RECORD_PARAMETERS_JSON, R"({"top_logprobs": 3, "temperature": 0.7})");
    r.set_integer(DISTILL_RECORD_PROMPT_TOKENS, 11);
    r.set_integer(DISTILL_RECORD_COMPLETION_TOKENS, 2);
    r.set_integer(DISTILL_RECORD_CACHED_TOKENS, 4);
    r.set_integer(DISTILL_RECORD_REASONING_TOKENS, 1);
    r.set_integer(DISTILL_RECORD_STARTED_AT_MS, 1764374400000);
    r.set_integer(DISTILL_RECORD_FINISHED_AT_MS, 1764374400250);
    r.set_integer(DISTILL_RECORD_LATENCY_US, 250123);
    r.set_integer(DISTILL_RECORD_ATTEMPTS, 2);
    r.set_integer(DISTILL_RECORD_LOGPROBS_KIND, DISTILL_LOGPROBS_RAW);
    // " ç": a token whose bytes differ from its printed text (half of "ç").
    const uint8_t half_c[] = {0x20, 0xc3};
    const int32_t ids[3] = {17, -1, 99999};
    const char * tokens[3] = {" ç", " c", ""};
    const float logprobs[3] = {-0.0123456f, -3.3333333f, -std::numeric_limits<float>::infinity()};
    distill::check(distill_teacher_record_append_position(r.get(), " ç", half_c, 2, 17, -0.0123456f,
                                                          3, ids, tokens, logprobs));
    distill::check(distill_teacher_record_append_position(r.get(), "?", nullptr, 0, -1, -1.5f, 0,
                                                          nullptr, nullptr, nullptr));
    const float embedding[4] = {0.1f, -0.2f, 3.0e10f, 0.0f};
    distill::check(distill_teacher_record_append_embedding(r.get(), embedding, 4));
    distill::check(distill_teacher_record_append_embedding(r.get(), embedding, 2));
    return r;
}

// |fp16(x) - x| ≤ 2^-11 |x| for normal values (round to nearest, 11-bit significand).
bool within_fp16(float stored, float given) {
    if (std::isinf(given)) return stored == given;
    return std::fabs(stored - given) <= std::ldexp(std::fabs(given), -11) + 1e-7f;
}

}  // namespace

TEST_CASE("store: every field round-trips through the file") {
    temp_dir dir;
    const std::string path = dir.file("run.db");
    {
        distill::Store store(path);
        store.put(full_record());
    }
    distill::Store store(path, /*read_only=*/true);  // a fresh connection reads the file
    std::optional<distill::TeacherRecord> got = store.get(key_of(42));
    REQUIRE(got.has_value());
    const distill::TeacherRecord & r = *got;
    CHECK(r.key() == key_of(42));
    CHECK(r.text() == "Bonjour, ça va ?");
    CHECK(r.string(DISTILL_RECORD_PROVIDER) == "vllm");
    CHECK(r.string(DISTILL_RECORD_ENDPOINT) == "http://127.0.0.1:8000/v1/chat/completions");
    CHECK(r.string(DISTILL_RECORD_MODEL) == "llama-3-8b");
    CHECK(r.string(DISTILL_RECORD_SYSTEM_FINGERPRINT) == "fp_44709d6fcb");
    CHECK(r.string(DISTILL_RECORD_REQUEST_ID) == "chatcmpl-123");
    CHECK(r.string(DISTILL_RECORD_TEACHER_JSON) == R"({"kind":"http","name":"t"})");
    CHECK(r.string(DISTILL_RECORD_REQUEST_JSON) == R"({"prompt":"hi"})");
    CHECK(r.string(DISTILL_RECORD_PARAMETERS_JSON) == R"({"temperature":0.7,"top_logprobs":3})");
    CHECK(r.string(DISTILL_RECORD_ERROR_MESSAGE) == "");
    CHECK(r.integer(DISTILL_RECORD_PROMPT_TOKENS) == 11);
    CHECK(r.integer(DISTILL_RECORD_COMPLETION_TOKENS) == 2);
    CHECK(r.integer(DISTILL_RECORD_CACHED_TOKENS) == 4);
    CHECK(r.integer(DISTILL_RECORD_REASONING_TOKENS) == 1);
    CHECK(r.integer(DISTILL_RECORD_STARTED_AT_MS) == 1764374400000);
    CHECK(r.integer(DISTILL_RECORD_FINISHED_AT_MS) == 1764374400250);
    CHECK(r.integer(DISTILL_RECORD_LATENCY_US) == 250123);
    CHECK(r.integer(DISTILL_RECORD_ATTEMPTS) == 2);
    CHECK(r.integer(DISTILL_RECORD_LOGPROBS_KIND) == DISTILL_LOGPROBS_RAW);
    CHECK(r.integer(DISTILL_RECORD_ERROR_STATUS) == 0);

    REQUIRE(r.position_count() == 2);
    const char * token = nullptr;
    const uint8_t * bytes = nullptr;
    size_t n_bytes = 0;
    int32_t id = 0, top_k = 0;
    float logprob = 0;
    distill::check(distill_teacher_record_get_position(r.get(), 0, &token, &bytes, &n_bytes, &id,
                                                       &logprob, &top_k));
    CHECK(std::string(token) == " ç");
    REQUIRE(n_bytes == 2);
    CHECK(bytes[0] == 0x20);
    CHECK(bytes[1] == 0xc3);
    CHECK(id == 17);
    CHECK(logprob == -0.0123456f);  // the chosen token's log-probability is kept in fp32
    REQUIRE(top_k == 3);
    int32_t ids[3];
    float logprobs[3];
    const char * tokens[3];
    int32_t copied = 0;
    distill::check(distill_teacher_record_get_topk(r.get(), 0, 3, ids, logprobs, tokens, &copied));
    CHECK(copied == 3);
    CHECK(ids[0] == 17);
    CHECK(ids[1] == -1);
    CHECK(ids[2] == 99999);
    CHECK(std::string(tokens[0]) == " ç");
    CHECK(std::string(tokens[1]) == " c");
    CHECK(std::string(tokens[2]) == "");
    CHECK(within_fp16(logprobs[0], -0.0123456f));
    CHECK(within_fp16(logprobs[1], -3.3333333f));
    CHECK(logprobs[1] != -3.3333333f);  // really packed as fp16, not fp32
    CHECK(std::isinf(logprobs[2]));
    CHECK(logprobs[2] < 0);

    distill::check(distill_teacher_record_get_position(r.get(), 1, &token, &bytes, &n_bytes, &id,
                                                       &logprob, &top_k));
    CHECK(std::string(token) == "?");
    CHECK(std::string(reinterpret_cast<const char *>(bytes), n_bytes) ==
          "?");  // bytes default to the text
    CHECK(id == -1);
    CHECK(top_k == 0);

    int64_t embeddings = 0;
    distill::check(distill_teacher_record_embedding_count(r.get(), &embeddings));
    REQUIRE(embeddings == 2);
    const float * values = nullptr;
    int64_t dim = 0;
    distill::check(distill_teacher_record_get_embedding(r.get(), 0, &values, &dim));
    REQUIRE(dim == 4);
    CHECK(values[0] == 0.1f);  // embeddings stay fp32
    CHECK(values[1] == -0.2f);
    CHECK(values[2] == 3.0e10f);
    CHECK(values[3] == 0.0f);
    distill::check(distill_teacher_record_get_embedding(r.get(), 1, &values, &dim));
    CHECK(dim == 2);

    CHECK_FALSE(store.get(key_of(43)).has_value());  // absent: no record, no error
}

TEST_CASE("store: fp16 top-k log-probabilities over a range of magnitudes") {
    temp_dir dir;
    distill::Store store(dir.file("run.db"));
    distill::TeacherRecord r;
    r.set_string(DISTILL_RECORD_KEY, key_of(1));
    std::vector<float> given;
    for (float v = -0.0001f; v > -60.0f; v *= 1.7f) given.push_back(v);
    distill::check(distill_teacher_record_append_position(
        r.get(), "x", nullptr, 0, 0, -1.0f, int32_t(given.size()), nullptr, nullptr, given.data()));
    store.put(r);
    std::vector<int32_t> ids;
    std::vector<float> logprobs;
    store.get(key_of(1))->topk(0, ids, logprobs);
    REQUIRE(logprobs.size() == given.size());
    for (size_t i = 0; i < given.size(); ++i) {
        CAPTURE(given[i]);
        CHECK(within_fp16(logprobs[i], given[i]));
        CHECK(ids[i] == -1);
    }
}

TEST_CASE("store: a failed request is a row with its error; a retry replaces it") {
    temp_dir dir;
    distill::Store store(dir.file("run.db"));
    distill::TeacherRecord failed;
    failed.set_string(DISTILL_RECORD_KEY, key_of(7));
    failed.set_integer(DISTILL_RECORD_ERROR_STATUS, DISTILL_STATUS_INTERNAL);
    failed.set_string(DISTILL_RECORD_ERROR_MESSAGE, "HTTP 503: upstream overloaded");
    store.put(failed);
    store.put(make_record(key_of(8), 8));

    distill_store_stats stats = store.stats();
    CHECK(stats.records == 2);
    CHECK(stats.failures == 1);
    CHECK(stats.positions == 3);
    CHECK(stats.blob_bytes > 0);

    std::optional<distill::TeacherRecord> got = store.get(key_of(7));
    REQUIRE(got.has_value());
    CHECK(got->failed());
    CHECK(got->integer(DISTILL_RECORD_ERROR_STATUS) == DISTILL_STATUS_INTERNAL);
    CHECK(got->string(DISTILL_RECORD_ERROR_MESSAGE) == "HTTP 503: upstream overloaded");

    store.put(make_record(key_of(7), 7));  // the retry succeeded: one row per key
    stats = store.stats();
    CHECK(stats.records == 2);
    CHECK(stats.failures == 0);
    CHECK_FALSE(store.get(key_of(7))->failed());
}

TEST_CASE("store: JSONL export parses back with every record") {
    temp_dir dir;
    distill::Store store(dir.file("run.db"));
    store.put(full_record());
    distill::TeacherRecord failed;
    failed.set_string(DISTILL_RECORD_KEY, key_of(9));
    failed.set_integer(DISTILL_RECORD_ERROR_STATUS, DISTILL_STATUS_UNSUPPORTED);
    failed.set_string(DISTILL_RECORD_ERROR_MESSAGE, "insufficient_quota");
    store.put(failed);
    const std::string out = dir.file("export.jsonl");
    store.export_jsonl(out);

    std::ifstream in(out);
    std::string line;
    std::vector<nlohmann::json> lines;
    while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
    REQUIRE(lines.size() == 2);
    const nlohmann::json & first = lines[0];
    CHECK(first["key"] == key_of(42));
    CHECK(first["text"] == "Bonjour, ça va ?");
    CHECK(first["logprobs"] == "raw");
    CHECK(first["error"].is_null());
    CHECK(first["usage"]["cached_tokens"] == 4);
    CHECK(first["provenance"]["model"] == "llama-3-8b");
    CHECK(first["provenance"]["parameters"]["top_logprobs"] == 3);
    CHECK(first["provenance"]["attempts"] == 2);
    REQUIRE(first["positions"].size() == 2);
    CHECK(first["positions"][0]["bytes"] == nlohmann::json::array({0x20, 0xc3}));
    CHECK(first["positions"][0]["top_logprobs"][2]["id"] == 99999);
    CHECK(first["positions"][0]["top_logprobs"][0]["token"] == " ç");
    CHECK(first["embeddings"][1].size() == 2);
    CHECK(lines[1]["error"]["status"] == DISTILL_STATUS_UNSUPPORTED);
    CHECK(lines[1]["error"]["message"] == "insufficient_quota");
}
