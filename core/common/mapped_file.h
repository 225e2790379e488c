// A whole file mapped read-only into memory (mmap, PROT_READ, MAP_PRIVATE):
// pages are read from disk when first touched and dropped by the kernel
// under memory pressure, so a file larger than RAM can be read as one array.
// The mapping lives as long as the object; moving it moves the mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace distill {

class mapped_file {
public:
    mapped_file() = default;
    // Maps `path`; an empty file maps to size() == 0 and data() == nullptr.
    // Throws by common/file_error.h's rule (not_found, io_error naming the
    // path and strerror; a directory is io_error).
    explicit mapped_file(const std::filesystem::path & path);
    ~mapped_file();
    mapped_file(mapped_file && other) noexcept;
    mapped_file & operator=(mapped_file && other) noexcept;
    mapped_file(const mapped_file &) = delete;
    mapped_file & operator=(const mapped_file &) = delete;

    const uint8_t * data() const { return data_; }
    size_t size() const { return size_; }
    std::string_view bytes() const { return {reinterpret_cast<const char *>(data_), size_}; }
    const std::filesystem::path & path() const { return path_; }

    // Tells the kernel the pages will be read front to back (madvise
    // SEQUENTIAL: larger read-ahead, pages behind dropped sooner).
    void advise_sequential() const;

private:
    void release() noexcept;

    std::filesystem::path path_;
    const uint8_t * data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace distill
