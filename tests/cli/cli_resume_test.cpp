// `distill query` killed with SIGKILL at random moments, restarted until
// it finishes: every prompt ends up in the store exactly once, none is
// missing, and the API key appears in no output and no store byte. Also
// the job flags (--concurrency, prices, limits, key file).
// argv[1] = the distill binary, argv[2] = a scratch directory.
#include "http_test_server.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

int passed = 0, failed = 0;

void expect(bool ok, const std::string & what) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::cerr << "FAILED: " << what << "\n";
    }
}

std::string slurp(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::string api_key = "sk-distill-test-Zq8vK3pX9mW2";
const int prompt_count = 200;

// Starts `distill args...` with stdout/stderr appended to the given files.
pid_t start(const std::string & binary, const std::vector<std::string> & args,
            const std::string & out, const std::string & err) {
    const pid_t child = ::fork();
    if (child == 0) {
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(o, 1);
        ::dup2(e, 2);
        std::vector<char *> argv{const_cast<char *>(binary.c_str())};
        for (const std::string & a : args) argv.push_back(const_cast<char *>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(binary.c_str(), argv.data());
        ::_exit(127);
    }
    return child;
}

int wait_exit(pid_t child) {
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 3) {
        std::cerr << "usage: distill_cli_resume_test DISTILL_BINARY SCRATCH_DIR\n";
        return 2;
    }
    const std::string binary = argv[1];
    const std::filesystem::path dir = argv[2];
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);

    // The server wants the key, answers "answer to <prompt>" after 10-50 ms,
    // and echoes the Authorization header in its 401 (as some servers do).
    http_test::server server;
    server.set_threads(64);
    std::mutex mutex;
    std::map<std::string, int> asked;  // prompt -> times asked
    server.http.Post("/v1/chat/completions", [&](const httplib::Request & q,
                                                 httplib::Response & r) {
        const std::string auth = q.get_header_value("Authorization");
        if (auth != "Bearer " + api_key) {
            r.status = 401;
            r.set_content(R"({"error": {"message": "bad key: )" + auth +
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

    const auto prompts = dir / "prompts.jsonl";
    {
        std::ofstream out(prompts);
        for (int i = 0; i < prompt_count; ++i)
            out << R"({"id": "q)" << i << R"(", "messages": [{"role": "user", "content": "p)" << i
                << "\"}]}\n";
    }
    const auto store = dir / "run.db";
    const std::string out = (dir / "out.txt").string(), err = (dir / "err.txt").string();
    ::setenv("DISTILL_TEST_KEY", api_key.c_str(), 1);
    const auto query_for = [&](const std::string & store_path, const std::string & key_flag,
                               const std::string & key_value) {
        return std::vector<std::string>{"query",
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
    };
    const std::vector<std::string> query =
        query_for(store.string(), "--api-key-env", "DISTILL_TEST_KEY");

    // Kill rounds: SIGKILL after a random 20-250 ms, unless it finished.
    const unsigned seed = std::random_device{}();
    std::cerr << "kill-and-resume seed " << seed << "\n";
    std::mt19937 rng(seed);
    int killed = 0, rounds = 0;
    for (; rounds < 8; ++rounds) {
        const pid_t child = start(binary, query, out, err);
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 231));
        ::kill(child, SIGKILL);
        if (wait_exit(child) == -SIGKILL) ++killed;
    }
    std::cerr << killed << " of " << rounds << " runs killed mid-job\n";
    // The first run needs > 375 ms (200 prompts × 10-50 ms / 16), so it at
    // least is always killed mid-job; usually most are.
    expect(killed >= 1, "runs were killed mid-job: " + std::to_string(killed));
    // Then to the end, as often as it takes (each run makes progress).
    int code = -1;
    for (int attempt = 0; attempt < 5 && code != 0; ++attempt)
        code = wait_exit(start(binary, query, out, err));
    expect(code == 0, "the last run exits 0, got " + std::to_string(code));

    // Every prompt stored exactly once, each with its own answer.
    const auto exported = dir / "export.jsonl";
    expect(wait_exit(start(
               binary, {"store", "export", "--store", store.string(), "--out", exported.string()},
               out, err)) == 0,
           "store export exits 0");
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
    expect(int(stored.size()) == prompt_count && missing == 0 && duplicated == 0 && failures == 0,
           "all " + std::to_string(prompt_count) +
               " prompts stored once: " + std::to_string(stored.size()) + " stored, " +
               std::to_string(missing) + " missing, " + std::to_string(duplicated) +
               " duplicated, " + std::to_string(failures) + " wrong");
    int asked_total = 0;
    for (const auto & [prompt, times] : asked) asked_total += times;
    std::cerr << asked_total << " requests answered by the server for " << prompt_count
              << " prompts\n";
    // A killed run loses at most what it had in flight (16) and asks nothing stored.
    expect(asked_total <= prompt_count + 16 * rounds,
           "resumed runs ask only what is missing: " + std::to_string(asked_total));

    // A rerun asks nothing.
    std::filesystem::remove(out);
    code = wait_exit(start(binary, query, out, err));
    try {
        const auto summary = nlohmann::json::parse(slurp(out));
        expect(code == 0 && summary.at("asked") == 0 && summary.at("cached") == prompt_count,
               "a rerun answers everything from the store: " + summary.dump());
    } catch (const std::exception & e) {
        expect(false, std::string("rerun summary is JSON: ") + e.what());
    }

    // A wrong key: the job stops at the first 401 with a clear message, and
    // the key the server echoed back is redacted.
    const auto key_file = dir / "key.txt";
    std::ofstream(key_file) << "sk-distill-WRONG-key-Yh4\n";
    const auto wrong_store = dir / "wrong.db";
    const std::vector<std::string> wrong =
        query_for(wrong_store.string(), "--api-key-file", key_file.string());
    const std::string wrong_err = (dir / "wrong_err.txt").string();
    code = wait_exit(start(binary, wrong, out, wrong_err));
    const std::string wrong_text = slurp(wrong_err);
    expect(code == 1, "a rejected key exits 1, got " + std::to_string(code));
    expect(wrong_text.find("invalid_api_key") != std::string::npos &&
               wrong_text.find("stop_on_fatal_error") != std::string::npos,
           "a rejected key stops the job and says why: " + wrong_text);
    expect(wrong_text.find("sk-distill-WRONG-key-Yh4") == std::string::npos &&
               wrong_text.find("[redacted]") != std::string::npos,
           "the echoed key is redacted");
    expect(slurp(wrong_store).find("sk-distill-WRONG") == std::string::npos &&
               slurp(wrong_store.string() + "-wal").find("sk-distill-WRONG") == std::string::npos,
           "the wrong key is not in its store");

    // The key: in no output, no store byte, no export.
    for (const std::filesystem::path & file :
         {std::filesystem::path(out), std::filesystem::path(err), store,
          std::filesystem::path(store.string() + "-wal"), exported}) {
        expect(slurp(file).find(api_key) == std::string::npos,
               "the API key is not in " + file.filename().string());
    }

    // Progress and cost: the summary and the progress line carry them.
    const std::string cost_out = (dir / "cost.txt").string(),
                      cost_err = (dir / "cost_err.txt").string();
    std::vector<std::string> priced =
        query_for((dir / "priced.db").string(), "--api-key-env", "DISTILL_TEST_KEY");
    priced.insert(priced.end(),
                  {"--rpm", "60000", "--tpm", "10000000", "--timeout", "30", "--connect-timeout",
                   "5", "--max-retries", "1", "--progress-every", "50"});
    code = wait_exit(start(binary, priced, cost_out, cost_err));
    try {
        const auto summary = nlohmann::json::parse(slurp(cost_out));
        // 200 × (7 × $1 + 3 × $2) per million.
        const double cost = summary.at("cost_usd");
        expect(code == 0 && std::abs(cost - 200 * 13.0 / 1e6) < 1e-9 &&
                   summary.at("prompt_tokens") == 1400 && summary.at("completion_tokens") == 600,
               "the summary counts tokens and cost: " + summary.dump());
    } catch (const std::exception & e) {
        expect(false, std::string("priced summary is JSON: ") + e.what());
    }
    const std::string progress = slurp(cost_err);
    expect(progress.find("200/200 done") != std::string::npos &&
               progress.find("req/s") != std::string::npos &&
               progress.find("ETA") != std::string::npos &&
               progress.find("$0.0026") != std::string::npos,
           "the progress line shows done/total, rate, ETA and cost: " + progress);

    std::cout << passed << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : 1;
}
