// `distill query` killed with SIGKILL at random moments, restarted until
// it finishes: every prompt ends up in the store exactly once, none is
// missing, and the API key appears in no output and no store byte. Also
// the job flags (--concurrency, prices, limits, key file).
#include "cli_runner.h"
#include "http_test_server.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

using cli_test::slurp;

namespace {

const std::string api_key = "sk-distill-test-Zq8vK3pX9mW2";
const int prompt_count = 200;

// A server that wants the key and its prompts file, and the command line
// of a priced query against it.
struct keyed_teacher {
    // Before the server: destroyed after it stops, so no handler sees them gone.
    std::mutex mutex;
    std::map<std::string, int> asked;  // prompt -> times asked
    http_test::server server;
    std::filesystem::path dir, prompts;

    explicit keyed_teacher(const std::string & name) : dir(cli_test::scratch(name)) {
        // The server wants the key, answers "answer to <prompt>" after 10-50 ms,
        // and echoes the Authorization header in its 401 (as some servers do).
        server.set_threads(64);
        server.http.Post(
            "/v1/chat/completions", [this](const httplib::Request & q, httplib::Response & r) {
                const std::string auth = q.get_header_value("Authorization");
                if (auth != "Bearer " + api_key) {
                    r.status = 401;
                    r.set_content(
                        R"({"error": {"message": "bad key: )" + auth +
                            R"(", "type": "invalid_request_error", "code": "invalid_api_key"}})",
                        "application/json");
                    return;
                }
                const auto body = nlohmann::json::parse(q.body);
                const std::string prompt = body["messages"][0]["content"];
                thread_local std::mt19937 rng{std::random_device{}()};
                std::this_thread::sleep_for(std::chrono::milliseconds(10 + rng() % 41));
                {
                    std::lock_guard<std::mutex> lock(mutex);
                    ++asked[prompt];
                }
                const nlohmann::json answer = {
                    {"choices", {{{"message", {{"content", "answer to " + prompt}}}}}},
                    {"usage", {{"prompt_tokens", 7}, {"completion_tokens", 3}}}};
                r.set_content(answer.dump(), "application/json");
            });
        server.start();
        prompts = dir / "prompts.jsonl";
        std::ofstream file(prompts);
        for (int i = 0; i < prompt_count; ++i)
            file << R"({"id": "q)" << i << R"(", "messages": [{"role": "user", "content": "p)" << i
                 << "\"}]}\n";
        ::setenv("DISTILL_TEST_KEY", api_key.c_str(), 1);
    }

    std::vector<std::string> query(const std::string & store_path, const std::string & key_flag,
                                   const std::string & key_value) const {
        return {"query",
                "--teacher",
                server.url(),
                "--model",
                "teacher-1",
                "--prompts",
                prompts.string(),
                "--store",
                store_path,
                "--concurrency",
                "16",
                key_flag,
                key_value,
                "--price-prompt",
                "1",
                "--price-completion",
                "2",
                "--json"};
    }
};

}  // namespace

TEST_SUITE_BEGIN("cli resume");

TEST_CASE("killed at random moments, every prompt is stored once and the key nowhere") {
    keyed_teacher teacher("kill-and-resume");
    const auto & dir = teacher.dir;
    const auto store = dir / "run.db";
    const std::string out = (dir / "out.txt").string(), err = (dir / "err.txt").string();
    const std::vector<std::string> query =
        teacher.query(store.string(), "--api-key-env", "DISTILL_TEST_KEY");

    // Kill rounds: SIGKILL after a random 20-250 ms, unless it finished.
    const unsigned seed = std::random_device{}();
    std::cerr << "kill-and-resume seed " << seed << "\n";
    std::mt19937 rng(seed);
    int killed = 0, rounds = 0;
    for (; rounds < 8; ++rounds) {
        const pid_t child = cli_test::start(query, out, err);
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 231));
        ::kill(child, SIGKILL);
        if (cli_test::wait_exit(child) == -SIGKILL) ++killed;
    }
    std::cerr << killed << " of " << rounds << " runs killed mid-job\n";
    // The first run needs > 375 ms (200 prompts × 10-50 ms / 16), so it at
    // least is always killed mid-job; usually most are.
    CHECK_MESSAGE((killed >= 1), ("runs were killed mid-job: " + std::to_string(killed)));
    // Then to the end, as often as it takes (each run makes progress).
    int code = -1;
    for (int attempt = 0; attempt < 5 && code != 0; ++attempt)
        code = cli_test::wait_exit(cli_test::start(query, out, err));
    CHECK_MESSAGE((code == 0), ("the last run exits 0, got " + std::to_string(code)));

    // Every prompt stored exactly once, each with its own answer.
    const auto exported = dir / "export.jsonl";
    CHECK_MESSAGE((cli_test::wait_exit(cli_test::start(
                       {"store", "export", "--store", store.string(), "--out", exported.string()},
                       out, err)) == 0),
                  ("store export exits 0"));
    std::map<std::string, int> stored;
    int failures = 0;
    {
        std::ifstream in(exported);
        std::string line;
        while (std::getline(in, line)) {
            const auto record = nlohmann::json::parse(line, nullptr, false);
            if (record.is_discarded()) continue;
            const std::string prompt =
                record["provenance"]["request"]["messages"][0]["content"].get<std::string>();
            ++stored[prompt];
            if (record.value("text", "") != "answer to " + prompt) ++failures;
        }
    }
    int missing = 0, duplicated = 0;
    for (int i = 0; i < prompt_count; ++i) {
        const auto it = stored.find("p" + std::to_string(i));
        if (it == stored.end())
            ++missing;
        else if (it->second != 1)
            ++duplicated;
    }
    CHECK_MESSAGE(
        (int(stored.size()) == prompt_count && missing == 0 && duplicated == 0 && failures == 0),
        ("all " + std::to_string(prompt_count) + " prompts stored once: " +
         std::to_string(stored.size()) + " stored, " + std::to_string(missing) + " missing, " +
         std::to_string(duplicated) + " duplicated, " + std::to_string(failures) + " wrong"));
    int asked_total = 0;
    for (const auto & [prompt, times] : teacher.asked) asked_total += times;
    std::cerr << asked_total << " requests answered by the server for " << prompt_count
              << " prompts\n";
    // A killed run loses at most what it had in flight (16) and asks nothing stored.
    CHECK_MESSAGE((asked_total <= prompt_count + 16 * rounds),
                  ("resumed runs ask only what is missing: " + std::to_string(asked_total)));

    // A rerun asks nothing.
    std::filesystem::remove(out);
    code = cli_test::wait_exit(cli_test::start(query, out, err));
    try {
        const auto summary = nlohmann::json::parse(slurp(out));
        CHECK_MESSAGE(
            (code == 0 && summary.at("asked") == 0 && summary.at("cached") == prompt_count),
            ("a rerun answers everything from the store: " + summary.dump()));
    } catch (const std::exception & e) {
        FAIL_CHECK((std::string("rerun summary is JSON: ") + e.what()));
    }

    // The key: in no output, no store byte, no export.
    for (const std::filesystem::path & file :
         {std::filesystem::path(out), std::filesystem::path(err), store,
          std::filesystem::path(store.string() + "-wal"), exported}) {
        CHECK_MESSAGE((slurp(file).find(api_key) == std::string::npos),
                      ("the API key is not in " + file.filename().string()));
    }
}

