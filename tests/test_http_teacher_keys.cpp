// The HTTP teacher's API key (read at creation, sent as a header, never
// written anywhere), its options' validation, and the store cache.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <mutex>

#include "http_test_server.h"
#include "store_test_support.h"

using http_test::fast_options;
using http_test::json_type;

namespace {

const char * ok_chat =
    R"({"id": "c-1", "model": "m", "choices": [{"message": {"content": "fine"}}]})";
const char * chat_request = R"({"messages": [{"role": "user", "content": "hi"}]})";
const char * secret = "sk-test-SECRET-0123456789abcdef";

std::string slurp(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("http teacher: the key from an env var is sent and never written anywhere") {
    setenv("DISTILL_TEST_HTTP_KEY", secret, 1);
    http_test::server server;
    std::mutex mutex;
    std::string authorization;
    server.http.Post(
        "/v1/chat/completions", [&](const httplib::Request & q, httplib::Response & r) {
            {
                std::lock_guard<std::mutex> lock(mutex);
                authorization = q.get_header_value("Authorization");
            }
            // Like OpenAI's 401, the error echoes the key back.
            r.status = 401;
            r.set_content(std::string(R"({"error": {"message": "Incorrect API key provided: )") +
                              secret +
                              R"(", "type": "invalid_request_error", "code": "invalid_api_key"}})",
                          json_type);
        });
    server.start();
    const std::string url = server.url();
    distill_http_teacher_options o = fast_options(url);
    o.api_key_env = "DISTILL_TEST_HTTP_KEY";
    distill::Teacher teacher = distill::Teacher::http(o);

    store_test::temp_dir dir;
    const std::string db = dir.file("keys.db");
    std::string stored_text;
    {
        distill::Store store(db);
        distill::TeacherRecord r = teacher.query_cached(store, chat_request);
        {
            std::lock_guard<std::mutex> lock(mutex);  // written on the server's thread
            CHECK(authorization == std::string("Bearer ") + secret);
        }
        CHECK(r.failed());
        CHECK(server.requests == 1);  // 401: not retried
        const std::string message = r.string(DISTILL_RECORD_ERROR_MESSAGE);
        CHECK(message.find("Incorrect API key provided") != std::string::npos);
        CHECK(message.find("[redacted]") != std::string::npos);
        for (int field = DISTILL_RECORD_TEXT; field <= DISTILL_RECORD_PARAMETERS_JSON; ++field)
            CHECK(r.string(distill_record_string(field)).find(secret) == std::string::npos);
        store.export_jsonl(dir.file("export.jsonl"));
    }
    CHECK(slurp(dir.file("export.jsonl")).find(secret) == std::string::npos);
    CHECK(slurp(db).find(secret) == std::string::npos);
    unsetenv("DISTILL_TEST_HTTP_KEY");
}

// Short keys (vLLM's EMPTY, one letter) that also occur inside "[redacted]"
// or in our own words: the query returns, the echoed key is gone, the
// rest of the message reads as written.
TEST_CASE("http teacher: short keys echoed back are redacted; the message is not mangled") {
    http_test::server server;
    server.http.Post(
        "/v1/chat/completions", [&](const httplib::Request & q, httplib::Response & r) {
            const std::string key = q.get_header_value("Authorization").substr(7);  // "Bearer "
            r.status = 401;
            r.set_content(R"({"error": {"message": "Incorrect API key provided: )" + key +
                              R"(. Check max_retries.", "code": "invalid_api_key"}})",
                          json_type);
        });
    server.start();
    const std::string url = server.url();
    for (const char * key : {"e", "a", "d", "red", "act", "x", "EMPTY"}) {
        CAPTURE(key);
        setenv("DISTILL_TEST_SHORT_KEY", key, 1);
        distill_http_teacher_options o = fast_options(url);
        o.api_key_env = "DISTILL_TEST_SHORT_KEY";
        distill::Teacher teacher = distill::Teacher::http(o);
        const distill::TeacherRecord r = teacher.query(chat_request);
        REQUIRE(r.failed());
        const std::string message = r.string(DISTILL_RECORD_ERROR_MESSAGE);
        CHECK(message.find("Incorrect API key provided: [redacted]. Check max_retries.") !=
              std::string::npos);
        CHECK(message.find(std::string(": ") + key + ".") == std::string::npos);
        CHECK(message.find("(code invalid_api_key); not retried") != std::string::npos);
    }
    unsetenv("DISTILL_TEST_SHORT_KEY");
}

