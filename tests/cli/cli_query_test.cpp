// `distill query`, `store stats` and `store export` end to end against a
// test server on 127.0.0.1: the first run, the rerun from the store, the
// summaries, malformed input and usage errors, --help, and Ctrl-C.
#include "cli_runner.h"
#include "http_test_server.h"

#include <distill/distill.h>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using cli_test::Result;
using cli_test::run;
using cli_test::slurp;
using cli_test::write;

TEST_SUITE_BEGIN("cli query");

// One server, one store: every step below reads what the one before left.
TEST_CASE("query, rerun, store stats and export, bad input") {
    const auto dir = cli_test::scratch("query");
    http_test::server server;
    const auto answer = [](const httplib::Request &, httplib::Response & r) {
        r.set_content(R"({"id": "c-1", "model": "teacher-1", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": "ok"},
            "logprobs": {"content": [{"token": "ok", "logprob": -0.1,
                "top_logprobs": [{"token": "ok", "logprob": -0.1}, {"token": "no", "logprob": -2.5}]}]},
            "finish_reason": "length"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})",
                      "application/json");
    };
    server.http.Post("/v1/chat/completions", answer);
    server.http.Post("/v1/completions", [](const httplib::Request &, httplib::Response & r) {
        r.set_content(R"({"id": "c-2", "model": "teacher-1", "choices": [{"text": "ok",
            "logprobs": {"tokens": ["ok"], "token_logprobs": [-0.1],
                         "top_logprobs": [{"ok": -0.1, "no": -2.5}], "text_offset": [0]},
            "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}})",
                      "application/json");
    });
    server.start();

    const auto prompts = dir / "prompts.jsonl";
    write(prompts,
          "{\"messages\": [{\"role\": \"user\", \"content\": \"one\"}], \"id\": \"p1\"}\n"
          "{\"messages\": [{\"role\": \"user\", \"content\": \"two\"}]}\n"
          "\n"
          "{\"prompt\": \"three\"}\n"
          "{\"prompt\": \"four\", \"id\": 4}\n"
          "{\"messages\": [{\"role\": \"system\", \"content\": \"s\"}, "
          "{\"role\": \"user\", \"content\": \"five\"}]}\n");
    const auto store = dir / "run.db";
    const std::string query = "query --teacher " + server.url() + " --model teacher-1 --prompts '" +
                              prompts.string() + "' --store '" + store.string() +
                              "' --top-logprobs 2 --max-tokens 8 --temperature 0 --json";

    // First run: all 5 asked.
    Result r = run(query);
    CHECK_MESSAGE((r.code == 0), ("query exits 0"));
    CHECK_MESSAGE((server.requests.load() == 5),
                  ("server got 5 requests, got " + std::to_string(server.requests.load())));
    try {
        const auto j = nlohmann::json::parse(r.out);
        CHECK_MESSAGE((j.at("asked") == 5 && j.at("cached") == 0 && j.at("failed") == 0),
                      ("summary: 5 asked, 0 cached: " + r.out));
        CHECK_MESSAGE((j.at("completion_tokens") == 5), ("summary counts tokens: " + r.out));
    } catch (const std::exception & e) {
        FAIL_CHECK((std::string("query --json prints JSON: ") + e.what() + ": " + r.out));
    }

    // Rerun: nothing asked, all cached.
    r = run(query);
    CHECK_MESSAGE((r.code == 0), ("rerun exits 0"));
    CHECK_MESSAGE((server.requests.load() == 5), ("rerun asks nothing"));
    try {
        const auto j = nlohmann::json::parse(r.out);
        CHECK_MESSAGE((j.at("asked") == 0 && j.at("cached") == 5),
                      ("rerun: 0 asked, 5 cached: " + r.out));
    } catch (const std::exception & e) {
        FAIL_CHECK((std::string("rerun --json prints JSON: ") + e.what()));
    }

    // Human summary without --json.
    r = run(query.substr(0, query.size() - 7));
    CHECK_MESSAGE((r.code == 0 && r.out.find("5 from the store") != std::string::npos),
                  ("plain summary names the count from the store: " + r.out));

    // store stats.
    r = run("store stats --store '" + store.string() + "' --json");
    CHECK_MESSAGE((r.code == 0), ("store stats exits 0"));
    try {
        const auto j = nlohmann::json::parse(r.out);
        CHECK_MESSAGE((j.at("records") == 5 && j.at("failures") == 0),
                      ("stats: 5 records: " + r.out));
        CHECK_MESSAGE(
            (j.at("finish_reasons").at("length") == 3 && j.at("finish_reasons").at("stop") == 2),
            ("stats: 3 chat answers truncated, 2 completions stopped: " + r.out));
    } catch (const std::exception & e) {
        FAIL_CHECK((std::string("stats --json prints JSON: ") + e.what()));
    }
    r = run("store stats --store '" + store.string() + "'");
    CHECK_MESSAGE((r.code == 0 && r.out.find("truncated  3 answers") != std::string::npos),
                  ("plain stats shows the truncated answers: " + r.out));
    r = run("store stats --store '" + dir.string() + "'");
    CHECK_MESSAGE((r.code == 1 && r.err.find("which is a directory") != std::string::npos),
                  ("stats on a directory says so: " + r.err));
    // File failures print their status name, and exit 1.
    r = run("store stats --store '" + (dir / "absent.db").string() + "'");
    CHECK_MESSAGE((r.code == 1 &&
                   r.err.find("NOT_FOUND: opening the store for reading '") != std::string::npos),
                  ("stats on a missing store says NOT_FOUND: " + r.err));
    r = run("store stats --store '" + dir.string() + "'");
    CHECK_MESSAGE((r.err.find("IO_ERROR: ") != std::string::npos),
                  ("a directory is IO_ERROR: " + r.err));
    write(dir / "notes.txt", "these are my notes, not a database\n");
    r = run("store stats --store '" + (dir / "notes.txt").string() + "'");
    CHECK_MESSAGE((r.code == 1 && r.err.find("CORRUPT_FILE: ") != std::string::npos),
                  ("a text file as store is CORRUPT_FILE: " + r.err));
    r = run("train --config '" + (dir / "absent.json").string() + "' --data fashion-mnist");
    CHECK_MESSAGE((r.code == 1 &&
                   r.err.find("NOT_FOUND: --config: opening '" + (dir / "absent.json").string() +
                              "' failed: No such file or directory") != std::string::npos),
                  ("train with a missing --config file says NOT_FOUND: " + r.err));

    // store export.
    const auto exported = dir / "export.jsonl";
    r = run("store export --store '" + store.string() + "' --out '" + exported.string() + "'");
    CHECK_MESSAGE((r.code == 0), ("store export exits 0"));
    {
        std::ifstream in(exported);
        std::string line;
        int lines = 0, parsed = 0;
        while (std::getline(in, line)) {
            ++lines;
            try {
                const auto j = nlohmann::json::parse(line);
                if (j.at("text") == "ok") ++parsed;
            } catch (const std::exception &) {
            }
        }
        CHECK_MESSAGE((lines == 5 && parsed == 5),
                      ("export: 5 parseable lines, got " + std::to_string(parsed) + "/" +
                       std::to_string(lines)));
    }
    // The read-only commands left no -wal / -shm beside the store.
    for (const char * suffix : {"-wal", "-shm"})
        CHECK_MESSAGE((!std::filesystem::exists(store.string() + suffix)),
                      (std::string("stats and export leave no ") + suffix + " file"));

    // Malformed prompts: exit 1, line number named, nothing asked.
    const auto bad = dir / "bad.jsonl";
    write(bad, "{\"prompt\": \"fine\"}\n{\"prompt\": \"broken\"\n");
    r = run("query --teacher " + server.url() + " --model teacher-1 --prompts '" + bad.string() +
            "' --store '" + store.string() + "'");
    CHECK_MESSAGE((r.code == 1), ("malformed prompts exit 1"));
    CHECK_MESSAGE((r.err.find(":2:") != std::string::npos),
                  ("malformed prompts name line 2: " + r.err));
    CHECK_MESSAGE((server.requests.load() == 5), ("malformed prompts ask nothing"));

    // Missing prompts file: exit 1.
    r = run("query --teacher " + server.url() + " --model teacher-1 --prompts '" +
            (dir / "missing.jsonl").string() + "' --store '" + store.string() + "'");
    CHECK_MESSAGE((r.code == 1), ("missing prompts file exits 1"));

    // Bad usage: exit 2.
    r = run(query + " --no-such-flag");
    CHECK_MESSAGE((r.code == 2 && r.err.find("no-such-flag") != std::string::npos),
                  ("unknown flag exits 2 and names it"));
    CHECK_MESSAGE((run("no-such-verb").code == 2), ("unknown verb exits 2"));
    CHECK_MESSAGE(
        (run("query --teacher x --model m --prompts p --store s --dialect nope").code == 2),
        ("bad --dialect exits 2"));

    // The server answers "teacher-1" whatever is asked: asking for another
    // model is warned about after the summary, and counted by store stats.
    {
        const auto fallback_store = dir / "fallback.db";
        r = run("query --teacher " + server.url() + " --model no-such-model --prompts '" +
                prompts.string() + "' --store '" + fallback_store.string() + "'");
        CHECK_MESSAGE(
            (r.code == 0 &&
             r.err.find("warning: 5 answers in the store name another model") != std::string::npos),
            ("an answer from another model is warned about: " + r.err));
        r = run("store stats --store '" + fallback_store.string() + "' --json");
        CHECK_MESSAGE((r.code == 0 && r.out.find("\"other_model\":5") != std::string::npos),
                      ("store stats counts the answers of another model: " + r.out));
        r = run(query);
        CHECK_MESSAGE((r.code == 0 && r.err.find("another model") == std::string::npos),
                      ("no warning when the model asked for answered: " + r.err));
    }
}

