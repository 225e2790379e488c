// The HTTP teacher against a real local server speaking each dialect:
// what is sent (path, body) and how the answer lands in the record.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <mutex>

#include "http_test_server.h"
#include "record_test_support.h"
#include "store_test_support.h"

using http_test::fast_options;
using http_test::json_type;
using nlohmann::json;

namespace {

using record_test::position;
using record_test::read_position;

// Remembers the last request's path and body. The handler runs on a server
// thread: the test reads under the same lock (the reply reaching the client
// orders the two in practice, but nothing ThreadSanitizer can see does).
struct capture {
    void take(const httplib::Request & request) {
        std::lock_guard<std::mutex> lock(mutex_);
        path_ = request.path;
        body_ = json::parse(request.body);
    }
    std::string path() {
        std::lock_guard<std::mutex> lock(mutex_);
        return path_;
    }
    json body() {
        std::lock_guard<std::mutex> lock(mutex_);
        return body_;
    }

private:
    std::mutex mutex_;
    std::string path_;
    json body_;
};

const char * openai_chat = R"({
  "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-x-2025-01-01",
  "system_fingerprint": "fp_44", "choices": [{"index": 0,
    "message": {"role": "assistant", "content": "Hi!"},
    "logprobs": {"content": [
      {"token": "Hi", "logprob": -0.01, "bytes": [72, 105],
       "top_logprobs": [{"token": "Hi", "logprob": -0.01, "bytes": [72, 105]},
                        {"token": "Hello", "logprob": -4.5, "bytes": null}]},
      {"token": "!", "logprob": -0.5, "bytes": null, "top_logprobs": []}],
     "refusal": null},
    "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7,
            "prompt_tokens_details": {"cached_tokens": 3},
            "completion_tokens_details": {"reasoning_tokens": 1}}})";

}  // namespace

TEST_CASE("http teacher: an OpenAI chat completion with logprobs fills the record") {
    http_test::server server;
    capture seen;
    server.http.Post("/v1/chat/completions",
                     [&](const httplib::Request & q, httplib::Response & r) {
                         seen.take(q);
                         r.set_header("x-request-id", "req_abc123");
                         r.set_content(openai_chat, json_type);
                     });
    server.start();
    const std::string url = server.url();
    distill_http_teacher_options o = fast_options(url);
    o.parameters_json = R"({"temperature": 0, "logprobs": true, "top_logprobs": 2})";
    distill::Teacher teacher = distill::Teacher::http(o);
    const std::string request =
        R"({"id": "p-1", "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 2})";
    distill::TeacherRecord r = teacher.query(request);

    CHECK(seen.path() == "/v1/chat/completions");
    CHECK(seen.body()["model"] == "teacher-1");
    CHECK(seen.body()["logprobs"] == true);
    CHECK(seen.body()["top_logprobs"] == 2);
    CHECK(seen.body()["max_tokens"] == 2);
    CHECK_FALSE(seen.body().contains("id"));

    CHECK_FALSE(r.failed());
    CHECK(r.text() == "Hi!");
    CHECK(r.string(DISTILL_RECORD_FINISH_REASON) == "stop");
    CHECK(r.integer(DISTILL_RECORD_OTHER_MODEL) == 1);  // asked teacher-1
    CHECK(r.key() == teacher.request_key(request));
    CHECK(r.string(DISTILL_RECORD_PROVIDER) == "openai");
    CHECK(r.string(DISTILL_RECORD_ENDPOINT) == url + "/chat/completions");
    CHECK(r.string(DISTILL_RECORD_MODEL) == "gpt-x-2025-01-01");
    CHECK(r.string(DISTILL_RECORD_SYSTEM_FINGERPRINT) == "fp_44");
    CHECK(r.string(DISTILL_RECORD_REQUEST_ID) == "req_abc123");
    CHECK(r.string(DISTILL_RECORD_TEACHER_JSON) ==
          R"({"base_url":")" + url + R"(","kind":"http","model":"teacher-1"})");
    CHECK(r.integer(DISTILL_RECORD_PROMPT_TOKENS) == 5);
    CHECK(r.integer(DISTILL_RECORD_COMPLETION_TOKENS) == 2);
    CHECK(r.integer(DISTILL_RECORD_CACHED_TOKENS) == 3);
    CHECK(r.integer(DISTILL_RECORD_REASONING_TOKENS) == 1);
    CHECK(r.integer(DISTILL_RECORD_ATTEMPTS) == 1);
    CHECK(r.integer(DISTILL_RECORD_LOGPROBS_KIND) == DISTILL_LOGPROBS_POST_SAMPLING);
    REQUIRE(r.position_count() == 2);
    const position p0 = read_position(r, 0);
    CHECK(p0.token == "Hi");
    CHECK(p0.bytes == "Hi");
    CHECK(p0.id == -1);
    CHECK(p0.logprob == doctest::Approx(-0.01f));
    REQUIRE(p0.top_tokens.size() == 2);
    CHECK(p0.top_tokens[1] == "Hello");
    CHECK(p0.top_logprobs[1] == doctest::Approx(-4.5f));
    CHECK(p0.top_ids[1] == -1);
    const position p1 = read_position(r, 1);
    CHECK(p1.token == "!");
    CHECK(p1.bytes == "!");  // bytes null: the token's own bytes
    CHECK(p1.top_tokens.empty());
}

