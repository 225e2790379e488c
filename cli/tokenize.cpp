// distill tokenize: a corpus into a token dataset file (see distill.h,
// section 13), split into training and validation by document.
//   distill tokenize --tokenizer tok.json --context 256 [--val-fraction 0.01]
//                    [--seed 0] [--eos '<|endoftext|>'] [--layout auto]
//                    --out data.tokens INPUT...
// Progress (files, MB, documents, tokens and their rates) on stderr: redrawn
// in place on a terminal, a line every few seconds otherwise. The summary
// on stdout, one line (or JSON with --json). Ctrl-C stops with nothing
// written (exit 130).
#include "commands.h"
#include "training_progress.h"

#include <distill/distill.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace distill_cli {

namespace {

constexpr double megabyte = 1e6;

int32_t layout_code(const std::string & name) {
    if (name == "auto") return DISTILL_CORPUS_LAYOUT_AUTO;
    if (name == "file") return DISTILL_CORPUS_LAYOUT_FILE;
    if (name == "blank-lines") return DISTILL_CORPUS_LAYOUT_BLANK_LINES;
    return DISTILL_CORPUS_LAYOUT_JSONL;
}

// One progress line: what is done and how fast.
std::string progress_line(const distill_tokenize_progress & p) {
    const double seconds = p.elapsed_seconds > 0 ? p.elapsed_seconds : 1e-9;
    char line[320];
    std::snprintf(line, sizeof line,
                  "distill tokenize: %lld/%lld files, %.1f/%.1f MB, %lld documents, %lld tokens "
                  "(%.0f documents/s, %.0f tokens/s, %.2f MB/s)%s",
                  (long long)p.files_done, (long long)p.files_total, double(p.bytes_done) / megabyte,
                  double(p.bytes_total) / megabyte, (long long)p.documents, (long long)p.tokens,
                  double(p.documents) / seconds, double(p.tokens) / seconds,
                  double(p.bytes_done) / megabyte / seconds, p.writing ? ", writing" : "");
    return line;
}

}  // namespace

void add_tokenize(CLI::App & app, int & exit_code) {
    struct Options {
        std::string tokenizer;
        int32_t context = 0;
        double val_fraction = 0;
        uint64_t seed = 0;
        std::string eos = "<|endoftext|>";
        std::string layout = "auto";
        std::string out;
        std::vector<std::string> inputs;
        bool json = false;
    };
    auto options = std::make_shared<Options>();
    CLI::App * cmd = app.add_subcommand(
        "tokenize", "Encode a corpus into a token dataset file (memory-mapped, split by document)");
    cmd->add_option("--tokenizer", options->tokenizer, "A tokenizer.json file")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--context", options->context,
                    "Tokens a model reads at once: windows are context + 1 tokens")
        ->required()
        ->check(CLI::Range(1, 1 << 30));
    cmd->add_option("--val-fraction", options->val_fraction,
                    "Fraction of the documents held out for validation, in [0, 1)")
        ->capture_default_str();
    cmd->add_option("--seed", options->seed, "Seed of the train/validation split")
        ->capture_default_str();
    cmd->add_option("--eos", options->eos,
                    "End-of-document token: an added token of the tokenizer")
        ->capture_default_str();
    cmd->add_option("--layout", options->layout,
                    "Documents of a file: auto (jsonl for *.jsonl, else file), file (one per "
                    "file), blank-lines (separated by blank lines), jsonl (a \"text\" per line)")
        ->check(CLI::IsMember({"auto", "file", "blank-lines", "jsonl"}))
        ->capture_default_str();
    cmd->add_option("--out", options->out, "Where to write the token dataset")->required();
    cmd->add_option("inputs", options->inputs, "Corpus files")->required();
    cmd->add_flag("--json", options->json, "Print the summary as JSON");
    cmd->callback([options, &exit_code] {
        bool line_open = false;  // a progress line drawn in place, not ended
        try {
            const distill::Tokenizer tokenizer = distill::Tokenizer::load(options->tokenizer);
            distill::TokenizeOptions o;
            o->context = options->context;
            o->validation_fraction = options->val_fraction;
            o->seed = options->seed;
            o->eos_token = options->eos.c_str();
            o->layout = layout_code(options->layout);
            const bool terminal = isatty(STDERR_FILENO) != 0;
            // Called often so that Ctrl-C stops within a fraction of a
            // second; printed every few seconds when stderr is a log.
            o->progress_interval_seconds = 0.25;
            double last_printed = -1e9;
            install_interrupt_handler();
            const auto start = std::chrono::steady_clock::now();
            const distill_tokenize_summary s = distill::tokenize_files(
                tokenizer, options->inputs, options->out, o,
                [&](const distill_tokenize_progress & p) {
                    if (interrupted) return false;
                    if (!terminal && !p.writing && p.elapsed_seconds - last_printed < 5.0)
                        return true;
                    last_printed = p.elapsed_seconds;
                    const std::string line = progress_line(p);
                    if (terminal) {
                        std::fprintf(stderr, "\r%s\033[K", line.c_str());
                        line_open = true;
                    } else {
                        std::fprintf(stderr, "%s\n", line.c_str());
                    }
                    return true;
                });
            if (line_open) std::fprintf(stderr, "\n");
            line_open = false;
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const int64_t tokens = s.train_tokens + s.validation_tokens;
            if (options->json) {
                const nlohmann::json summary = {
                    {"out", options->out},
                    {"context", options->context},
                    {"token_bytes", s.token_bytes},
                    {"train", {{"documents", s.train_documents}, {"tokens", s.train_tokens},
                               {"windows", s.train_windows}}},
                    {"validation", {{"documents", s.validation_documents},
                                    {"tokens", s.validation_tokens},
                                    {"windows", s.validation_windows}}},
                    {"file_bytes", s.file_bytes},
                    {"seconds", seconds}};
                std::printf("%s\n", summary.dump().c_str());
            } else {
                std::printf(
                    "%s: %lld training documents (%lld tokens, %lld windows), %lld validation "
                    "documents (%lld tokens, %lld windows) of context %d, uint%d, %.2f MB in "
                    "%.2f s (%.0f tokens/s)\n",
                    options->out.c_str(), (long long)s.train_documents,
                    (long long)s.train_tokens, (long long)s.train_windows,
                    (long long)s.validation_documents, (long long)s.validation_tokens,
                    (long long)s.validation_windows, options->context, 8 * s.token_bytes,
                    double(s.file_bytes) / megabyte, seconds,
                    seconds > 0 ? double(tokens) / seconds : 0.0);
            }
            exit_code = exit_ok;
        } catch (const distill::Exception & e) {
            if (e.status() == DISTILL_STATUS_CANCELLED && interrupted) {
                std::fprintf(stderr, "%sdistill tokenize: interrupted; nothing was written to %s\n",
                             line_open ? "\n" : "", options->out.c_str());
                exit_code = exit_interrupted;
                return;
            }
            std::fprintf(stderr, "%sdistill tokenize: %s\n", line_open ? "\n" : "", e.what());
            exit_code = exit_failure;
        } catch (const std::exception & e) {
            std::fprintf(stderr, "distill tokenize: %s\n", e.what());
            exit_code = exit_failure;
        }
    });
}

}  // namespace distill_cli
