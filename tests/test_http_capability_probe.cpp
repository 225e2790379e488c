// The HTTP teacher's top_logprobs probe against a local server that
// refuses more than 5 alternatives (as vLLM does above --max-logprobs):
// requests asking for more are clamped once the probe has found the
// limit, and the record says so, instead of every request failing.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "collect_test_support.h"
#include "store_test_support.h"

using http_test::fast_options;
using http_test::json_type;

namespace {

// A chat server that takes top_logprobs <= `limit` and answers with that
// many alternatives, and refuses more with a 400.
void limited_to(int limit, const httplib::Request & q, httplib::Response & r) {
    const nlohmann::json body = nlohmann::json::parse(q.body);
    const int k = body.value("top_logprobs", 0);
    if (k > limit) {
        r.status = 400;
        r.set_content(R"({"error": {"message": "top_logprobs must be <= )" + std::to_string(limit) +
                          R"(", "type": "invalid_request_error",
            "param": "top_logprobs", "code": null}})",
                      json_type);
        return;
    }
    nlohmann::json top = nlohmann::json::array();
    for (int i = 0; i < k; ++i)
        top.push_back({{"token", "t" + std::to_string(i)}, {"logprob", -0.5 * (i + 1)}});
    const nlohmann::json answer = {
        {"choices",
         {{{"message", {{"content", "t0"}}},
           {"logprobs",
            {{"content", {{{"token", "t0"}, {"logprob", -0.5}, {"top_logprobs", top}}}}}}}}},
        {"usage", {{"prompt_tokens", 3}, {"completion_tokens", 1}}}};
    r.set_content(answer.dump(), json_type);
}

void limited_to_5(const httplib::Request & q, httplib::Response & r) { limited_to(5, q, r); }

// The number of alternatives of a record's first position.
int32_t alternatives(const distill::TeacherRecord & r) {
    const char * token = nullptr;
    int32_t id = 0, k = -1;
    float logprob = 0;
    distill::check(distill_teacher_record_get_position(r.get(), 0, &token, nullptr, nullptr, &id,
                                                       &logprob, &k));
    return k;
}

std::vector<std::string> asking_top(int k, int count) {
    return collect_test::chat_requests(
        count, R"(, "logprobs": true, "top_logprobs": )" + std::to_string(k));
}

}  // namespace

TEST_CASE("probe: top_logprobs above the server's limit is clamped, probed once, recorded") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", limited_to_5);
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    store_test::temp_dir dir;
    distill::Store store(dir.file("run.db"));
    const std::vector<std::string> requests = asking_top(20, 10);

    distill::CollectOptions o;
    o.get().concurrency = 4;
    const distill_collect_summary s = distill::collect(teacher, store, requests, o);
    CHECK(s.succeeded == 10);
    CHECK(s.failed == 0);
    CHECK(server.requests == 10 + 3);  // probes of 20 and 10 refused, 5 taken; once
    for (const std::string & request : requests) {
        auto r = store.get(teacher.request_key(request));  // filed under the request as asked
        REQUIRE(r.has_value());
        CHECK(r->string(DISTILL_RECORD_PARAMETERS_JSON) ==
              R"({"top_logprobs_clamped":{"asked":20,"sent":5}})");
        const char * token = nullptr;
        int32_t id = 0, k = 0;
        float logprob = 0;
        REQUIRE(distill_teacher_record_get_position(r->get(), 0, &token, nullptr, nullptr, &id,
                                                    &logprob, &k) == DISTILL_STATUS_OK);
        CHECK(k == 5);
    }
    // Remembered: a single query asks no probe again; a rerun asks nothing.
    distill::TeacherRecord one = teacher.query(asking_top(12, 1)[0]);
    CHECK_FALSE(one.failed());
    CHECK(one.string(DISTILL_RECORD_PARAMETERS_JSON) ==
          R"({"top_logprobs_clamped":{"asked":12,"sent":5}})");
    CHECK(server.requests == 14);
    distill::collect(teacher, store, requests, o);
    CHECK(server.requests == 14);
}

TEST_CASE("probe: up to 5 alternatives are never probed nor clamped") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", limited_to_5);
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::TeacherRecord r = teacher.query(asking_top(5, 1)[0]);
    CHECK_FALSE(r.failed());
    CHECK(server.requests == 1);
    CHECK(r.string(DISTILL_RECORD_PARAMETERS_JSON) == "null");
}

TEST_CASE("probe: an inconclusive probe (401) clamps nothing; the request's own error stands") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [](const httplib::Request &, httplib::Response & r) {
        r.status = 401;
        r.set_content(R"({"error": {"message": "no key", "code": "invalid_api_key"}})", json_type);
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    distill::TeacherRecord r = teacher.query(asking_top(20, 1)[0]);
    CHECK(r.failed());
    CHECK(r.string(DISTILL_RECORD_ERROR_MESSAGE).find("invalid_api_key") != std::string::npos);
    CHECK(server.requests == 2);  // one probe, then the request itself, unclamped
}

TEST_CASE("probe: starts from what was asked; a server that takes it is not clamped") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [](const httplib::Request & q, httplib::Response & r) {
        limited_to(50, q, r);
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    const distill::TeacherRecord r = teacher.query(asking_top(50, 1)[0]);
    CHECK_FALSE(r.failed());
    CHECK(alternatives(r) == 50);
    CHECK(r.string(DISTILL_RECORD_PARAMETERS_JSON) == "null");
    CHECK(server.requests == 2);  // one probe (50: taken), then the request
    CHECK(alternatives(teacher.query(asking_top(30, 1)[0])) == 30);
    CHECK(server.requests == 3);  // below what was taken: no probe
}

TEST_CASE("probe: asked above the server's limit, the largest common value below is sent") {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [](const httplib::Request & q, httplib::Response & r) {
        limited_to(30, q, r);
    });
    server.start();
    const std::string url = server.url();
    distill::Teacher teacher = distill::Teacher::http(fast_options(url));
    const distill::TeacherRecord r = teacher.query(asking_top(50, 1)[0]);
    CHECK_FALSE(r.failed());
    CHECK(alternatives(r) == 20);
    CHECK(r.string(DISTILL_RECORD_PARAMETERS_JSON) ==
          R"({"top_logprobs_clamped":{"asked":50,"sent":20}})");
    CHECK(server.requests == 3);  // probes of 50 (refused) and 20 (taken), the request
    // 25: between what was taken and what was refused, so it is asked once.
    CHECK(alternatives(teacher.query(asking_top(25, 1)[0])) == 25);
    CHECK(server.requests == 5);
    CHECK(alternatives(teacher.query(asking_top(60, 1)[0])) == 25);  // above a refusal: no probe
    CHECK(server.requests == 6);
}
