// distill batch build  --prompts prompts.jsonl --model M --out batch_input.jsonl
// distill batch ingest --prompts prompts.jsonl --model M --output batch_output.jsonl --store run.db
// OpenAI's Batch API (half price, answers within 24 h): build the input
// file of the prompts not yet stored, upload it and download the output
// yourself, then ingest the output into the store. Requests are spelled and
// keyed exactly as `distill query` spells them for the same teacher URL,
// model and options, so the two routes share one store: query
// skips what a batch stored, and a batch leaves out what query stored.
#include "commands.h"
#include "prompts.h"

#include <distill/distill.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace distill_cli {
namespace {

struct BatchOptions {
    std::string teacher = "https://api.openai.com/v1", model, prompts, dialect = "auto";
    int top_logprobs = -1;
    int max_tokens = -1;
    double temperature = -1.0;
    // build
    std::string out, endpoint, store;
    // ingest
    std::string output;
    bool json = false;
};

// The prompt file's request bodies, exactly as `distill query` builds them
// (cli/prompts.h: the same keys).
std::vector<std::string> read_prompts(const BatchOptions & o) {
    std::vector<std::string> bodies;
    for (prompt_request & r :
         read_prompt_requests(o.prompts, {o.top_logprobs, o.max_tokens, o.temperature}))
        bodies.push_back(std::move(r.json));
    return bodies;
}

// The teacher whose identity keys the requests; nothing is sent to it.
distill::Teacher teacher_of(const BatchOptions & o) {
    static const std::map<std::string, distill_http_dialect> dialects = {
        {"auto", DISTILL_HTTP_DIALECT_AUTO},
        {"openai", DISTILL_HTTP_DIALECT_OPENAI},
        {"vllm", DISTILL_HTTP_DIALECT_VLLM},
        {"llama.cpp", DISTILL_HTTP_DIALECT_LLAMA_CPP},
        {"llamacpp", DISTILL_HTTP_DIALECT_LLAMA_CPP},
        {"llama_cpp", DISTILL_HTTP_DIALECT_LLAMA_CPP}};
    distill_http_teacher_options options;
    distill::check(distill_http_teacher_options_init(&options));
    options.base_url = o.teacher.c_str();
    options.model = o.model.c_str();
    options.dialect = dialects.at(o.dialect);
    return distill::Teacher::http(options);
}

int run_build(const BatchOptions & o) {
    const std::vector<std::string> requests = read_prompts(o);
    distill::Teacher teacher = teacher_of(o);
    // A store that does not exist yet holds nothing to leave out; build
    // only reads it, so it is not created here (query or ingest create it).
    std::optional<distill::Store> store;
    if (!o.store.empty() && std::filesystem::exists(o.store))
        store.emplace(o.store, true);
    else if (!o.store.empty())
        std::fprintf(stderr,
                     "distill batch build: store %s does not exist yet: no prompt is left out\n",
                     o.store.c_str());
    const distill_batch_build_summary s =
        distill::batch_build(teacher, store ? &*store : nullptr, requests, o.out, o.endpoint);
    if (o.json)
        std::printf("%s\n", nlohmann::json{{"requests", s.requests},
                                           {"written", s.written},
                                           {"already_stored", s.already_stored},
                                           {"repeated", s.repeated},
                                           {"out", o.out}}
                                .dump()
                                .c_str());
    else
        std::printf("%lld requests: %lld written to %s, %lld already stored, %lld repeated\n",
                    (long long)s.requests, (long long)s.written, o.out.c_str(),
                    (long long)s.already_stored, (long long)s.repeated);
    return exit_ok;
}

int run_ingest(const BatchOptions & o) {
    const std::vector<std::string> requests = read_prompts(o);
    distill::Teacher teacher = teacher_of(o);
    distill::Store store(o.store);
    int told = 0;
    const distill_batch_ingest_summary s = distill::batch_ingest(
        teacher, store, requests, o.output, [&](int64_t line, const std::string & why) {
            if (++told <= 10)
                std::fprintf(stderr, "distill batch ingest: %s:%lld skipped: %s\n",
                             o.output.c_str(), (long long)line, why.c_str());
            else if (told == 11)
                std::fprintf(stderr, "distill batch ingest: more lines skipped\n");
        });
    if (o.json)
        std::printf("%s\n", nlohmann::json{{"lines", s.lines},
                                           {"succeeded", s.succeeded},
                                           {"failed", s.failed},
                                           {"already_stored", s.already_stored},
                                           {"unknown", s.unknown},
                                           {"malformed", s.malformed}}
                                .dump()
                                .c_str());
    else
        std::printf(
            "%lld lines: %lld stored, %lld failed (stored as failures), %lld failures kept out "
            "(already stored), %lld unknown custom_id, %lld malformed\n",
            (long long)s.lines, (long long)s.succeeded, (long long)s.failed,
            (long long)s.already_stored, (long long)s.unknown, (long long)s.malformed);
    return s.failed + s.unknown + s.malformed > 0 ? exit_failure : exit_ok;
}

// The options both verbs share: the teacher and how prompts become requests.
void add_request_options(CLI::App * cmd, BatchOptions & o) {
    cmd->add_option("--prompts", o.prompts, "Prompts, one JSON object per line")->required();
    cmd->add_option("--model", o.model, "Model name sent with every request")->required();
    cmd->add_option("--teacher-url", o.teacher,
                    "The teacher's base URL (part of every request key, as for distill query)")
        ->capture_default_str();
    cmd->add_option("--dialect", o.dialect,
                    "Server dialect: auto, openai, vllm, llama.cpp (or llamacpp, llama_cpp)")
        ->check(CLI::IsMember({"auto", "openai", "vllm", "llama.cpp", "llamacpp", "llama_cpp"}))
        ->capture_default_str();
    cmd->add_option("--top-logprobs", o.top_logprobs, "Ask for this many top log-probabilities")
        ->check(CLI::Range(0, 20));
    cmd->add_option("--max-tokens", o.max_tokens,
                    "max_tokens of every request whose line sets none")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--temperature", o.temperature,
                    "temperature of every request whose line sets none")
        ->check(CLI::Range(0.0, 100.0));
    cmd->add_flag("--json", o.json, "Print the summary as one JSON object");
}

