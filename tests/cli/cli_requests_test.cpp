// `distill query` and `distill batch build` against servers that refuse,
// clamp or check what they are sent: each case starts its own server.
#include "cli_runner.h"
#include "http_test_server.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using cli_test::Result;
using cli_test::run;
using cli_test::write;

TEST_SUITE_BEGIN("cli requests");

// A key that occurs inside "[redacted]" (e) or in our own words (x): the
// failed request's message comes out whole and the command returns.
TEST_CASE("a short API key is redacted without eating the message") {
    const auto dir = cli_test::scratch("short-keys");
    const auto one = dir / "one.jsonl";
    write(one, "{\"prompt\": \"hi\"}\n");
    const std::string url = "http://127.0.0.1:" + std::to_string(http_test::closed_port()) + "/v1";
    for (const char * key : {"e", "x", "EMPTY"}) {
        const Result r =
            run("query --teacher " + url + " --model m --prompts '" + one.string() + "' --store '" +
                    (dir / "k.db").string() + "' --api-key-env K --max-retries 0",
                std::string("K=") + key);
        CHECK_MESSAGE(
            (r.code == 1 &&
             r.err.find("connection to " + url + "/completions failed") != std::string::npos &&
             r.err.find("max_retries = 0") != std::string::npos),
            (std::string("K=") + key +
             ": a refused connection returns, its message whole: " + r.err));
    }
}

// A prompt too long for the server's context fails alone: the others are
// collected and the rerun asks only it.
TEST_CASE("a prompt too long for the context fails alone") {
    const auto dir = cli_test::scratch("rejected-prompt");
    http_test::server server;
    std::atomic<bool> reject{true};
    server.http.Post("/v1/completions", [&](const httplib::Request & q, httplib::Response & r) {
        if (reject && q.body.find("long prompt") != std::string::npos) {
            r.status = 400;
            r.set_content(R"({"error": {"message": "maximum context length is 8 tokens",
                "type": "invalid_request_error", "code": "context_length_exceeded"}})",
                          "application/json");
            return;
        }
        r.set_content(R"({"id": "c", "choices": [{"text": "ok"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1}})",
                      "application/json");
    });
    server.start();
    const auto prompts = dir / "one_long.jsonl";
    std::string text;
    for (int i = 0; i < 6; ++i)
        text += std::string("{\"prompt\": \"") +
                (i == 1 ? "long prompt" : "p" + std::to_string(i)) + "\"}\n";
    write(prompts, text);
    const std::string query = "query --teacher " + server.url() + " --model m --prompts '" +
                              prompts.string() + "' --store '" + (dir / "long.db").string() +
                              "' --concurrency 1 --json";
    Result r = run(query);
    try {
        const auto j = nlohmann::json::parse(r.out);
        CHECK_MESSAGE(
            (r.code == 1 && j.at("asked") == 6 && j.at("succeeded") == 5 && j.at("failed") == 1 &&
             r.err.find(":2 failed: HTTP 400") != std::string::npos &&
             r.err.find("context_length_exceeded") != std::string::npos),
            ("one prompt too long: the others are collected, it is named: " + r.out + r.err));
    } catch (const std::exception & e) {
        FAIL_CHECK((std::string("one prompt too long: the summary is JSON: ") + e.what()));
    }
    reject = false;
    r = run(query);
    CHECK_MESSAGE(
        (r.code == 0 && server.requests.load() == 7),
        ("the rerun asks only the failed prompt: " + std::to_string(server.requests.load())));
    r = run("query --help");
    CHECK_MESSAGE((r.out.find("--keep-going") != std::string::npos),
                  ("query --help shows --keep-going"));
}

