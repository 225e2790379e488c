// distill_collect against a real local HTTP server: requests really in
// flight together, answers equal to a one-at-a-time run, each request
// asked once, fatal failures stopping the job, cost and token counts.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "collect_test_support.h"
#include "store_test_support.h"

using collect_test::chat_requests;
using http_test::fast_options;
using http_test::json_type;

namespace {

distill::CollectOptions with_concurrency(int32_t concurrency) {
    distill::CollectOptions o;
    o.get().concurrency = concurrency;
    return o;
}

void quota_error(httplib::Response & r) {
    r.status = 429;
    r.set_content(R"({"error": {"message": "You exceeded your current quota", "type":
        "insufficient_quota", "param": null, "code": "insufficient_quota"}})",
                  json_type);
}

}  // namespace

// A chat server whose handlers hold each request until `target` are in
// flight at once (or 3 s pass), so the maximum it sees is the client's
// concurrency whatever the machine's load, never a race of timings.
class gated_server {
public:
    explicit gated_server(int target) {
        server.set_threads(64);
        server.http.Post("/v1/chat/completions", [this, target](const httplib::Request & q,
                                                                httplib::Response & r) {
            http_test::concurrency_gauge::scope in_flight(gauge);
            const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(3);
            while (gauge.most() < target && std::chrono::steady_clock::now() < give_up)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            collect_test::answer(q, r);
        });
        server.start();
    }
    http_test::server server;
    http_test::concurrency_gauge gauge;
};

TEST_CASE("collect: concurrency N keeps N requests in flight; answers equal a sequential run") {
    const std::vector<std::string> requests = chat_requests(48);
    store_test::temp_dir dir;

    gated_server wide(16);
    const std::string url = wide.server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::Store concurrent(dir.file("concurrent.db"));
    const distill_collect_summary s =
        distill::collect(teacher, concurrent, requests, with_concurrency(16));
    CHECK(wide.gauge.most() == 16);
    CHECK(s.requests == 48);
    CHECK(s.asked == 48);
    CHECK(s.succeeded == 48);
    CHECK(s.failed == 0);
    CHECK(s.answered_from_store == 0);
    CHECK(wide.server.requests == 48);

    // One at a time: the server never sees two (and its gate opens at 1).
    gated_server narrow(1);
    const std::string narrow_url = narrow.server.url();
    distill::Teacher same_teacher = distill::Teacher::http(fast_options(narrow_url));
    distill::Store sequential(dir.file("sequential.db"));
    distill::collect(same_teacher, sequential, requests, with_concurrency(1));
    CHECK(narrow.gauge.most() == 1);
    CHECK(sequential.stats().records == 48);
    CHECK(concurrent.stats().records == 48);
    for (size_t i = 0; i < requests.size(); ++i) {
        // The base URL is part of the key: look each answer up under its teacher's.
        auto a = concurrent.get(teacher.request_key(requests[i]));
        auto b = sequential.get(same_teacher.request_key(requests[i]));
        REQUIRE(a.has_value());
        REQUIRE(b.has_value());
        CHECK(a->text() == "answer to prompt " + std::to_string(i));
        CHECK(a->text() == b->text());
        CHECK(a->integer(DISTILL_RECORD_COMPLETION_TOKENS) == 5);
    }
}