TEST_CASE("--help and --version exit 0") {
    for (const char * verb : {"", "query ", "store ", "store stats ", "store export "}) {
        const Result r = run(std::string(verb) + "--help");
        CHECK_MESSAGE((r.code == 0 && r.out.find("Usage") != std::string::npos),
                      (std::string("'") + verb + "--help' exits 0 with usage"));
    }
    const Result r = run("--version");
    CHECK_MESSAGE((r.code == 0 && r.out.find(distill_version()) != std::string::npos),
                  ("--version prints the library version: " + r.out));
}

// Ctrl-C: the current request finishes and is stored, the summary is
// printed, exit 130; the rerun asks only the rest (no request twice).
TEST_CASE("Ctrl-C stores what was answered and the rerun asks the rest") {
    const auto dir = cli_test::scratch("ctrl-c");
    http_test::server slow;
    slow.http.Post("/v1/completions", [](const httplib::Request &, httplib::Response & res) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        res.set_content(R"({"id": "s", "choices": [{"text": "ok"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1}})",
                        "application/json");
    });
    slow.start();
    const auto many = dir / "many.jsonl";
    std::string text;
    for (int i = 0; i < 20; ++i) text += "{\"prompt\": \"p" + std::to_string(i) + "\"}\n";
    write(many, text);
    const auto slow_store = dir / "slow.db";
    const std::string url = slow.url(), prompts_path = many.string(),
                      store_path = slow_store.string(), out = (dir / "int.out").string();
    const pid_t child = cli_test::start({"query", "--teacher", url, "--model", "m", "--prompts",
                                         prompts_path, "--store", store_path, "--json"},
                                        out, (dir / "int.err").string());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (slow.requests.load() < 3 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ::kill(child, SIGINT);
    const int code = cli_test::wait_exit(child);
    const int asked_before = slow.requests.load();
    CHECK_MESSAGE((code == 130), ("Ctrl-C exits 130, got " + std::to_string(code)));
    CHECK_MESSAGE((asked_before < 20),
                  ("Ctrl-C stops early (" + std::to_string(asked_before) + " asked)"));
    try {
        const auto j = nlohmann::json::parse(slurp(out));
        CHECK_MESSAGE((j.at("interrupted") == true && j.at("asked") == asked_before),
                      ("Ctrl-C prints the summary: " + j.dump()));
    } catch (const std::exception & e) {
        FAIL_CHECK((std::string("Ctrl-C summary is JSON: ") + e.what()));
    }
    const Result r = run("query --teacher " + url + " --model m --prompts '" + prompts_path +
                         "' --store '" + store_path + "' --json");
    CHECK_MESSAGE((r.code == 0), ("rerun after Ctrl-C exits 0"));
    CHECK_MESSAGE((slow.requests.load() == 20), ("rerun after Ctrl-C asks only the rest: " +
                                                 std::to_string(slow.requests.load())));
}

TEST_SUITE_END();