TEST_CASE("http teacher: vLLM token ids and raw logprobs; the body's id without a header") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [](const httplib::Request &, httplib::Response & r) {
        r.set_content(R"({"id": "cmpl-vllm-7", "model": "Qwen/Qwen3-8B", "choices": [{
            "message": {"content": "ok"}, "logprobs": {"content": [
              {"token": "token_id:1035", "logprob": -0.25, "bytes": [111, 107],
               "top_logprobs": [{"token": "token_id:1035", "logprob": -0.25},
                                {"token": "token_id:77", "logprob": -1.75}]}]},
              "finish_reason": "length"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 1}})",
                      json_type);
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url, DISTILL_HTTP_DIALECT_VLLM));
    distill::TeacherRecord r =
        teacher.query(R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true,
                          "top_logprobs": 2, "return_tokens_as_token_ids": true})");
    CHECK_FALSE(r.failed());
    CHECK(r.string(DISTILL_RECORD_PROVIDER) == "vllm");
    CHECK(r.string(DISTILL_RECORD_REQUEST_ID) == "cmpl-vllm-7");
    CHECK(r.string(DISTILL_RECORD_FINISH_REASON) == "length");
    CHECK(r.integer(DISTILL_RECORD_LOGPROBS_KIND) == DISTILL_LOGPROBS_RAW);
    REQUIRE(r.position_count() == 1);
    const position p = read_position(r, 0);
    CHECK(p.id == 1035);
    CHECK(p.bytes == "ok");
    CHECK(p.top_ids == std::vector<int32_t>{1035, 77});
}

TEST_CASE("http teacher: llama.cpp server gives ids beside tokens") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [](const httplib::Request &, httplib::Response & r) {
        r.set_content(R"({"id": "chatcmpl-ll", "model": "gguf", "choices": [{
            "message": {"content": "é"}, "logprobs": {"content": [
              {"id": 2, "token": "\u00e9", "logprob": -0.5, "bytes": [195, 169],
               "top_logprobs": [{"id": 2, "token": "\u00e9", "logprob": -0.5, "bytes": [195, 169]},
                                {"id": 9, "token": "e", "logprob": -1.0, "bytes": [101]}]}]},
            "finish_reason": "stop"}]})",
                      json_type);
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher =
        distill::Teacher::http(fast_options(url, DISTILL_HTTP_DIALECT_LLAMA_CPP));
    distill::TeacherRecord r =
        teacher.query(R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true})");
    CHECK_FALSE(r.failed());
    CHECK(r.string(DISTILL_RECORD_PROVIDER) == "llama.cpp");
    CHECK(r.string(DISTILL_RECORD_FINISH_REASON) == "stop");
    CHECK(r.integer(DISTILL_RECORD_LOGPROBS_KIND) == DISTILL_LOGPROBS_RAW);
    REQUIRE(r.position_count() == 1);
    const position p = read_position(r, 0);
    CHECK(p.id == 2);
    CHECK(p.bytes == "\xc3\xa9");
    CHECK(p.top_ids == std::vector<int32_t>{2, 9});
}

