// distill store export --store run.db --out file.jsonl
#include "commands.h"

#include <distill/distill.hpp>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>

namespace distill_cli {

void add_store_export(CLI::App & store, int & exit_code) {
    struct Options {
        std::string path;
        std::string out;
    };
    auto options = std::make_shared<Options>();
    CLI::App * cmd = store.add_subcommand(
        "export", "Write every record, in insertion order, as JSON Lines (file replaced)");
    cmd->add_option("--store", options->path, "The store file (SQLite)")->required();
    cmd->add_option("--out", options->out, "The JSONL file to write")->required();
    cmd->callback([options, &exit_code] {
        try {
            distill::Store s(options->path, /*read_only=*/true);
            s.export_jsonl(options->out);
            std::fprintf(stderr, "distill store export: wrote %lld records to %s\n",
                         (long long)s.stats().records, options->out.c_str());
            exit_code = exit_ok;
        } catch (const std::exception & e) {
            std::fprintf(stderr, "distill store export: %s\n", e.what());
            exit_code = exit_failure;
        }
    });
}

}  // namespace distill_cli