TEST_CASE("collect: stored successes are skipped, a repeated key is asked once, failures again") {
    http_test::server server;
    std::atomic<bool> fail_prompt_2{true};
    server.http.Post("/v1/chat/completions", [&](const httplib::Request & q,
                                                 httplib::Response & r) {
        if (fail_prompt_2 && collect_test::prompt_of(q) == "prompt 2") {
            r.status = 500;
            r.set_content(R"({"error": {"message": "boom", "code": "server_error"}})", json_type);
            return;
        }
        collect_test::answer(q, r);
    });
    server.start();
    const std::string url = server.url();
    distill_http_teacher_options options = fast_options(url);
    options.max_retries = 0;
    distill::Teacher teacher = distill::Teacher::http(options);
    std::vector<std::string> requests = chat_requests(5);
    // The same question spelled differently: one key, asked once.
    requests.push_back(R"({"messages":[{"content":"prompt 1","role":"user"}]})");
    store_test::temp_dir dir;
    distill::Store store(dir.file("run.db"));

    distill_collect_summary s = distill::collect(teacher, store, requests);
    CHECK(s.requests == 6);
    CHECK(s.asked == 5);
    CHECK(s.answered_from_store == 1);
    CHECK(s.succeeded == 4);
    CHECK(s.failed == 1);
    CHECK(server.requests == 5);
    CHECK(store.stats().records == 5);
    CHECK(store.stats().failures == 1);

    fail_prompt_2 = false;
    s = distill::collect(teacher, store, requests);
    CHECK(s.asked == 1);  // only the stored failure
    CHECK(s.succeeded == 1);
    CHECK(s.answered_from_store == 5);
    CHECK(server.requests == 6);
    CHECK(store.stats().records == 5);
    CHECK(store.stats().failures == 0);

    s = distill::collect(teacher, store, requests);
    CHECK(s.asked == 0);
    CHECK(server.requests == 6);
}

TEST_CASE("collect: insufficient_quota stops the job, naming the request and the reason") {
    http_test::server server;
    server.http.Post("/v1/chat/completions",
                     [&](const httplib::Request & q, httplib::Response & r) {
                         if (server.requests > 3)
                             quota_error(r);
                         else
                             collect_test::answer(q, r);
                     });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    store_test::temp_dir dir;
    distill::Store store(dir.file("run.db"));
    const std::vector<std::string> requests = chat_requests(60);
    try {
        distill::collect(teacher, store, requests, with_concurrency(2));
        FAIL("expected the job to stop");
    } catch (const distill::Exception & e) {
        CHECK(e.status() == DISTILL_STATUS_INVALID_ARGUMENT);
        const std::string message = e.what();
        CHECK(message.find("insufficient_quota") != std::string::npos);
        CHECK(message.find("requests[") != std::string::npos);
        CHECK(message.find("out of quota") != std::string::npos);
    }
    CHECK(server.requests < 10);  // not retried, nothing new started after it
    const distill_store_stats stats = store.stats();
    CHECK(stats.records == server.requests);  // what was answered is stored, failures too
    CHECK(stats.failures >= 1);

    // Without stop_on_fatal_error every request is asked and fails alone.
    distill::CollectOptions go_on;
    go_on.get().stop_on_fatal_error = 0;
    const distill_collect_summary s = distill::collect(teacher, store, requests, go_on);
    CHECK(s.asked + s.answered_from_store == 60);
    CHECK(s.failed == s.asked);
}

