// write_file_atomically: all or nothing, even when the writer throws.
#include <doctest/doctest.h>

#include "common/atomic_file.h"
#include "common/error.h"
#include "test_train_support.h"

#include <stdexcept>

namespace {

size_t entries_in(const std::filesystem::path & dir) {
    size_t count = 0;
    for ([[maybe_unused]] const auto & entry : std::filesystem::directory_iterator(dir)) ++count;
    return count;
}

}  // namespace

TEST_CASE("write_file_atomically creates and replaces files") {
    distill::test::scratch_dir scratch;
    const auto path = scratch.path() / "state.json";
    distill::write_file_atomically(path, "first");
    CHECK(distill::read_whole_file(path) == "first");
    distill::write_file_atomically(path, [](const distill::atomic_file_sink & sink) {
        sink("sec");
        sink("");
        sink("ond");
    });
    CHECK(distill::read_whole_file(path) == "second");
    CHECK(entries_in(scratch.path()) == 1);  // no temporary left behind
    const std::string large(3 << 20, 'x');   // several write() calls
    distill::write_file_atomically(path, large);
    CHECK(distill::read_whole_file(path) == large);
}

TEST_CASE("a writer that throws midway leaves the old file intact and no temporary") {
    distill::test::scratch_dir scratch;
    const auto path = scratch.path() / "weights.bin";
    distill::write_file_atomically(path, "old content");
    CHECK_THROWS_WITH(distill::write_file_atomically(path,
                                                     [](const distill::atomic_file_sink & sink) {
                                                         sink("half of the new con");
                                                         throw std::runtime_error("disk on fire");
                                                     }),
                      "disk on fire");
    CHECK(distill::read_whole_file(path) == "old content");
    CHECK(entries_in(scratch.path()) == 1);
}

TEST_CASE("atomic write errors name the path and the system's reason") {
    distill::test::scratch_dir scratch;
    const auto missing_dir = scratch.path() / "no" / "such" / "file";
    CHECK_THROWS_WITH(distill::write_file_atomically(missing_dir, "x"),
                      ("creating a temporary file for '" + missing_dir.string() +
                       "' failed: No such file or directory")
                          .c_str());
    // Renaming a file over a directory fails: the temporary goes away.
    std::filesystem::create_directory(scratch.path() / "taken");
    std::filesystem::create_directory(scratch.path() / "taken" / "child");
    CHECK_THROWS_WITH(distill::write_file_atomically(scratch.path() / "taken", "x"),
                      doctest::Contains("' failed: Is a directory"));
    CHECK(entries_in(scratch.path()) == 1);
    CHECK_THROWS_WITH(
        distill::read_whole_file(scratch.path() / "absent"),
        ("opening '" + (scratch.path() / "absent").string() + "' failed: No such file or directory")
            .c_str());
}
