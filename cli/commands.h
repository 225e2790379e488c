// The verbs of the `distill` command line: each adds its subcommand to the
// app and returns the exit code it leaves in `exit_code` when it runs.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace distill {
class Store;
}

namespace distill_cli {

// Exit codes (DESIGN.md): 0 success, 1 failure, 2 bad usage, 130 interrupted.
constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;
constexpr int exit_interrupted = 130;

void add_query(CLI::App & app, int & exit_code);
void add_batch(CLI::App & app, int & exit_code);
void add_demo(CLI::App & app, int & exit_code);
void add_train(CLI::App & app, int & exit_code);
void add_eval(CLI::App & app, int & exit_code);
void add_predict(CLI::App & app, int & exit_code);
void add_store_stats(CLI::App & store, int & exit_code);
void add_store_export(CLI::App & store, int & exit_code);
void add_tokenizer(CLI::App & app, int & exit_code);
void add_tokenize(CLI::App & app, int & exit_code);
// distill export --hf / import --hf: Hugging Face model folders.
void add_export(CLI::App & app, int & exit_code);
void add_import(CLI::App & app, int & exit_code);
// After a query: a warning on stderr when answers in `store` name another
// model than the one asked for (DISTILL_RECORD_OTHER_MODEL).
void warn_about_other_models(distill::Store & store, const std::string & model);

}  // namespace distill_cli
