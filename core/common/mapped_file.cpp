#include "common/mapped_file.h"

#include <cerrno>
#include <utility>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_error.h"

namespace distill {

mapped_file::mapped_file(const std::filesystem::path & path) : path_(path) {
    const int fd = open_file_for_reading(path);
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        const int saved = errno;
        ::close(fd);
        fail_file("inspecting", path, saved);
    }
    size_ = size_t(info.st_size);
    if (size_ > 0) {
        void * address = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (address == MAP_FAILED) {
            const int saved = errno;
            ::close(fd);
            fail_file("mapping", path, saved);
        }
        data_ = static_cast<const uint8_t *>(address);
    }
    // The mapping keeps the file referenced; the descriptor is not needed.
    ::close(fd);
}

mapped_file::~mapped_file() { release(); }

mapped_file::mapped_file(mapped_file && other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

mapped_file & mapped_file::operator=(mapped_file && other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

void mapped_file::advise_sequential() const {
    if (data_ != nullptr) ::madvise(const_cast<uint8_t *>(data_), size_, MADV_SEQUENTIAL);
}

void mapped_file::release() noexcept {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t *>(data_), size_);
    data_ = nullptr;
    size_ = 0;
}

}  // namespace distill
