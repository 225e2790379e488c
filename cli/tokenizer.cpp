// distill tokenizer train|encode: byte-level BPE tokenizers (tokenizer.json)
//   distill tokenizer train --input a.txt b.txt --vocab-size 8000 [--split llama3]
//                           [--special '<|endoftext|>'] --output tokenizer.json
//   distill tokenizer encode --tokenizer tokenizer.json (--text '...' | --input f) [--json]
#include "commands.h"

#include <distill/distill.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace distill_cli {

namespace {

// The bytes of `path` ("-" = stdin); throws naming the path.
std::string read_input(const std::string & path) {
    if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
    std::ifstream file(path, std::ios::binary);
    if (!file) throw std::runtime_error("--input: cannot read '" + path + "'");
    std::ostringstream bytes;
    bytes << file.rdbuf();
    return bytes.str();
}

void add_tokenizer_train(CLI::App & parent, int & exit_code) {
    struct Options {
        std::vector<std::string> inputs;
        int32_t vocab_size = 0;
        std::string split = "gpt2";
        std::vector<std::string> specials;
        int64_t min_frequency = 2;
        std::string output;
    };
    auto options = std::make_shared<Options>();
    CLI::App * cmd = parent.add_subcommand("train", "Train a byte-level BPE and write tokenizer.json");
    cmd->add_option("--input", options->inputs, "Text files of the corpus (each one text)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--vocab-size", options->vocab_size, "Tokens in all, special tokens included")
        ->required();
    cmd->add_option("--split", options->split,
                    "Pre-tokenizer split: gpt2, llama3, or a regex (PCRE2)")
        ->capture_default_str();
    cmd->add_option("--special", options->specials, "A special token (ids 0.. in order); repeatable");
    cmd->add_option("--min-frequency", options->min_frequency,
                    "Stop when the best pair occurs fewer times")
        ->capture_default_str();
    cmd->add_option("--output", options->output, "Where to write tokenizer.json")->required();
    cmd->callback([options, &exit_code] {
        try {
            std::vector<std::string> texts;
            for (const std::string & path : options->inputs) texts.push_back(read_input(path));
            const distill::Tokenizer tokenizer = distill::Tokenizer::train(
                texts, options->vocab_size, options->split, options->specials, options->min_frequency);
            tokenizer.save(options->output);
            std::fprintf(stderr, "distill tokenizer train: %d tokens written to %s\n",
                         tokenizer.vocab_size(), options->output.c_str());
            exit_code = exit_ok;
        } catch (const std::exception & e) {
            std::fprintf(stderr, "distill tokenizer train: %s\n", e.what());
            exit_code = exit_failure;
        }
    });
}

void add_tokenizer_encode(CLI::App & parent, int & exit_code) {
    struct Options {
        std::string tokenizer;
        std::string text;
        std::string input;
        bool json = false;
    };
    auto options = std::make_shared<Options>();
    CLI::App * cmd = parent.add_subcommand("encode", "Print the token ids of a text");
    cmd->add_option("--tokenizer", options->tokenizer, "A tokenizer.json file")->required();
    auto * text = cmd->add_option("--text", options->text, "The text");
    auto * input = cmd->add_option("--input", options->input, "A file of text (- = stdin)");
    text->excludes(input);
    input->excludes(text);
    cmd->add_flag("--json", options->json, "Print {\"ids\": [...], \"count\": n}");
    cmd->callback([options, cmd, &exit_code] {
        try {
            if (cmd->count("--text") == 0 && cmd->count("--input") == 0)
                throw CLI::RequiredError("--text or --input");
            const distill::Tokenizer tokenizer = distill::Tokenizer::load(options->tokenizer);
            const std::string bytes =
                cmd->count("--text") ? options->text : read_input(options->input);
            const std::vector<int32_t> ids = tokenizer.encode(bytes);
            if (options->json) {
                std::printf("%s\n", nlohmann::json({{"ids", ids}, {"count", ids.size()}}).dump().c_str());
            } else {
                std::string line;
                for (size_t i = 0; i < ids.size(); ++i)
                    line += (i ? " " : "") + std::to_string(ids[i]);
                std::printf("%s\n", line.c_str());
            }
            exit_code = exit_ok;
        } catch (const CLI::Error &) {
            throw;
        } catch (const std::exception & e) {
            std::fprintf(stderr, "distill tokenizer encode: %s\n", e.what());
            exit_code = exit_failure;
        }
    });
}

}  // namespace

void add_tokenizer(CLI::App & app, int & exit_code) {
    CLI::App * tokenizer =
        app.add_subcommand("tokenizer", "Byte-level BPE tokenizers (Hugging Face tokenizer.json)");
    tokenizer->require_subcommand(1);
    add_tokenizer_train(*tokenizer, exit_code);
    add_tokenizer_encode(*tokenizer, exit_code);
}

}  // namespace distill_cli