// Every field of a prompt line reaches the server and is part of the key;
// the command line's options are defaults a line overrides.
TEST_CASE("every field of a prompt line is sent and keyed") {
    const auto dir = cli_test::scratch("request-fields");
    http_test::server server;
    std::mutex mutex;
    std::vector<nlohmann::json> bodies;
    const auto answer = [&](const httplib::Request & q, httplib::Response & r) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            bodies.push_back(nlohmann::json::parse(q.body));
        }
        r.set_content(R"({"id": "c", "choices": [{"text": "ok", "message": {"content": "ok"}}]})",
                      "application/json");
    };
    server.http.Post("/v1/completions", answer);
    server.http.Post("/v1/chat/completions", answer);
    server.start();
    const nlohmann::json fields = {{"max_tokens", 2},
                                   {"temperature", 0},
                                   {"top_p", 0.5},
                                   {"seed", 7},
                                   {"stop", {"\n", "END"}},
                                   {"logprobs", 3},
                                   {"n", 1},
                                   {"presence_penalty", 0.25},
                                   {"frequency_penalty", -0.5},
                                   {"echo", true},
                                   {"top_k", 40},
                                   {"logit_bias", {{"50256", -100}}},
                                   {"user", "distill-test"}};
    nlohmann::json line = fields;
    line["prompt"] = "fields";
    nlohmann::json chat = {{"messages", {{{"role", "user"}, {"content", "fields"}}}},
                           {"top_logprobs", 4},
                           {"seed", 9}};
    const auto prompts = dir / "fields.jsonl";
    write(prompts, line.dump() + "\n" + chat.dump() + "\n{\"prompt\": \"fields\"}\n");
    const std::string query = "query --teacher " + server.url() + " --model m --prompts '" +
                              prompts.string() + "' --store '" + (dir / "fields.db").string() +
                              "' --concurrency 1 --max-tokens 8 --top-logprobs 2 --json";
    Result r = run(query);
    CHECK_MESSAGE((r.code == 0 && bodies.size() == 3),
                  ("three requests with fields asked: " + r.err));
    if (bodies.size() != 3) return;
    bool all_sent = true;
    for (const auto & [name, value] : fields.items())
        if (bodies[0].value(name, nlohmann::json()) != value) {
            all_sent = false;
            FAIL_CHECK(("the line's " + name + " is sent as written: " + bodies[0].dump()));
        }
    CHECK_MESSAGE((all_sent && bodies[0].at("prompt") == "fields" && bodies[0].at("model") == "m"),
                  ("a completion line's fields all reach the server: " + bodies[0].dump()));
    CHECK_MESSAGE(
        (bodies[1].at("top_logprobs") == 4 && bodies[1].at("logprobs") == true &&
         bodies[1].at("seed") == 9 && bodies[1].at("max_tokens") == 8),
        ("a chat line overrides --top-logprobs, keeps --max-tokens: " + bodies[1].dump()));
    CHECK_MESSAGE((bodies[2].at("max_tokens") == 8 && bodies[2].at("logprobs") == 2 &&
                   !bodies[2].contains("seed")),
                  ("a bare line gets the command line's defaults: " + bodies[2].dump()));
    // Three different keys: the fields are part of it (the rerun asks nothing).
    r = run("store stats --store '" + (dir / "fields.db").string() + "' --json");
    try {
        CHECK_MESSAGE((nlohmann::json::parse(r.out).at("records") == 3),
                      ("the line's fields change its key: " + r.out));
    } catch (const std::exception & e) {
        FAIL_CHECK((std::string("store stats prints JSON: ") + e.what()));
    }
    r = run(query);
    CHECK_MESSAGE((r.code == 0 && bodies.size() == 3), ("the rerun asks nothing"));

    write(prompts, "{\"prompt\": \"x\", \"stream\": true}\n");
    r = run(query);
    CHECK_MESSAGE(
        (r.code == 1 && r.err.find(":1: \"stream\"") != std::string::npos && bodies.size() == 3),
        ("a streaming line is refused, naming the line and field: " + r.err));
}

// --top-logprobs 50 on a chat server that takes 20: probed from 50, clamped
// to 20, said once on stderr.
TEST_CASE("a clamp of --top-logprobs is said once") {
    const auto dir = cli_test::scratch("top-logprobs-clamp");
    http_test::server server;
    server.http.Post("/v1/chat/completions", [](const httplib::Request & q, httplib::Response & r) {
        const int k = nlohmann::json::parse(q.body).value("top_logprobs", 0);
        if (k > 20) {
            r.status = 400;
            r.set_content(R"({"error": {"message": "top_logprobs must be <= 20"}})",
                          "application/json");
            return;
        }
        r.set_content(R"({"id": "c", "choices": [{"message": {"content": "ok"}}]})",
                      "application/json");
    });
    server.start();
    const auto prompts = dir / "clamp.jsonl";
    write(prompts,
          "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n"
          "{\"messages\": [{\"role\": \"user\", \"content\": \"b\"}]}\n");
    const Result r =
        run("query --teacher " + server.url() + " --model m --prompts '" + prompts.string() +
            "' --store '" + (dir / "clamp.db").string() + "' --top-logprobs 50");
    const std::string notice =
        "takes at most 20 top_logprobs on chat: requests asking 50 were sent 20";
    const size_t at = r.err.find(notice);
    CHECK_MESSAGE((r.code == 0 && server.requests.load() == 4 && at != std::string::npos &&
                   r.err.find(notice, at + 1) == std::string::npos),
                  ("a clamp of --top-logprobs is said once: " + r.err));
}

