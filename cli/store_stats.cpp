// distill store stats --store run.db [--json]: counts, finish reasons, other models
#include "commands.h"

#include <distill/distill.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <utility>

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
            // Successful answers by why the server stopped: "length" is a
            // truncated answer (max_tokens), worth seeing before training.
            const std::pair<const char *, int64_t> finished[] = {
                {"stop", st.finished_stop},
                {"length", st.finished_length},
                {"content_filter", st.finished_content_filter},
                {"tool_calls", st.finished_tool_calls},
                {"other", st.finished_other},
                {"not_given", st.finish_not_given}};
            if (options->json) {
                nlohmann::json by_reason = nlohmann::json::object();
                for (const auto & [reason, count] : finished) by_reason[reason] = count;
                nlohmann::json j = {{"records", st.records},
                                    {"failures", st.failures},
                                    {"positions", st.positions},
                                    {"blob_bytes", st.blob_bytes},
                                    {"finish_reasons", by_reason},
                                    {"other_model", st.other_model}};
                std::printf("%s\n", j.dump().c_str());
            } else {
                std::printf("records    %lld\nfailures   %lld\npositions  %lld\nblob_bytes %lld\n",
                            (long long)st.records, (long long)st.failures, (long long)st.positions,
                            (long long)st.blob_bytes);
                std::printf("finished  ");
                for (const auto & [reason, count] : finished)
                    if (count > 0) std::printf(" %s %lld", reason, (long long)count);
                std::printf("\n");
                if (st.finished_length > 0)
                    std::printf("truncated  %lld answers stopped at max_tokens (finish_reason "
                                "\"length\")\n",
                                (long long)st.finished_length);
                if (st.other_model > 0)
                    std::printf("other_model %lld answers name another model than the one asked "
                                "for (the server's default?)\n",
                                (long long)st.other_model);
            }
            exit_code = exit_ok;
        } catch (const std::exception & e) {
            std::fprintf(stderr, "distill store stats: %s\n", e.what());
            exit_code = exit_failure;
        }
    });
}

void warn_about_other_models(distill::Store & store, const std::string & model) {
    const int64_t other = store.stats().other_model;
    if (other > 0)
        std::fprintf(stderr,
                     "distill query: warning: %lld answers in the store name another model than "
                     "the one asked for (--model %s): the server may have answered with its "
                     "default model; see `distill store stats`\n",
                     (long long)other, model.c_str());
}

}  // namespace distill_cli
