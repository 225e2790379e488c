// distill query --teacher URL --model M --prompts prompts.jsonl --store run.db
// Asks an HTTP teacher every prompt through the store (query_cached): a
// rerun asks nothing already stored, so an interrupted run resumes.
#include "commands.h"

#include <distill/distill.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace distill_cli {
namespace {

std::atomic<bool> interrupted{false};
// First Ctrl-C: stop after the current request. Second: quit now (safe too:
// every store write is one transaction).
extern "C" void on_sigint(int) {
    if (interrupted.exchange(true)) {
        std::signal(SIGINT, SIG_DFL);
        std::raise(SIGINT);
        return;
    }
    static const char notice[] =
        "\ndistill query: stopping after the current request (Ctrl-C again to quit now)\n";
    [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, notice, sizeof notice - 1);
}

struct QueryOptions {
    std::string teacher, model, prompts, store, dialect = "auto", api_key_env;
    int top_logprobs = -1;
    int max_tokens = -1;
    double temperature = -1.0;
    int concurrency = 1;
    int progress_every = 10;
    bool json = false;
};

struct Request {
    long line;         // in the prompts file, for messages
    std::string json;  // the request sent (and keyed)
};

// Reads prompts.jsonl into requests; throws with the line number.
std::vector<Request> read_requests(const QueryOptions & o) {
    std::ifstream in(o.prompts);
    if (!in) throw std::runtime_error("cannot open prompts file " + o.prompts);
    std::vector<Request> requests;
    std::string line;
    for (long number = 1; std::getline(in, line); ++number) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = o.prompts + ":" + std::to_string(number) + ": ";
        nlohmann::json item;
        try {
            item = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception & e) {
            throw std::runtime_error(where + "malformed JSON (" + e.what() + ")");
        }
        if (!item.is_object()) throw std::runtime_error(where + "expected a JSON object");
        nlohmann::json request;
        if (item.contains("messages")) {
            if (!item["messages"].is_array())
                throw std::runtime_error(where + "\"messages\" must be an array");
            request["messages"] = item["messages"];
            if (o.top_logprobs >= 0) {
                request["logprobs"] = true;
                request["top_logprobs"] = o.top_logprobs;
            }
        } else if (item.contains("prompt")) {
            if (!item["prompt"].is_string())
                throw std::runtime_error(where + "\"prompt\" must be a string");
            request["prompt"] = item["prompt"];
            if (o.top_logprobs >= 0) request["logprobs"] = o.top_logprobs;
        } else {
            throw std::runtime_error(where + "needs \"messages\" or \"prompt\"");
        }
        if (item.contains("id")) request["id"] = item["id"];
        if (o.max_tokens >= 0) request["max_tokens"] = o.max_tokens;
        if (o.temperature >= 0) request["temperature"] = o.temperature;
        requests.push_back({number, request.dump()});
    }
    return requests;
}

struct Summary {
    long total = 0, asked = 0, cached = 0, failed = 0, done = 0;
    long long prompt_tokens = 0, completion_tokens = 0;
};

void print_progress(const Summary & s, double seconds, bool tty) {
    const double rate = seconds > 0 ? double(s.done) / seconds : 0.0;
    const double eta = rate > 0 ? double(s.total - s.done) / rate : 0.0;
    std::fprintf(stderr, "%s%ld/%ld done, %.1f req/s, ETA %.0fs, %lld tokens, %ld failed%s",
                 tty ? "\r\033[K" : "", s.done, s.total, rate, eta,
                 s.prompt_tokens + s.completion_tokens, s.failed, tty ? "" : "\n");
    std::fflush(stderr);
}

