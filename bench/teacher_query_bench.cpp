// Throughput of `distill query` against a local OpenAI-compatible server
// (cpp-httplib on 127.0.0.1, answering at once with a small chat answer
// with top-5 log-probabilities): requests per second and CPU time per
// request of the distill process, at concurrency 1, 16 and 64, each run
// into a fresh store. One JSON line per run on stdout.
//
//   distill_bench_teacher_query [DISTILL_BINARY] [REQUESTS]
//   distill_bench_teacher_query --serve
//
// --serve only starts the server, prints its base URL on a line of its own
// and serves until stdin closes: teacher_query_openai.py runs `distill
// query` and the official openai SDK against it in the same run.
#include "http_test_server.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

double cpu_seconds(const rusage & u) {
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char ** argv) {
    const bool serve_only = argc > 1 && std::string(argv[1]) == "--serve";
    const std::string binary = argc > 1 && !serve_only ? argv[1] : DISTILL_CLI_PATH;
    const int requests = argc > 2 ? std::atoi(argv[2]) : 2000;
    if (requests <= 0) {
        std::fprintf(stderr, "REQUESTS: expected a positive count, got %s\n", argv[2]);
        return 2;
    }

    http_test::server server;
    server.set_threads(96);
    nlohmann::json top = nlohmann::json::array();
    for (int i = 0; i < 5; ++i)
        top.push_back({{"token", "t" + std::to_string(i)}, {"logprob", -0.5 * i}});
    const std::string answer =
        nlohmann::json{
            {"id", "c"},
            {"model", "teacher-1"},
            {"choices",
             {{{"message", {{"content", "t0"}}},
               {"logprobs",
                {{"content", {{{"token", "t0"}, {"logprob", -0.1}, {"top_logprobs", top}}}}}}}}},
            {"usage", {{"prompt_tokens", 12}, {"completion_tokens", 1}}}}
            .dump();
    server.http.Post("/v1/chat/completions", [&](const httplib::Request &, httplib::Response & r) {
        r.set_content(answer, "application/json");
    });
    server.start();
    if (serve_only) {
        std::printf("%s\n", server.url().c_str());
        std::fflush(stdout);
        while (std::getchar() != EOF) {
        }
        return 0;
    }

    const auto dir = std::filesystem::temp_directory_path() / "distill-bench-teacher-query";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto prompts = dir / "prompts.jsonl";
    {
        std::ofstream out(prompts);
        for (int i = 0; i < requests; ++i)
            out << R"({"messages": [{"role": "user", "content": "question )" << i << "\"}]}\n";
    }

    for (const int concurrency : {1, 16, 64}) {
        const auto store = dir / ("run-" + std::to_string(concurrency) + ".db");
        const std::string concurrency_text = std::to_string(concurrency), url = server.url();
        const auto start = std::chrono::steady_clock::now();
        const pid_t child = ::fork();
        if (child == 0) {
            const int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, 1);
            ::dup2(null, 2);
            ::execl(binary.c_str(), binary.c_str(), "query", "--teacher", url.c_str(), "--model",
                    "teacher-1", "--prompts", prompts.c_str(), "--store", store.c_str(),
                    "--top-logprobs", "5", "--concurrency", concurrency_text.c_str(),
                    static_cast<char *>(nullptr));
            ::_exit(127);
        }
        int status = 0;
        rusage usage{};
        ::wait4(child, &status, 0, &usage);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::fprintf(stderr, "distill query exited with status %d\n", status);
            return 1;
        }
        std::printf("%s\n",
                    nlohmann::json{{"bench", "distill_query"},
                                   {"concurrency", concurrency},
                                   {"requests", requests},
                                   {"seconds", seconds},
                                   {"requests_per_second", requests / seconds},
                                   {"cpu_ms_per_request", 1000 * cpu_seconds(usage) / requests}}
                        .dump()
                        .c_str());
        std::fflush(stdout);
    }
    std::filesystem::remove_all(dir);
    return 0;
}
