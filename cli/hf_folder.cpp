// distill export|import --hf: a transformer student's model file as a
// Hugging Face transformers folder, and back (distill_hf_folder_*):
//   distill export --hf DIR MODEL_FILE [--tokenizer tokenizer.json]
//   distill import --hf DIR --out MODEL_FILE [--tokenizer-out tokenizer.json]
#include "commands.h"

#include <distill/distill.hpp>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>

namespace distill_cli {

void add_export(CLI::App & app, int & exit_code) {
    struct Options {
        std::string dir, model, tokenizer;
    };
    auto options = std::make_shared<Options>();
    CLI::App * cmd = app.add_subcommand(
        "export", "Write a transformer model file as a Hugging Face folder (transformers' "
                  "AutoModelForCausalLM / AutoTokenizer load it)");
    cmd->add_option("--hf", options->dir, "The folder to write (replaced whole if it exists)")
        ->required();
    cmd->add_option("model", options->model, "The transformer model file (safetensors)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--tokenizer", options->tokenizer, "A tokenizer.json to put in the folder")
        ->check(CLI::ExistingFile);
    cmd->callback([options, &exit_code] {
        try {
            distill::export_hf_folder(options->model, options->tokenizer, options->dir);
            std::fprintf(stderr, "distill export: wrote %s\n", options->dir.c_str());
            exit_code = exit_ok;
        } catch (const std::exception & e) {
            std::fprintf(stderr, "distill export: %s\n", e.what());
            exit_code = exit_failure;
        }
    });
}

void add_import(CLI::App & app, int & exit_code) {
    struct Options {
        std::string dir, out, tokenizer_out;
    };
    auto options = std::make_shared<Options>();
    CLI::App * cmd = app.add_subcommand(
        "import", "Read a Hugging Face Llama folder (save_pretrained) as a transformer model file");
    cmd->add_option("--hf", options->dir, "The folder: config.json, model.safetensors")
        ->required();
    cmd->add_option("--out", options->out, "Where to write the model file")->required();
    cmd->add_option("--tokenizer-out", options->tokenizer_out,
                    "Where to write the folder's tokenizer.json (fails if it has none; "
                    "without it tokenizer.json is not read)");
    cmd->callback([options, &exit_code] {
        try {
            distill::import_hf_folder(options->dir, options->out, options->tokenizer_out);
            std::fprintf(stderr, "distill import: wrote %s%s%s\n", options->out.c_str(),
                         options->tokenizer_out.empty() ? "" : " and ",
                         options->tokenizer_out.c_str());
            exit_code = exit_ok;
        } catch (const std::exception & e) {
            std::fprintf(stderr, "distill import: %s\n", e.what());
            exit_code = exit_failure;
        }
    });
}

}  // namespace distill_cli
