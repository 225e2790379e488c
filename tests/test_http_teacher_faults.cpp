// The HTTP teacher's retries and failures against a local server that
// fails on purpose: what is retried, how long it waits, what the record
// says when it gives up.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "http_test_server.h"

using http_test::fast_options;
using http_test::json_type;

namespace {

const char * ok_chat =
    R"({"id": "c-1", "model": "m", "choices": [{"message": {"content": "fine"}}]})";
const char * chat_request = R"({"messages": [{"role": "user", "content": "hi"}]})";

void error_body(httplib::Response & r, int status, const std::string & code,
                const std::string & message) {
    r.status = status;
    r.set_content(R"({"error": {"message": ")" + message + R"(", "type": "t", "param": null,
                  "code": ")" +
                      code + R"("}})",
                  json_type);
}

}  // namespace

TEST_CASE("http teacher: a 429 with retry-after-ms is retried after that wait") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [&](const httplib::Request &, httplib::Response & r) {
        if (server.requests == 1) {
            r.set_header("retry-after-ms", "300");
            error_body(r, 429, "rate_limit_exceeded", "Rate limit reached");
        } else {
            r.set_content(ok_chat, json_type);
        }
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    const auto start = std::chrono::steady_clock::now();
    distill::TeacherRecord r = teacher.query(chat_request);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK_FALSE(r.failed());
    CHECK(r.text() == "fine");
    CHECK(r.integer(DISTILL_RECORD_ATTEMPTS) == 2);
    CHECK(server.requests == 2);
    CHECK(elapsed >= std::chrono::milliseconds(300));  // the server's wait, not the 5 ms backoff
    CHECK(r.integer(DISTILL_RECORD_LATENCY_US) >= 300000);
}

TEST_CASE("http teacher: retry-after as an HTTP date in the past retries at once") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [&](const httplib::Request &, httplib::Response & r) {
        if (server.requests == 1) {
            r.set_header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT");
            error_body(r, 503, "overloaded", "busy");
        } else {
            r.set_content(ok_chat, json_type);
        }
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::TeacherRecord r = teacher.query(chat_request);
    CHECK_FALSE(r.failed());
    CHECK(r.integer(DISTILL_RECORD_ATTEMPTS) == 2);
}

TEST_CASE("http teacher: 500 twice, then a success") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [&](const httplib::Request &, httplib::Response & r) {
        if (server.requests <= 2)
            error_body(r, 500, "server_error", "oops");
        else
            r.set_content(ok_chat, json_type);
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::TeacherRecord r = teacher.query(chat_request);
    CHECK_FALSE(r.failed());
    CHECK(r.integer(DISTILL_RECORD_ATTEMPTS) == 3);
    CHECK(server.requests == 3);
}

TEST_CASE("http teacher: 500 past max_retries is kept as the record's error") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [&](const httplib::Request &, httplib::Response & r) {
        error_body(r, 502, "bad_gateway", "upstream down");
    });
    server.start();
    const std::string url = server.url();
    distill_http_teacher_options o = fast_options(url);
    o.max_retries = 1;
    distill::Teacher teacher = distill::Teacher::http(o);
    distill::TeacherRecord r = teacher.query(chat_request);
    CHECK(r.failed());
    CHECK(r.integer(DISTILL_RECORD_ERROR_STATUS) == DISTILL_STATUS_INTERNAL);
    CHECK(r.integer(DISTILL_RECORD_ATTEMPTS) == 2);
    CHECK(server.requests == 2);
    const std::string message = r.string(DISTILL_RECORD_ERROR_MESSAGE);
    CHECK(message.find("HTTP 502") != std::string::npos);
    CHECK(message.find("upstream down") != std::string::npos);
    CHECK(message.find("max_retries") != std::string::npos);
}

TEST_CASE("http teacher: insufficient_quota is not retried and says so") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [&](const httplib::Request &, httplib::Response & r) {
        error_body(r, 429, "insufficient_quota", "You exceeded your current quota");
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::TeacherRecord r = teacher.query(chat_request);
    CHECK(r.failed());
    CHECK(server.requests == 1);
    CHECK(r.integer(DISTILL_RECORD_ATTEMPTS) == 1);
    CHECK(r.integer(DISTILL_RECORD_ERROR_STATUS) == DISTILL_STATUS_INVALID_ARGUMENT);
    const std::string message = r.string(DISTILL_RECORD_ERROR_MESSAGE);
    CHECK(message.find("HTTP 429") != std::string::npos);
    CHECK(message.find("insufficient_quota") != std::string::npos);
    CHECK(message.find("quota") != std::string::npos);
}

