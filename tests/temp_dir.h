// A fresh directory under $TMPDIR for one test, removed with everything in
// it when the test ends: what every test that writes files (stores,
// checkpoints, IDX files) starts from.
#pragma once

#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace test {

class temp_dir {
public:
    // The directory is "<prefix>-XXXXXX" (six random characters) in $TMPDIR.
    explicit temp_dir(const std::string & prefix = "distill-test") {
        std::string pattern =
            (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed for " + pattern);
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir &) = delete;
    temp_dir & operator=(const temp_dir &) = delete;

    const std::filesystem::path & path() const { return path_; }
    std::filesystem::path file(const std::string & name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

}  // namespace test
