// distill query --teacher URL --model M --prompts prompts.jsonl --store run.db
// A collection job (distill_collect) over an HTTP teacher: up to
// --concurrency requests in flight, within --rpm/--tpm, every answer stored
// as it arrives, so a rerun after Ctrl-C, a crash or kill -9 asks only what
// is missing. Progress on stderr, the summary on stdout.
#include "commands.h"
#include "prompts.h"

#include <distill/distill.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace distill_cli {
namespace {

std::atomic<bool> interrupted{false};
// First Ctrl-C: start nothing new, let what is in flight finish and be
// stored. Second: quit now (safe too: every store write is one transaction).
extern "C" void on_sigint(int) {
    if (interrupted.exchange(true)) {
        std::signal(SIGINT, SIG_DFL);
        std::raise(SIGINT);
        return;
    }
    static const char notice[] =
        "\ndistill query: stopping after the requests in flight (Ctrl-C again to quit now)\n";
    [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, notice, sizeof notice - 1);
}

struct QueryOptions {
    std::string teacher, model, prompts, store, dialect = "auto", api_key_env, api_key_file;
    int top_logprobs = -1;
    int max_tokens = -1;
    double temperature = -1.0;
    int concurrency = 8;
    double rpm = 0, tpm = 0;
    double price_prompt = 0, price_cached = 0, price_completion = 0;
    double timeout_seconds = 600, connect_timeout_seconds = 10;
    int max_retries = 2;
    int progress_every = 10;
    bool json = false;
    bool keep_going = false;
};

// Draws the progress line on stderr from the job's progress callback:
// redrawn in place on a terminal, a line every `every` answers otherwise.
struct Progress {
    bool tty = false;
    int64_t every = 10;
    int64_t printed_at = 0;  // done count of the last line (non-terminal)
    double price = 0;        // any price given: show the cost
    distill_collect_summary last{};