TEST_CASE("http teacher: Ollama's native chat: options nested, top-level logprobs") {
    http_test::server server;
    capture seen;
    server.http.Post("/api/chat", [&](const httplib::Request & q, httplib::Response & r) {
        seen.take(q);
        r.set_content(R"({"model": "llama3.2", "message": {"role": "assistant", "content": "Yo"},
            "logprobs": [{"token": "Yo", "logprob": -0.2,
                          "top_logprobs": [{"token": "Yo", "logprob": -0.2},
                                           {"token": "Hey", "logprob": -1.9}]}],
            "done": true, "done_reason": "length", "prompt_eval_count": 4, "eval_count": 1})",
                      json_type);
    });
    server.start();
    const std::string url = server.url("");
    distill::Teacher teacher =
        distill::Teacher::http(fast_options(url, DISTILL_HTTP_DIALECT_OLLAMA));
    distill::TeacherRecord r = teacher.query(
        R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 2,
            "temperature": 0, "max_tokens": 3})");
    CHECK(seen.path() == "/api/chat");
    CHECK(seen.body()["stream"] == false);
    CHECK(seen.body()["options"]["temperature"] == 0);
    CHECK(seen.body()["options"]["num_predict"] == 3);
    CHECK(seen.body()["top_logprobs"] == 2);
    CHECK_FALSE(r.failed());
    CHECK(r.text() == "Yo");
    CHECK(r.string(DISTILL_RECORD_FINISH_REASON) == "length");
    CHECK(r.string(DISTILL_RECORD_MODEL) == "llama3.2");
    CHECK(r.integer(DISTILL_RECORD_PROMPT_TOKENS) == 4);
    CHECK(r.integer(DISTILL_RECORD_COMPLETION_TOKENS) == 1);
    REQUIRE(r.position_count() == 1);
    const position p = read_position(r, 0);
    CHECK(p.id == -1);
    CHECK(p.top_tokens == std::vector<std::string>{"Yo", "Hey"});
}

TEST_CASE("http teacher: legacy completions' parallel arrays, null logprob, unordered top-k") {
    http_test::server server;
    server.http.Post("/v1/completions", [](const httplib::Request &, httplib::Response & r) {
        r.set_content(R"({"id": "cmpl-2", "model": "davinci", "choices": [{"text": "a b",
            "logprobs": {"tokens": ["a", " b"], "token_logprobs": [null, -0.3],
                         "top_logprobs": [null, {" c": -2.0, " b": -0.3}],
                         "text_offset": [0, 1]}, "finish_reason": "length"}]})",
                      json_type);
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::TeacherRecord r = teacher.query(R"({"prompt": "a", "logprobs": 2, "echo": true})");
    CHECK_FALSE(r.failed());
    CHECK(r.text() == "a b");
    REQUIRE(r.position_count() == 2);
    CHECK(std::isnan(read_position(r, 0).logprob));  // null: absent, not 0 (certainty)
    CHECK(r.string(DISTILL_RECORD_FINISH_REASON) == "length");
    const position p = read_position(r, 1);
    CHECK(p.token == " b");
    CHECK(p.top_tokens == std::vector<std::string>{" b", " c"});  // most likely first
}

TEST_CASE("http teacher: embeddings are matched by index") {
    http_test::server server;
    server.http.Post("/v1/embeddings", [](const httplib::Request &, httplib::Response & r) {
        r.set_content(R"({"object": "list", "model": "emb-1", "data": [
            {"index": 1, "embedding": [3.0, 4.0]}, {"index": 0, "embedding": [1.0, 2.0]}],
            "usage": {"prompt_tokens": 2, "total_tokens": 2}})",
                      json_type);
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::TeacherRecord r = teacher.query(R"({"input": ["a", "b"]})");
    CHECK_FALSE(r.failed());
    int64_t count = 0;
    distill::check(distill_teacher_record_embedding_count(r.get(), &count));
    REQUIRE(count == 2);
    const float * values = nullptr;
    int64_t dim = 0;
    distill::check(distill_teacher_record_get_embedding(r.get(), 0, &values, &dim));
    CHECK(dim == 2);
    CHECK(values[0] == 1.0f);
    CHECK(r.integer(DISTILL_RECORD_PROMPT_TOKENS) == 2);
}