TEST_CASE("http teacher: a key file is read and trimmed") {
    store_test::temp_dir dir;
    const std::string path = dir.file("key.txt");
    std::ofstream(path) << "  " << secret << "\n";
    http_test::server server;
    std::mutex mutex;  // the handler runs on the server's thread
    std::string authorization;
    server.http.Post("/v1/chat/completions",
                     [&](const httplib::Request & q, httplib::Response & r) {
                         std::lock_guard<std::mutex> lock(mutex);
                         authorization = q.get_header_value("Authorization");
                         r.set_content(ok_chat, json_type);
                     });
    server.start();
    const std::string url = server.url();
    distill_http_teacher_options o = fast_options(url);
    o.api_key_file = path.c_str();
    distill::Teacher teacher = distill::Teacher::http(o);
    CHECK_FALSE(teacher.query(chat_request).failed());
    std::lock_guard<std::mutex> lock(mutex);
    CHECK(authorization == std::string("Bearer ") + secret);
}

TEST_CASE("http teacher: a missing key variable fails creation, naming the variable") {
    unsetenv("DISTILL_TEST_NO_SUCH_KEY");
    const std::string url = "http://127.0.0.1:9/v1";  // outlives the options
    distill_http_teacher_options o = fast_options(url);
    o.api_key_env = "DISTILL_TEST_NO_SUCH_KEY";
    distill_teacher * t = nullptr;
    CHECK(distill_teacher_create_http(&o, &t) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(t == nullptr);
    CHECK(std::string(distill_last_error_message()).find("DISTILL_TEST_NO_SUCH_KEY") !=
          std::string::npos);

    setenv("DISTILL_TEST_EMPTY_KEY", "", 1);
    o.api_key_env = "DISTILL_TEST_EMPTY_KEY";
    CHECK(distill_teacher_create_http(&o, &t) == DISTILL_STATUS_INVALID_ARGUMENT);
    unsetenv("DISTILL_TEST_EMPTY_KEY");

    o.api_key_env = nullptr;
    o.api_key_file = "/nonexistent/distill/key";
    CHECK(distill_teacher_create_http(&o, &t) == DISTILL_STATUS_NOT_FOUND);
    CHECK(std::string(distill_last_error_message()) ==
          "options.api_key_file: opening '/nonexistent/distill/key' failed: No such file or "
          "directory");
}

TEST_CASE("http teacher: options are checked at creation") {
    distill_teacher * t = nullptr;
    CHECK(distill_teacher_create_http(nullptr, &t) == DISTILL_STATUS_INVALID_ARGUMENT);
    distill_http_teacher_options o;
    REQUIRE(distill_http_teacher_options_init(&o) == DISTILL_STATUS_OK);
    CHECK(o.verify_tls == 1);
    CHECK(o.max_retries == 2);
    CHECK(distill_teacher_create_http(&o, &t) == DISTILL_STATUS_INVALID_ARGUMENT);  // no base_url
    o.base_url = "ftp://example";
    CHECK(distill_teacher_create_http(&o, &t) == DISTILL_STATUS_INVALID_ARGUMENT);
    o.base_url = "http://127.0.0.1:9/v1";
    o.dialect = 7;
    CHECK(distill_teacher_create_http(&o, &t) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("options.dialect") != std::string::npos);
    o.dialect = DISTILL_HTTP_DIALECT_OPENAI;
    o.timeout_ms = 0;
    CHECK(distill_teacher_create_http(&o, &t) == DISTILL_STATUS_INVALID_ARGUMENT);
    o.timeout_ms = 1000;
    o.parameters_json = "[1]";
    CHECK(distill_teacher_create_http(&o, &t) == DISTILL_STATUS_INVALID_ARGUMENT);
    o.parameters_json = nullptr;
    REQUIRE(distill_teacher_create_http(&o, &t) == DISTILL_STATUS_OK);
    distill_teacher_record * record = nullptr;
    // A request that is neither chat, completion nor embeddings is the caller's error.
    CHECK(distill_teacher_query(t, R"({"foo": 1})", &record) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(record == nullptr);
    distill_teacher_free(t);
}

TEST_CASE("http teacher: a cached query asks the server once") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [&](const httplib::Request &, httplib::Response & r) {
        r.set_content(ok_chat, json_type);
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    store_test::temp_dir dir;
    distill::Store store(dir.file("cache.db"));
    distill::TeacherRecord first = teacher.query_cached(store, chat_request);
    CHECK(server.requests == 1);
    distill::TeacherRecord second =
        teacher.query_cached(store, R"({"messages":[{"content":"hi","role":"user"}]})");
    CHECK(server.requests == 1);
    CHECK(second.text() == "fine");
    CHECK(second.key() == first.key());
    CHECK(store.stats().records == 1);
}
