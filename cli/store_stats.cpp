// distill store stats --store run.db [--json]
#include "commands.h"

#include <distill/distill.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>

namespace distill_cli {

void add_store_stats(CLI::App & store, int & exit_code) {
    struct Options {
        std::string path;
        bool json = false;
    };
    auto options = std::make_shared<Options>();
    CLI::App * cmd = store.add_subcommand("stats", "Count the records in a store");
    cmd->add_option("--store", options->path, "The store file (SQLite)")->required();
    cmd->add_flag("--json", options->json, "Print one JSON object");
    cmd->callback([options, &exit_code] {
        try {
            distill::Store s(options->path, /*read_only=*/true);
            const distill_store_stats st = s.stats();
            if (options->json) {
                nlohmann::json j = {{"records", st.records},
                                    {"failures", st.failures},
                                    {"positions", st.positions},
                                    {"blob_bytes", st.blob_bytes}};
                std::printf("%s\n", j.dump().c_str());
            } else {
                std::printf("records    %lld\nfailures   %lld\npositions  %lld\nblob_bytes %lld\n",
                            (long long)st.records, (long long)st.failures, (long long)st.positions,
                            (long long)st.blob_bytes);
            }
            exit_code = exit_ok;
        } catch (const std::exception & e) {
            std::fprintf(stderr, "distill store stats: %s\n", e.what());
            exit_code = exit_failure;
        }
    });
}

}  // namespace distill_cli