int run_query(const QueryOptions & o) {
    static const std::map<std::string, distill_http_dialect> dialects = {
        {"auto", DISTILL_HTTP_DIALECT_AUTO},
        {"openai", DISTILL_HTTP_DIALECT_OPENAI},
        {"vllm", DISTILL_HTTP_DIALECT_VLLM},
        {"llama_cpp", DISTILL_HTTP_DIALECT_LLAMA_CPP},
        {"ollama", DISTILL_HTTP_DIALECT_OLLAMA}};
    std::vector<Request> requests;
    try {
        requests = read_requests(o);
    } catch (const std::exception & e) {
        std::fprintf(stderr, "distill query: error: %s\n", e.what());
        return exit_failure;
    }

    distill_http_teacher_options options;
    distill::check(distill_http_teacher_options_init(&options));
    options.base_url = o.teacher.c_str();
    options.model = o.model.c_str();
    options.dialect = dialects.at(o.dialect);
    options.api_key_env = o.api_key_env.empty() ? nullptr : o.api_key_env.c_str();
    distill::Teacher teacher = distill::Teacher::http(options);
    distill::Store store(o.store);

    // SIGINT: finish the current request, then stop (no SA_RESTART needed:
    // the flag is read between requests).
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    struct sigaction previous {};
    sigaction(SIGINT, &action, &previous);

    const bool tty = ::isatty(STDERR_FILENO) != 0;
    Summary s;
    s.total = long(requests.size());
    const auto start = std::chrono::steady_clock::now();
    for (const auto & [line, request] : requests) {
        if (interrupted.load()) break;
        const std::string key = teacher.request_key(request);
        std::optional<distill::TeacherRecord> stored = store.get(key);
        const bool cached = stored && !stored->failed();
        distill::TeacherRecord record =
            cached ? std::move(*stored) : teacher.query_cached(store, request);
        if (cached)
            ++s.cached;
        else
            ++s.asked;
        if (record.failed()) {
            ++s.failed;
            std::fprintf(stderr, "%sdistill query: %s:%ld failed: %s\n", tty ? "\r\033[K" : "",
                         o.prompts.c_str(), line,
                         record.string(DISTILL_RECORD_ERROR_MESSAGE).c_str());
        }
        s.prompt_tokens += record.integer(DISTILL_RECORD_PROMPT_TOKENS);
        s.completion_tokens += record.integer(DISTILL_RECORD_COMPLETION_TOKENS);
        ++s.done;
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (tty || s.done % o.progress_every == 0 || s.done == s.total)
            print_progress(s, seconds, tty);
    }
    if (tty && s.done > 0) std::fputc('\n', stderr);
    sigaction(SIGINT, &previous, nullptr);

    const bool stopped = interrupted.load() && s.done < s.total;
    if (o.json) {
        nlohmann::json j = {{"total", s.total},
                            {"done", s.done},
                            {"asked", s.asked},
                            {"cached", s.cached},
                            {"failed", s.failed},
                            {"prompt_tokens", s.prompt_tokens},
                            {"completion_tokens", s.completion_tokens},
                            {"interrupted", stopped}};
        std::printf("%s\n", j.dump().c_str());
    } else {
        std::printf(
            "%ld/%ld done: %ld asked, %ld cached, %ld failed, %lld prompt + %lld "
            "completion tokens%s\n",
            s.done, s.total, s.asked, s.cached, s.failed, s.prompt_tokens, s.completion_tokens,
            stopped ? " (interrupted; rerun to resume)" : "");
    }
    if (stopped) return exit_interrupted;
    return s.failed > 0 ? exit_failure : exit_ok;
}

}  // namespace

void add_query(CLI::App & app, int & exit_code) {
    auto o = std::make_shared<QueryOptions>();
    CLI::App * cmd = app.add_subcommand(
        "query",
        "Ask an HTTP teacher every prompt of a JSONL file and store the answers. Each line is "
        "{\"messages\": [...]} or {\"prompt\": \"...\"}, with an optional \"id\". Answers are "
        "keyed by the request, so a rerun (after Ctrl-C or a crash) asks only what is missing. "
        "Progress on stderr; summary on stdout. Exit 0 ok, 1 failure, 2 bad usage, 130 "
        "interrupted.");
    cmd->add_option("--teacher", o->teacher, "Base URL, e.g. http://host:8000/v1")->required();
    cmd->add_option("--model", o->model, "Model name sent with every request")->required();
    cmd->add_option("--prompts", o->prompts, "Prompts, one JSON object per line")->required();
    cmd->add_option("--store", o->store, "The store file (created when missing)")->required();
    cmd->add_option("--top-logprobs", o->top_logprobs, "Ask for this many top log-probabilities")
        ->check(CLI::Range(0, 1000));
    cmd->add_option("--dialect", o->dialect, "Server dialect")
        ->check(CLI::IsMember({"auto", "openai", "vllm", "llama_cpp", "ollama"}))
        ->capture_default_str();
    cmd->add_option("--api-key-env", o->api_key_env, "Environment variable holding the API key");
    cmd->add_option("--max-tokens", o->max_tokens, "max_tokens of every request")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--temperature", o->temperature, "temperature of every request")
        ->check(CLI::Range(0.0, 100.0));
    cmd->add_option("--concurrency", o->concurrency,
                    "Requests in flight (accepted, NOT YET PARALLEL: requests are sent one at "
                    "a time)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_option("--progress-every", o->progress_every,
                    "When stderr is not a terminal, print progress every N requests")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_flag("--json", o->json, "Print the summary as one JSON object");
    cmd->callback([o, &exit_code] {
        try {
            exit_code = run_query(*o);
        } catch (const std::exception & e) {
            std::fprintf(stderr, "distill query: error: %s\n", e.what());
            exit_code = exit_failure;
        }
    });
}

}  // namespace distill_cli
