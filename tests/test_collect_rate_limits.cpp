// distill_collect's rate limits against a real local server: our own
// budgets per minute, and the server's x-ratelimit-* headers. Only lower
// bounds on elapsed time are checked (a slow machine never fails them).
#include <doctest/doctest.h>

#include <chrono>

#include "collect_test_support.h"
#include "store_test_support.h"

using collect_test::chat_requests;
using http_test::fast_options;

namespace {

double seconds_to_collect(distill::Teacher & teacher, const std::vector<std::string> & requests,
                          const distill::CollectOptions & options) {
    store_test::temp_dir dir;
    distill::Store store(dir.file("run.db"));
    const auto start = std::chrono::steady_clock::now();
    const distill_collect_summary s = distill::collect(teacher, store, requests, options);
    CHECK(s.succeeded == int64_t(requests.size()));
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("collect: requests_per_minute spreads requests out") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", collect_test::answer);
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::CollectOptions o;
    o.get().concurrency = 8;
    o.get().requests_per_minute = 600;  // 10 a second, a burst of at most 10
    // 25 requests: 10 at once, then 15 at 100 ms intervals.
    CHECK(seconds_to_collect(teacher, chat_requests(25), o) >= 1.4);
}

TEST_CASE("collect: tokens_per_minute holds back once the budget is used") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [](const httplib::Request &, httplib::Response & r) {
        r.set_content(R"({"choices": [{"message": {"content": "long"}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 300}})",
                      http_test::json_type);
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::CollectOptions o;
    o.get().concurrency = 8;
    o.get().tokens_per_minute = 120000;  // 2000 a second, a burst of at most 2000
    // 12 answers of 310 tokens: 3720 tokens, 1720 more than the first burst.
    const double seconds =
        seconds_to_collect(teacher, chat_requests(12, R"(, "max_tokens": 300)"), o);
    CHECK(seconds >= 0.75);
}

TEST_CASE("collect: the server's x-ratelimit headers slow the job down") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [](const httplib::Request & q, httplib::Response & r) {
        r.set_header("x-ratelimit-remaining-requests", "0");
        r.set_header("x-ratelimit-reset-requests", "200ms");
        r.set_header("x-ratelimit-remaining-tokens", "90000");
        r.set_header("x-ratelimit-reset-tokens", "1m30.5s");
        collect_test::answer(q, r);
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::CollectOptions o;
    o.get().concurrency = 1;
    // Each answer says: none left for 200 ms. 6 requests: 5 waits.
    CHECK(seconds_to_collect(teacher, chat_requests(6), o) >= 1.0);
}

TEST_CASE("collect: x-ratelimit-remaining-tokens too low for a request waits for the reset") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [](const httplib::Request & q, httplib::Response & r) {
        r.set_header("x-ratelimit-remaining-requests", "500");
        r.set_header("x-ratelimit-reset-requests", "1m0s");
        r.set_header("x-ratelimit-remaining-tokens", "5");
        r.set_header("x-ratelimit-reset-tokens", "0.15s");
        collect_test::answer(q, r);
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::CollectOptions o;
    o.get().concurrency = 2;
    // Every request is estimated above 5 tokens: after the first two
    // answers, the next two wait for the reset, then the last two.
    CHECK(seconds_to_collect(teacher, chat_requests(6), o) >= 0.28);
}