// A wrong key: the job stops at the first 401 with a clear message, and
// the key the server echoed back is redacted.
TEST_CASE("a rejected key stops the job, redacted everywhere") {
    keyed_teacher teacher("wrong-key");
    const auto & dir = teacher.dir;
    const std::string out = (dir / "out.txt").string();
    const auto key_file = dir / "key.txt";
    std::ofstream(key_file) << "sk-distill-WRONG-key-Yh4\n";
    const auto wrong_store = dir / "wrong.db";
    const std::vector<std::string> wrong =
        teacher.query(wrong_store.string(), "--api-key-file", key_file.string());
    const std::string wrong_err = (dir / "wrong_err.txt").string();
    const int code = cli_test::wait_exit(cli_test::start(wrong, out, wrong_err));
    const std::string wrong_text = slurp(wrong_err);
    CHECK_MESSAGE((code == 1), ("a rejected key exits 1, got " + std::to_string(code)));
    CHECK_MESSAGE((wrong_text.find("invalid_api_key") != std::string::npos &&
                   wrong_text.find("stop_on_fatal_error") != std::string::npos),
                  ("a rejected key stops the job and says why: " + wrong_text));
    CHECK_MESSAGE((wrong_text.find("sk-distill-WRONG-key-Yh4") == std::string::npos &&
                   wrong_text.find("[redacted]") != std::string::npos),
                  ("the echoed key is redacted"));
    CHECK_MESSAGE(
        (slurp(wrong_store).find("sk-distill-WRONG") == std::string::npos &&
         slurp(wrong_store.string() + "-wal").find("sk-distill-WRONG") == std::string::npos),
        ("the wrong key is not in its store"));
}

// Progress and cost: the summary and the progress line carry them.
TEST_CASE("the summary and the progress line count tokens and cost") {
    keyed_teacher teacher("cost");
    const auto & dir = teacher.dir;
    const std::string cost_out = (dir / "cost.txt").string(),
                      cost_err = (dir / "cost_err.txt").string();
    std::vector<std::string> priced =
        teacher.query((dir / "priced.db").string(), "--api-key-env", "DISTILL_TEST_KEY");
    priced.insert(priced.end(),
                  {"--rpm", "60000", "--tpm", "10000000", "--timeout", "30", "--connect-timeout",
                   "5", "--max-retries", "1", "--progress-every", "50"});
    const int code = cli_test::wait_exit(cli_test::start(priced, cost_out, cost_err));
    try {
        const auto summary = nlohmann::json::parse(slurp(cost_out));
        // 200 × (7 × $1 + 3 × $2) per million.
        const double cost = summary.at("cost_usd");
        CHECK_MESSAGE(
            (code == 0 && std::abs(cost - 200 * 13.0 / 1e6) < 1e-9 &&
             summary.at("prompt_tokens") == 1400 && summary.at("completion_tokens") == 600),
            ("the summary counts tokens and cost: " + summary.dump()));
    } catch (const std::exception & e) {
        FAIL_CHECK((std::string("priced summary is JSON: ") + e.what()));
    }
    const std::string progress = slurp(cost_err);
    CHECK_MESSAGE(
        (progress.find("200/200 done") != std::string::npos &&
         progress.find("req/s") != std::string::npos && progress.find("ETA") != std::string::npos &&
         progress.find("$0.0026") != std::string::npos),
        ("the progress line shows done/total, rate, ETA and cost: " + progress));
}

TEST_SUITE_END();