// What the server rejects for one request fails that request alone: the
// rest are collected, the failure is stored, a rerun asks only it.
TEST_CASE("collect: a request the server rejects alone does not stop the job") {
    struct rejection {
        int status;
        const char * body;
    };
    const rejection rejections[] = {
        {400, R"({"error": {"message": "This model's maximum context length is 8 tokens",
                 "type": "invalid_request_error", "code": "context_length_exceeded"}})"},
        {400, R"({"error": {"message": "bad stop", "type": "invalid_request_error"}})"},
        {400, R"({"error": {"message": "flagged", "code": "content_filter"}})"},
        {413, R"({"error": "request entity too large"})"},
        {422, R"({"detail": [{"msg": "field required"}]})"},
    };
    for (const rejection & rejected : rejections) {
        CAPTURE(rejected.status);
        CAPTURE(rejected.body);
        http_test::server server;
        std::atomic<bool> reject{true};
        server.http.Post("/v1/chat/completions",
                         [&](const httplib::Request & q, httplib::Response & r) {
                             if (reject && collect_test::prompt_of(q) == "prompt 3") {
                                 r.status = rejected.status;
                                 r.set_content(rejected.body, json_type);
                                 return;
                             }
                             collect_test::answer(q, r);
                         });
        server.start();
        const std::string url = server.url();
        distill::Teacher teacher = distill::Teacher::http(fast_options(url));
        store_test::temp_dir dir;
        distill::Store store(dir.file("run.db"));
        const std::vector<std::string> requests = chat_requests(12);
        // The default stop_on_fatal_error: still every request is asked.
        distill_collect_summary s = distill::collect(teacher, store, requests, with_concurrency(1));
        CHECK(s.asked == 12);
        CHECK(s.succeeded == 11);
        CHECK(s.failed == 1);
        CHECK(server.requests == 12);  // not retried either
        CHECK(store.stats().failures == 1);
        const std::optional<distill::TeacherRecord> failure =
            store.get(teacher.request_key(requests[3]));
        REQUIRE(failure.has_value());
        CHECK(failure->failed());
        CHECK(failure->string(DISTILL_RECORD_ERROR_MESSAGE)
                  .find("HTTP " + std::to_string(rejected.status)) != std::string::npos);

        reject = false;
        s = distill::collect(teacher, store, requests);
        CHECK(s.asked == 1);  // only the stored failure
        CHECK(s.succeeded == 1);
        CHECK(server.requests == 13);
    }
}

// What every request would meet stops the job at once.
TEST_CASE("collect: a refused key or an unknown model stops the job") {
    struct refusal {
        int status;
        const char * body;
    };
    const refusal refusals[] = {
        {401, R"({"error": {"message": "Incorrect API key", "code": "invalid_api_key"}})"},
        {403, R"({"error": {"message": "forbidden"}})"},
        {404, R"({"error": {"message": "The model `m` does not exist",
                 "code": "model_not_found"}})"},
        {400, R"({"error": {"message": "no such model", "code": "model_not_found"}})"},
    };
    for (const refusal & refused : refusals) {
        CAPTURE(refused.status);
        http_test::server server;
        server.http.Post("/v1/chat/completions",
                         [&](const httplib::Request &, httplib::Response & r) {
                             r.status = refused.status;
                             r.set_content(refused.body, json_type);
                         });
        server.start();
        const std::string url = server.url();
        distill::Teacher teacher = distill::Teacher::http(fast_options(url));
        store_test::temp_dir dir;
        distill::Store store(dir.file("run.db"));
        CHECK_THROWS_WITH_AS(
            distill::collect(teacher, store, chat_requests(20), with_concurrency(1)),
            doctest::Contains("stop_on_fatal_error"), distill::Exception);
        CHECK(server.requests == 1);
    }
}

TEST_CASE("collect: tokens and cost from the price table") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", collect_test::answer);
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    store_test::temp_dir dir;
    distill::Store store(dir.file("run.db"));
    distill::CollectOptions o;
    o.get().price_prompt = 1.0;
    o.get().price_cached = 0.5;
    o.get().price_completion = 2.0;
    const distill_collect_summary s = distill::collect(teacher, store, chat_requests(10), o);
    CHECK(s.prompt_tokens == 100);
    CHECK(s.cached_tokens == 40);
    CHECK(s.completion_tokens == 50);
    // 10 × (6 × $1 + 4 × $0.5 + 5 × $2) per million tokens.
    CHECK(s.cost_usd == doctest::Approx(10 * 18.0 / 1e6));
    CHECK(s.elapsed_seconds > 0);
}

namespace {

struct progress_log {
    std::thread::id caller;
    bool other_thread = false;
    int calls = 0;
    int64_t cancel_after = -1;  // asked count at which to return CANCELLED; -1 = never
    distill_collect_summary last{};
};

distill_status on_progress(void * user_data, const distill_collect_summary * summary) {
    auto & log = *static_cast<progress_log *>(user_data);
    ++log.calls;
    if (std::this_thread::get_id() != log.caller) log.other_thread = true;
    log.last = *summary;
    return log.cancel_after >= 0 && summary->asked >= log.cancel_after ? DISTILL_STATUS_CANCELLED
                                                                       : DISTILL_STATUS_OK;
}

}  // namespace

