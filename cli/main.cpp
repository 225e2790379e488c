// distill <verb> [options] — entry point: parses, dispatches, maps errors
// to exit codes (0 success, 1 failure, 2 bad usage).
#include "commands.h"

#include <distill/distill.hpp>

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char ** argv) {
    CLI::App app{"distill: knowledge distillation from the command line"};
    app.name("distill");
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("distill ") + distill_version());

    int exit_code = distill_cli::exit_ok;
    distill_cli::add_query(app, exit_code);
    distill_cli::add_batch(app, exit_code);
    distill_cli::add_train(app, exit_code);
    distill_cli::add_eval(app, exit_code);
    distill_cli::add_predict(app, exit_code);
    distill_cli::add_demo(app, exit_code);
    CLI::App * store = app.add_subcommand("store", "Inspect a teacher-output store");
    store->require_subcommand(1);
    distill_cli::add_store_stats(*store, exit_code);
    distill_cli::add_store_export(*store, exit_code);
    distill_cli::add_tokenizer(app, exit_code);
    distill_cli::add_tokenize(app, exit_code);
    distill_cli::add_export(app, exit_code);
    distill_cli::add_import(app, exit_code);

    try {
        distill::check_library_version();
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp & e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp & e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion & e) {
        return app.exit(e);
    } catch (const CLI::ParseError & e) {
        app.exit(e);
        return distill_cli::exit_usage;
    } catch (const std::exception & e) {
        std::fprintf(stderr, "distill: error: %s\n", e.what());
        return distill_cli::exit_failure;
    }
    return exit_code;
}