// Runs a verb, mapping an error to exit 1 with the verb's name.
template <class Run>
void run_verb(const char * name, Run run, int & exit_code) {
    try {
        exit_code = run();
    } catch (const std::exception & e) {
        std::fprintf(stderr, "distill batch %s: error: %s\n", name, e.what());
        exit_code = exit_failure;
    }
}

}  // namespace

void add_batch(CLI::App & app, int & exit_code) {
    CLI::App * batch = app.add_subcommand(
        "batch", "OpenAI Batch API files: build an input file, ingest an output file");
    batch->require_subcommand(1);

    auto built = std::make_shared<BatchOptions>();
    CLI::App * build = batch->add_subcommand(
        "build",
        "Write the batch input file of the prompts not yet stored: one line per request, "
        "{\"custom_id\": <request key>, \"method\": \"POST\", \"url\": ..., \"body\": ...}. "
        "Requests are keyed as distill query keys them with the same options.");
    add_request_options(build, *built);
    build->add_option("--out", built->out, "The batch input file to write")->required();
    build->add_option("--endpoint", built->endpoint,
                      "The url of every line (default: /v1/chat/completions for chat prompts, "
                      "/v1/completions for prompt ones)");
    build->add_option("--store", built->store,
                      "Leave out the prompts this store holds (read only; a store that does not "
                      "exist yet leaves out nothing)");
    build->callback([built, &exit_code] {
        run_verb(
            "build", [&] { return run_build(*built); }, exit_code);
    });

    auto ingested = std::make_shared<BatchOptions>();
    CLI::App * ingest = batch->add_subcommand(
        "ingest",
        "Store the answers of a batch output file, matched to the prompts by custom_id; "
        "failures are stored as failures (a later build or query asks them again). Unknown "
        "and malformed lines are reported and skipped. Exit 1 when any line failed or was "
        "skipped.");
    add_request_options(ingest, *ingested);
    ingest->add_option("--output", ingested->output, "The batch output file to read")
        ->required()
        ->check(CLI::ExistingFile);
    ingest->add_option("--store", ingested->store, "The store file (created when missing)")
        ->required();
    ingest->callback([ingested, &exit_code] {
        run_verb(
            "ingest", [&] { return run_ingest(*ingested); }, exit_code);
    });
}

}  // namespace distill_cli
