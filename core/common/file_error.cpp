#include "common/file_error.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace distill {

status file_status(int error_number) noexcept {
    switch (error_number) {
    case ENOENT:
    case ENOTDIR: return status::not_found;
    case ENOSPC:
#if defined(EDQUOT)
    case EDQUOT:
#endif
        return status::disk_full;
    default: return status::io_error;
    }
}

void fail_file(const std::string & doing, const std::filesystem::path & path, int error_number) {
    throw error(file_status(error_number),
                doing + " '" + path.string() + "' failed: " + std::strerror(error_number));
}

int open_file_for_reading(const std::filesystem::path & path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail_file("opening", path, errno);
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        const int saved = errno;
        ::close(fd);
        fail_file("inspecting", path, saved);
    }
    if (S_ISDIR(info.st_mode)) {
        ::close(fd);
        fail_file("opening", path, EISDIR);
    }
    return fd;
}

}  // namespace distill
