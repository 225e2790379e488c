// Helpers of the train, checkpoint and safetensors tests: a temporary
// directory, the fixtures folder, file bytes.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "../temp_dir.h"

namespace distill::test {

class scratch_dir : public ::test::temp_dir {
public:
    scratch_dir() : ::test::temp_dir("distill-train") {}
};

// tests/fixtures, found from this header's own path (the build gives the
// compiler absolute source paths).
inline std::filesystem::path fixtures_dir() { return DISTILL_TEST_FIXTURES_DIR; }

inline std::string file_bytes(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path.string());
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::filesystem::path & path, const std::string & bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace distill::test