// The words of distill query and batch build: a 401 without a key says so,
// llama.cpp's names, progress lines on multiples, no cost without prices,
// a store that does not exist yet.
TEST_CASE("the words of query and batch build") {
    const auto dir = cli_test::scratch("messages");
    http_test::server server;
    server.http.Post("/v1/completions", [](const httplib::Request & q, httplib::Response & r) {
        if (!q.has_header("Authorization")) {
            r.status = 401;
            r.set_content(R"({"error": {"message": "Missing bearer authentication in header"}})",
                          "application/json");
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        r.set_content(R"({"id": "c", "choices": [{"text": "ok"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1}})",
                      "application/json");
    });
    server.start();
    const auto prompts = dir / "forty.jsonl";
    std::string text;
    for (int i = 0; i < 40; ++i) text += "{\"prompt\": \"q" + std::to_string(i) + "\"}\n";
    write(prompts, text);
    const std::string query = "query --teacher " + server.url() + " --model m --prompts '" +
                              prompts.string() + "' --concurrency 1 --store ";

    Result r = run(query + "'" + (dir / "nokey.db").string() + "'");
    CHECK_MESSAGE((r.code == 1 && server.requests.load() == 1 &&
                   r.err.find("no API key was sent") != std::string::npos &&
                   r.err.find("--api-key-env") != std::string::npos &&
                   r.err.find("--keep-going") == std::string::npos),
                  ("a 401 without a key says that none was sent and how to send one: " + r.err));
    r = run(query + "'" + (dir / "nokey.db").string() + "' --keep-going --json");
    CHECK_MESSAGE((r.code == 1 && server.requests.load() == 41 &&
                   r.out.find("\"failed\":40") != std::string::npos),
                  ("--keep-going asks every prompt after a 401: " + r.out));

    const auto numbers = [](const std::string & err) {
        std::vector<int> done;
        std::istringstream lines(err);
        for (std::string line; std::getline(lines, line);)
            if (line.find(" done (") != std::string::npos) done.push_back(std::stoi(line));
        return done;
    };
    setenv("K", "k", 1);
    for (const char * dialect : {"llamacpp", "llama.cpp"}) {
        const std::string store = (dir / (std::string("d-") + dialect + ".db")).string();
        r = run(query + "'" + store + "' --api-key-env K --progress-every 10 --dialect " + dialect);
        CHECK_MESSAGE((r.code == 0), (std::string("--dialect ") + dialect + " is taken: " + r.err));
        const std::vector<int> done = numbers(r.err);
        bool on_multiples = done.size() == 4;
        for (size_t k = 0; k < done.size(); ++k)
            on_multiples = on_multiples && done[k] >= 10 * int(k + 1) && done[k] < 10 * int(k + 2);
        CHECK_MESSAGE((on_multiples),
                      ("--progress-every 10: a line past each multiple of 10: " + r.err));
        CHECK_MESSAGE(
            (r.out.find("40 from the store") == std::string::npos &&
             r.out.find("40 asked, 0 from the store") != std::string::npos &&
             r.out.find("$") == std::string::npos && r.err.find("$") == std::string::npos),
            ("the summary says from the store, and no cost without prices: " + r.out));
    }
    unsetenv("K");

    const auto fresh = dir / "not-yet.db";
    r = run("batch build --prompts '" + prompts.string() + "' --model m --out '" +
            (dir / "batch.jsonl").string() + "' --store '" + fresh.string() + "'");
    CHECK_MESSAGE(
        (r.code == 0 && r.out.find("40 written") != std::string::npos &&
         r.err.find("does not exist yet") != std::string::npos && !std::filesystem::exists(fresh)),
        ("batch build with a store not made yet leaves out nothing: " + r.out + r.err));
}

TEST_SUITE_END();