TEST_CASE("http teacher: a 400 is not retried") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [&](const httplib::Request &, httplib::Response & r) {
        error_body(r, 400, "invalid_value", "top_logprobs must be <= 20");
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::TeacherRecord r = teacher.query(chat_request);
    CHECK(r.failed());
    CHECK(server.requests == 1);
    CHECK(r.string(DISTILL_RECORD_ERROR_MESSAGE).find("top_logprobs must be <= 20") !=
          std::string::npos);
}

TEST_CASE("http teacher: x-should-retry overrides the status both ways") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [&](const httplib::Request &, httplib::Response & r) {
        const int n = server.requests;
        if (n == 1) {  // a 503 the server says will not heal
            r.set_header("x-should-retry", "false");
            error_body(r, 503, "x", "do not come back");
        } else if (n == 2) {  // a 400 the server says will
            r.set_header("x-should-retry", "true");
            error_body(r, 400, "x", "try again");
        } else {
            r.set_content(ok_chat, json_type);
        }
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::TeacherRecord first = teacher.query(chat_request);
    CHECK(first.failed());
    CHECK(first.integer(DISTILL_RECORD_ATTEMPTS) == 1);
    distill::TeacherRecord second = teacher.query(chat_request);
    CHECK_FALSE(second.failed());
    CHECK(second.integer(DISTILL_RECORD_ATTEMPTS) == 2);
    CHECK(server.requests == 3);
}

TEST_CASE("http teacher: connection refused is retried, then an error naming the URL") {
    const std::string url = "http://127.0.0.1:" + std::to_string(http_test::closed_port()) + "/v1";
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::TeacherRecord r = teacher.query(chat_request);
    CHECK(r.failed());
    CHECK(r.integer(DISTILL_RECORD_ATTEMPTS) == 3);  // max_retries = 2
    CHECK(r.integer(DISTILL_RECORD_ERROR_STATUS) == DISTILL_STATUS_INTERNAL);
    const std::string message = r.string(DISTILL_RECORD_ERROR_MESSAGE);
    CHECK(message.find(url) != std::string::npos);
    CHECK(message.find("connection") != std::string::npos);
}

TEST_CASE("http teacher: a server slower than timeout_ms gives an error naming the timeout") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [&](const httplib::Request &, httplib::Response & r) {
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
        r.set_content(ok_chat, json_type);
    });
    server.start();
    const std::string url = server.url();
    distill_http_teacher_options o = fast_options(url);
    o.timeout_ms = 150;
    o.max_retries = 0;
    distill::Teacher teacher = distill::Teacher::http(o);
    const auto start = std::chrono::steady_clock::now();
    distill::TeacherRecord r = teacher.query(chat_request);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(650));
    CHECK(r.failed());
    const std::string message = r.string(DISTILL_RECORD_ERROR_MESSAGE);
    CHECK(message.find("timed out") != std::string::npos);
    CHECK(message.find("timeout_ms = 150") != std::string::npos);
}

TEST_CASE("http teacher: a 200 that is not JSON is an error, not a crash") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [&](const httplib::Request &, httplib::Response & r) {
        r.set_content("<html>proxy page</html>", "text/html");
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::TeacherRecord r = teacher.query(chat_request);
    CHECK(r.failed());
    CHECK(r.string(DISTILL_RECORD_ERROR_MESSAGE).find("not JSON") != std::string::npos);
}

TEST_CASE("http teacher: a server wait past max_retry_seconds gives up at once") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [&](const httplib::Request &, httplib::Response & r) {
        r.set_header("retry-after", "30");
        error_body(r, 429, "rate_limit_exceeded", "slow down");
    });
    server.start();
    const std::string url = server.url();
    distill_http_teacher_options o = fast_options(url);
    o.max_retry_seconds = 1.0;
    distill::Teacher teacher = distill::Teacher::http(o);
    const auto start = std::chrono::steady_clock::now();
    distill::TeacherRecord r = teacher.query(chat_request);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    CHECK(r.failed());
    CHECK(r.integer(DISTILL_RECORD_ATTEMPTS) == 1);
    CHECK(r.string(DISTILL_RECORD_ERROR_MESSAGE).find("max_retry_seconds") != std::string::npos);
}