namespace {

// A chat answer with one log-probability, from whichever server.
void one_logprob(const httplib::Request &, httplib::Response & r) {
    r.set_content(R"({"id": "c", "model": "m", "choices": [{"message": {"content": "a"},
        "logprobs": {"content": [{"token": "a", "logprob": -0.25, "top_logprobs": []}]}}]})",
                  json_type);
}

}  // namespace

// --dialect auto asks GET /v1/models once and reads the answers as the
// server it finds: llama.cpp (Server header, or owned_by "llamacpp", or
// llama-cpp-python's "me"), vLLM (owned_by "vllm"), OpenAI.
TEST_CASE("http teacher: auto detects the server from /v1/models and its headers") {
    struct server_kind {
        const char * server_header;
        const char * models;
        const char * provider;
        int32_t logprob_kind;
    };
    const server_kind kinds[] = {
        {"llama.cpp", R"({"object": "list", "data": [{"id": "m", "object": "model"}]})",
         "llama.cpp", DISTILL_LOGPROBS_RAW},
        {"", R"({"object": "list", "data": [{"id": "m", "owned_by": "llamacpp"}]})", "llama.cpp",
         DISTILL_LOGPROBS_RAW},
        {"uvicorn",
         R"({"object": "list", "data": [{"id": "m", "object": "model", "owned_by": "me",
             "permissions": []}]})",
         "llama.cpp", DISTILL_LOGPROBS_RAW},
        {"uvicorn", R"({"object": "list", "data": [{"id": "m", "owned_by": "vllm"}]})", "vllm",
         DISTILL_LOGPROBS_RAW},
        {"", R"({"object": "list", "data": [{"id": "m", "owned_by": "system"}]})", "openai",
         DISTILL_LOGPROBS_POST_SAMPLING},
        {"", R"({"object": "list", "data": [{"id": "m", "owned_by": "library"}]})",
         "openai-compatible", DISTILL_LOGPROBS_UNKNOWN},
    };
    for (const server_kind & kind : kinds) {
        CAPTURE(kind.models);
        http_test::server server;
        server.http.Get("/v1/models", [&](const httplib::Request &, httplib::Response & r) {
            if (*kind.server_header) r.set_header("Server", kind.server_header);
            r.set_content(kind.models, json_type);
        });
        server.http.Post("/v1/chat/completions", one_logprob);
        server.start();
        const std::string url = server.url();
        distill::Teacher teacher =
            distill::Teacher::http(fast_options(url, DISTILL_HTTP_DIALECT_AUTO));
        const char * request =
            R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true})";
        for (int i = 0; i < 2; ++i) {
            const distill::TeacherRecord r = teacher.query(request);
            CHECK_FALSE(r.failed());
            CHECK(r.string(DISTILL_RECORD_PROVIDER) == kind.provider);
            CHECK(r.integer(DISTILL_RECORD_LOGPROBS_KIND) == kind.logprob_kind);
        }
        CHECK(server.model_lists == 1);  // asked once, remembered
        CHECK(server.requests == 2);
    }
}

// Switching --dialect between auto and llama_cpp asks nothing again.
TEST_CASE("http teacher: answers are keyed by server, model and request, not by dialect") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", one_logprob);
    server.start();
    const std::string url = server.url();
    distill::Teacher automatic =
        distill::Teacher::http(fast_options(url, DISTILL_HTTP_DIALECT_AUTO));
    distill::Teacher llama =
        distill::Teacher::http(fast_options(url, DISTILL_HTTP_DIALECT_LLAMA_CPP));
    const char * request = R"({"messages": [{"role": "user", "content": "x"}]})";
    CHECK(automatic.request_key(request) == llama.request_key(request));
    store_test::temp_dir dir;
    distill::Store store(dir.file("run.db"));
    automatic.query_cached(store, request);
    CHECK(server.requests == 1);
    CHECK_FALSE(llama.query_cached(store, request).failed());
    CHECK(server.requests == 1);
}