TEST_CASE("collect: progress runs on the calling thread; CANCELLED stops, a rerun resumes") {
    http_test::server server;
    server.http.Post("/v1/chat/completions",
                     [&](const httplib::Request & q, httplib::Response & r) {
                         std::this_thread::sleep_for(std::chrono::milliseconds(30));
                         collect_test::answer(q, r);
                     });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    store_test::temp_dir dir;
    distill::Store store(dir.file("run.db"));
    const std::vector<std::string> requests = chat_requests(40);

    progress_log log;
    log.caller = std::this_thread::get_id();
    log.cancel_after = 4;
    distill::CollectOptions o = with_concurrency(2);
    o.get().progress = on_progress;
    o.get().progress_user_data = &log;
    distill_collect_summary untouched{};
    untouched.struct_size = sizeof untouched;
    untouched.asked = -7;
    std::vector<const char *> pointers;
    for (const std::string & r : requests) pointers.push_back(r.c_str());
    CHECK(distill_collect(teacher.get(), store.get(), pointers.data(), pointers.size(), &o.get(),
                          &untouched) == DISTILL_STATUS_CANCELLED);
    CHECK(std::string(distill_last_error_message()).find("progress") != std::string::npos);
    CHECK(untouched.asked == -7);  // out-parameters untouched on failure
    CHECK_FALSE(log.other_thread);
    CHECK(log.calls >= 2);
    CHECK(server.requests < 40);
    // What was in flight finished and is stored; the last report says so.
    CHECK(store.stats().records == server.requests);
    CHECK(log.last.asked == server.requests);

    log.cancel_after = -1;
    const distill_collect_summary s = distill::collect(teacher, store, requests, o);
    CHECK(s.answered_from_store + s.asked == 40);
    CHECK(server.requests == 40);  // nothing asked twice
    CHECK(store.stats().records == 40);
    CHECK(log.last.asked == s.asked);
}

TEST_CASE("collect: bad arguments are refused before anything is sent") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", collect_test::answer);
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    store_test::temp_dir dir;
    distill::Store store(dir.file("run.db"));

    const char * requests[] = {R"({"messages": []})", R"({"temperature": 1})", "{not json"};
    CHECK(distill_collect(teacher.get(), store.get(), requests, 2, nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("requests[1]") != std::string::npos);
    CHECK(distill_collect(teacher.get(), store.get(), requests, 3, nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("requests_json[2]") != std::string::npos);
    CHECK(server.requests == 0);

    distill_collect_options o;
    REQUIRE(distill_collect_options_init(&o) == DISTILL_STATUS_OK);
    CHECK(o.concurrency == 8);
    CHECK(o.stop_on_fatal_error == 1);
    o.concurrency = 0;
    CHECK(distill_collect(teacher.get(), store.get(), requests, 1, &o, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("concurrency") != std::string::npos);
    o.concurrency = 4;
    o.price_prompt = -1;
    CHECK(distill_collect(teacher.get(), store.get(), requests, 1, &o, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("price_prompt") != std::string::npos);
    CHECK(distill_collect(nullptr, store.get(), requests, 1, nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_collect(teacher.get(), nullptr, requests, 1, nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_collect(teacher.get(), store.get(), nullptr, 1, nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    distill_collect_summary tiny{};
    tiny.struct_size = 2;
    CHECK(distill_collect(teacher.get(), store.get(), requests, 1, nullptr, &tiny) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(server.requests == 0);
    // An empty set is a job with nothing to do.
    distill_collect_summary s{};
    s.struct_size = sizeof s;
    CHECK(distill_collect(teacher.get(), store.get(), nullptr, 0, nullptr, &s) ==
          DISTILL_STATUS_OK);
    CHECK(s.requests == 0);
}
