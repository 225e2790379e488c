// write_text_file_atomically: the content lands whole, replaces what was
// there, leaves no temporary behind, and failures name the path and reason.
#include "report/atomic_file.h"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace {

std::string read_file(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::filesystem::path make_temp_dir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "distill-report-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

size_t entries_in(const std::filesystem::path & dir) {
    size_t n = 0;
    for ([[maybe_unused]] const auto & entry : std::filesystem::directory_iterator(dir)) ++n;
    return n;
}

}  // namespace

TEST_CASE("atomic file: writes, replaces, and leaves only the file") {
    const std::filesystem::path dir = make_temp_dir();
    const std::filesystem::path file = dir / "report.html";
    std::string big(3 << 20, 'x');  // several write() calls' worth
    big += "end";
    distill_cli::write_text_file_atomically(file, "first");
    CHECK(read_file(file) == "first");
    distill_cli::write_text_file_atomically(file, big);
    CHECK(read_file(file) == big);
    distill_cli::write_text_file_atomically(file, "");
    CHECK(read_file(file).empty());
    CHECK(entries_in(dir) == 1);
    struct stat info {};
    REQUIRE(stat(file.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0644);
    std::filesystem::remove_all(dir);
}

TEST_CASE("atomic file: failures name the path, the step and the reason") {
    const std::filesystem::path dir = make_temp_dir();
    const std::filesystem::path missing = dir / "no-such-dir" / "report.html";
    CHECK_THROWS_WITH_AS(distill_cli::write_text_file_atomically(missing, "x"),
                         ("cannot write " + missing.string() + ": creating a temporary file in " +
                          (dir / "no-such-dir").string() + ": No such file or directory")
                             .c_str(),
                         std::runtime_error);
    // A directory in the way: the rename fails and the temporary is removed.
    std::filesystem::create_directory(dir / "taken");
    std::filesystem::create_directory(dir / "taken" / "inside");
    try {
        distill_cli::write_text_file_atomically(dir / "taken", "x");
        FAIL("expected a failure writing over a directory");
    } catch (const std::runtime_error & e) {
        const std::string message = e.what();
        CHECK(message.rfind("cannot write " + (dir / "taken").string() + ": renaming ", 0) == 0);
        CHECK(message.find(": Is a directory") != std::string::npos);
    }
    CHECK(entries_in(dir) == 1);
    std::filesystem::remove_all(dir);
}
