// What the end-to-end tests of the `distill` binary share: the binary under
// test and a scratch directory (both from the command line, see
// cli_main.cpp), a way to run the binary and read what it printed, and the
// small files the tests write.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cli_test {

// The `distill` binary under test (argv[1] of the test program).
const std::string & binary();

// A fresh, empty directory `name` under the scratch root (argv[2]): each
// test case works in its own, so cases do not see each other's files.
std::filesystem::path scratch(const std::string & name);

struct Result {
    int code = -1;
    std::string out, err;
};

// Runs `distill <args>` through the shell, stdout and stderr to files;
// `env` ("NAME=value ...") goes before the command. A run that does not end
// within a minute is killed (exit 124): a hang fails its test, not the suite.
Result run(const std::string & args, const std::string & env = "");

// Starts `distill args...` without a shell, stdout/stderr appended to the
// given files; wait_exit gives its exit code, or minus the signal that
// ended it.
pid_t start(const std::vector<std::string> & args, const std::string & out,
            const std::string & err);
int wait_exit(pid_t child);

std::string slurp(const std::filesystem::path & path);
void write(const std::filesystem::path & path, const std::string & text);

// An IDX file: magic (type ubyte, `sizes.size()` dimensions), sizes
// big-endian, then the bytes.
void write_idx(const std::filesystem::path & path, const std::vector<int32_t> & sizes,
               const std::vector<uint8_t> & bytes);

}  // namespace cli_test