    static int64_t done(const distill_collect_summary & s) {
        return s.answered_from_store + s.asked;
    }
    void draw(const distill_collect_summary & s) {
        const double rate = s.elapsed_seconds > 0 ? double(s.asked) / s.elapsed_seconds : 0.0;
        const int64_t left = s.requests - done(s);
        char eta[32] = "?";
        if (left == 0)
            std::snprintf(eta, sizeof eta, "0s");
        else if (rate > 0)
            std::snprintf(eta, sizeof eta, "%.0fs", double(left) / rate);
        char cost[48] = "";
        if (price > 0) std::snprintf(cost, sizeof cost, ", $%.4f", s.cost_usd);
        std::fprintf(stderr,
                     "%s%lld/%lld done (%lld from store), %.1f req/s, ETA %s, %lld tokens%s, "
                     "%lld failed%s",
                     tty ? "\r\033[K" : "", (long long)done(s), (long long)s.requests,
                     (long long)s.answered_from_store, rate, eta,
                     (long long)(s.prompt_tokens + s.completion_tokens), cost, (long long)s.failed,
                     tty ? "" : "\n");
        std::fflush(stderr);
    }
    distill_status update(const distill_collect_summary & s) {
        last = s;
        const int64_t d = done(s);
        // A line each time the count passes a multiple of `every` (answers
        // are counted as their group is stored, so a line may cover more).
        if (tty || d == s.requests || d / every > printed_at / every) {
            if (tty || d != printed_at) draw(s);
            printed_at = d;
        }
        return interrupted.load() ? DISTILL_STATUS_CANCELLED : DISTILL_STATUS_OK;
    }
    static distill_status callback(void * self, const distill_collect_summary * s) {
        return static_cast<Progress *>(self)->update(*s);
    }
};

// `priced`: prices were given, so the cost means something (else it is left out).
void print_summary(const distill_collect_summary & s, bool stopped, bool json, bool priced) {
    const double rate = s.elapsed_seconds > 0 ? double(s.asked) / s.elapsed_seconds : 0.0;
    const int64_t done = Progress::done(s);
    if (json) {
        const nlohmann::json j = {{"total", s.requests},
                                  {"done", done},
                                  {"asked", s.asked},
                                  {"from_store", s.answered_from_store},
                                  {"cached", s.answered_from_store},  // the old name of from_store
                                  {"succeeded", s.succeeded},
                                  {"failed", s.failed},
                                  {"prompt_tokens", s.prompt_tokens},
                                  {"cached_tokens", s.cached_tokens},
                                  {"completion_tokens", s.completion_tokens},
                                  {"cost_usd", s.cost_usd},
                                  {"elapsed_seconds", s.elapsed_seconds},
                                  {"requests_per_second", rate},
                                  {"interrupted", stopped}};
        std::printf("%s\n", j.dump().c_str());
        return;
    }
    char cost[48] = "";
    if (priced) std::snprintf(cost, sizeof cost, ", $%.4f", s.cost_usd);
    std::printf(
        "%lld/%lld done: %lld asked, %lld from the store, %lld failed; %lld prompt tokens (%lld "
        "served from the server's prompt cache) + %lld completion tokens%s, %.1fs (%.1f "
        "req/s)%s\n",
        (long long)done, (long long)s.requests, (long long)s.asked,
        (long long)s.answered_from_store, (long long)s.failed, (long long)s.prompt_tokens,
        (long long)s.cached_tokens, (long long)s.completion_tokens, cost, s.elapsed_seconds, rate,
        stopped ? " (interrupted; rerun to resume)" : "");
}

// Names the stored failures of this run (a few; the store keeps them all).
void report_failures(distill::Teacher & teacher, distill::Store & store,
                     const std::vector<prompt_request> & requests, const std::string & prompts) {
    int shown = 0;
    for (const auto & [line, request] : requests) {
        std::optional<distill::TeacherRecord> r = store.get(teacher.request_key(request));
        if (!r || !r->failed()) continue;
        if (++shown > 10) {
            std::fprintf(stderr, "distill query: more failures; see `distill store export`\n");
            return;
        }
        std::fprintf(stderr, "distill query: %s:%ld failed: %s\n", prompts.c_str(), line,
                     r->string(DISTILL_RECORD_ERROR_MESSAGE).c_str());
    }
}

// Says once when the server took fewer top_logprobs than asked: the probe
// clamps every chat request asking more alike, so the first such request's
// stored record tells (its parameters_json records what was sent).
void report_clamp(distill::Teacher & teacher, distill::Store & store,
                  const std::vector<prompt_request> & requests) {
    for (const prompt_request & r : requests) {
        const nlohmann::json request = nlohmann::json::parse(r.json);
        const auto top = request.find("top_logprobs");
        if (!request.contains("messages") || top == request.end() || !top->is_number_integer() ||
            top->get<int64_t>() <= 5)
            continue;
        const std::optional<distill::TeacherRecord> stored = store.get(teacher.request_key(r.json));
        if (!stored) return;
        const nlohmann::json parameters =
            nlohmann::json::parse(stored->string(DISTILL_RECORD_PARAMETERS_JSON), nullptr, false);
        if (!parameters.is_object() || !parameters.contains("top_logprobs_clamped")) return;
        const nlohmann::json & clamp = parameters["top_logprobs_clamped"];
        std::fprintf(stderr,
                     "distill query: the server takes at most %s top_logprobs on chat: requests "
                     "asking %s were sent %s (each answer's parameters record "
                     "\"top_logprobs_clamped\")\n",
                     clamp.value("sent", nlohmann::json()).dump().c_str(),
                     clamp.value("asked", nlohmann::json()).dump().c_str(),
                     clamp.value("sent", nlohmann::json()).dump().c_str());
        return;
    }
}

int32_t milliseconds(double seconds) { return int32_t(std::lround(seconds * 1000.0)); }

int run_query(const QueryOptions & o) {
    static const std::map<std::string, distill_http_dialect> dialects = {
        {"auto", DISTILL_HTTP_DIALECT_AUTO},          {"openai", DISTILL_HTTP_DIALECT_OPENAI},
        {"vllm", DISTILL_HTTP_DIALECT_VLLM},          {"llama.cpp", DISTILL_HTTP_DIALECT_LLAMA_CPP},
        {"llamacpp", DISTILL_HTTP_DIALECT_LLAMA_CPP}, {"llama_cpp", DISTILL_HTTP_DIALECT_LLAMA_CPP},
        {"ollama", DISTILL_HTTP_DIALECT_OLLAMA}};
    std::vector<prompt_request> requests;
    try {
        requests = read_prompt_requests(o.prompts, {o.top_logprobs, o.max_tokens, o.temperature});
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
    options.api_key_file = o.api_key_file.empty() ? nullptr : o.api_key_file.c_str();
    options.timeout_ms = milliseconds(o.timeout_seconds);
    options.connect_timeout_ms = milliseconds(o.connect_timeout_seconds);
    options.max_retries = o.max_retries;
    distill::Teacher teacher = distill::Teacher::http(options);
    distill::Store store(o.store);

    Progress progress;
    progress.tty = ::isatty(STDERR_FILENO) != 0;
    progress.every = o.progress_every;
    progress.price = o.price_prompt + o.price_cached + o.price_completion;
    distill::CollectOptions job;
    job.get().concurrency = o.concurrency;
    job.get().requests_per_minute = o.rpm;
    job.get().tokens_per_minute = o.tpm;
    job.get().price_prompt = o.price_prompt;
    job.get().price_cached = o.price_cached;
    job.get().price_completion = o.price_completion;
    job.get().stop_on_fatal_error = o.keep_going ? 0 : 1;
    job.get().progress = Progress::callback;
    job.get().progress_user_data = &progress;
    std::vector<std::string> bodies;
    bodies.reserve(requests.size());
    for (const prompt_request & r : requests) bodies.push_back(r.json);

    // SIGINT: the progress callback tells the job to stop (no SA_RESTART
    // needed: libcurl's poll returns within 100 ms anyway).
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    struct sigaction previous {};
    sigaction(SIGINT, &action, &previous);
    std::string failure;
    bool stopped = false;
    distill_collect_summary summary{};
    try {
        summary = distill::collect(teacher, store, bodies, job);
    } catch (const distill::Exception & e) {
        summary = progress.last;  // the job's last report: everything it stored
        if (e.status() == DISTILL_STATUS_CANCELLED && interrupted.load())
            stopped = true;
        else
            failure = e.what();
    }
    sigaction(SIGINT, &previous, nullptr);
    if (progress.tty) std::fputc('\n', stderr);

    report_clamp(teacher, store, requests);
    if (summary.failed > 0 || !failure.empty())
        report_failures(teacher, store, requests, o.prompts);
    if (!failure.empty()) std::fprintf(stderr, "distill query: error: %s\n", failure.c_str());
    if (!failure.empty() && o.api_key_env.empty() && o.api_key_file.empty() &&
        failure.find("no API key was sent") != std::string::npos)
        std::fprintf(stderr,
                     "distill query: no API key was sent: distill query sends one only with "
                     "--api-key-env NAME (the variable holding it) or --api-key-file PATH\n");
    else if (!failure.empty() && !o.keep_going &&
             failure.find("stop_on_fatal_error") != std::string::npos)
        std::fprintf(stderr,
                     "distill query: every request would meet this failure, so the job stopped; "
                     "--keep-going asks the rest anyway\n");
    print_summary(summary, stopped, o.json, progress.price > 0);
    warn_about_other_models(store, o.model);
    if (stopped) return exit_interrupted;
    return summary.failed > 0 || !failure.empty() ? exit_failure : exit_ok;
}

}  // namespace

void add_query(CLI::App & app, int & exit_code) {
    auto o = std::make_shared<QueryOptions>();
    CLI::App * cmd = app.add_subcommand(
        "query",
        "Ask an HTTP teacher every prompt of a JSONL file and store the answers. Each line is "
        "{\"messages\": [...]} or {\"prompt\": \"...\"}, with an optional local \"id\" and any "
        "request field (max_tokens, temperature, top_p, seed, stop, logprobs, top_logprobs, n, "
        "echo, a server's own extensions...): every field is sent as written and is part of the "
        "request's key; --max-tokens, --temperature and --top-logprobs are defaults a line's own "
        "fields override. Answers are "
        "keyed by the request and stored as they arrive, so a rerun (after Ctrl-C, a crash or "
        "kill -9) asks only what is missing. Progress on stderr; summary on stdout (--json: "
        "\"from_store\" = answered "
        "from the store, also named \"cached\"; \"cached_tokens\" = prompt tokens the server "
        "served "
        "from its own cache). Exit 0 ok, 1 failure, 2 bad usage, 130 interrupted.");
    cmd->add_option("--teacher", o->teacher, "Base URL, e.g. http://host:8000/v1")->required();
    cmd->add_option("--model", o->model, "Model name sent with every request")->required();
    cmd->add_option("--prompts", o->prompts, "Prompts, one JSON object per line")->required();
    cmd->add_option("--store", o->store, "The store file (created when missing)")->required();
    cmd->add_option("--top-logprobs", o->top_logprobs, "Ask for this many top log-probabilities")
        ->check(CLI::Range(0, 1000));
    cmd->add_option("--dialect", o->dialect,
                    "Server dialect: auto, openai, vllm, llama.cpp (or llamacpp, llama_cpp), "
                    "ollama")
        ->check(CLI::IsMember(
            {"auto", "openai", "vllm", "llama.cpp", "llamacpp", "llama_cpp", "ollama"}))
        ->capture_default_str();
    auto * key_env = cmd->add_option("--api-key-env", o->api_key_env,
                                     "Environment variable holding the API key");
    cmd->add_option("--api-key-file", o->api_key_file, "File holding the API key")
        ->excludes(key_env);
    cmd->add_option("--max-tokens", o->max_tokens,
                    "max_tokens of every request whose line sets none")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--temperature", o->temperature,
                    "temperature of every request whose line sets none")
        ->check(CLI::Range(0.0, 100.0));
    cmd->add_option("--concurrency", o->concurrency, "Requests in flight at once")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    cmd->add_option("--rpm", o->rpm, "Requests per minute at most (0 = no limit of our own)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--tpm", o->tpm, "Tokens per minute at most (0 = no limit of our own)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--price-prompt", o->price_prompt, "USD per million prompt tokens")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--price-cached", o->price_cached, "USD per million cached prompt tokens")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--price-completion", o->price_completion, "USD per million completion tokens")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--timeout", o->timeout_seconds, "Seconds one attempt may take")
        ->check(CLI::Range(0.001, 86400.0))
        ->capture_default_str();
    cmd->add_option("--connect-timeout", o->connect_timeout_seconds, "Seconds to connect")
        ->check(CLI::Range(0.001, 3600.0))
        ->capture_default_str();
    cmd->add_option("--max-retries", o->max_retries, "Retries after a request's first attempt")
        ->check(CLI::Range(0, 100))
        ->capture_default_str();
    cmd->add_option("--progress-every", o->progress_every,
                    "When stderr is not a terminal, print a progress line each time the "
                    "count of answers passes a multiple of N (answers are counted as they are "
                    "stored, in groups of up to 64 or 100 ms, so one line may pass several)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_flag("--keep-going", o->keep_going,
                  "Ask every prompt even after a failure that every request would meet (a "
                  "refused key: 401/403, no quota, an unknown model: 404/model_not_found), which "
                  "otherwise stops the job. A prompt the server rejects alone (400 such as "
                  "context_length_exceeded, 413, 422) never stops it: it is stored as a failure "
                  "and asked again by the next run");
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
