// The end-to-end tests of the `distill` binary, as doctest cases:
//   distill_cli_tests DISTILL_BINARY SCRATCH_DIR [doctest options...]
// The scratch directory is emptied first; each case works in a directory of
// its own under it. CTest runs one test suite per entry (-ts=...), each with
// its own scratch directory, so the entries can run in parallel.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace cli_test::detail {
extern std::string binary;
extern std::filesystem::path root;
}  // namespace cli_test::detail

int main(int argc, char ** argv) {
    if (argc < 3) {
        std::cerr << "usage: " << argv[0] << " DISTILL_BINARY SCRATCH_DIR [doctest options]\n";
        return 2;
    }
    cli_test::detail::binary = argv[1];
    cli_test::detail::root = argv[2];
    std::filesystem::remove_all(cli_test::detail::root);
    std::filesystem::create_directories(cli_test::detail::root);

    std::vector<char *> rest{argv[0]};
    for (int i = 3; i < argc; ++i) rest.push_back(argv[i]);
    doctest::Context context;
    context.applyCommandLine(int(rest.size()), rest.data());
    return context.run();
}
