#include "file_text.h"

#include <distill/distill.hpp>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace distill_cli {
namespace {

[[noreturn]] void fail(const std::string & flag, const std::string & doing,
                       const std::string & path, int error_number) {
    const distill_status status = error_number == ENOENT || error_number == ENOTDIR
                                      ? DISTILL_STATUS_NOT_FOUND
                                      : DISTILL_STATUS_IO_ERROR;
    throw distill::Exception(
        status, flag + ": " + doing + " '" + path + "' failed: " + std::strerror(error_number));
}

}  // namespace

std::string read_file_text(const std::string & path, const std::string & flag) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(flag, "opening", path, errno);
    struct stat info {};
    if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
        ::close(fd);
        fail(flag, "opening", path, EISDIR);
    }
    std::string text;
    char buffer[1 << 16];
    for (;;) {
        const ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            const int saved = errno;
            ::close(fd);
            fail(flag, "reading", path, saved);
        }
        if (got == 0) break;
        text.append(buffer, size_t(got));
    }
    ::close(fd);
    return text;
}

}  // namespace distill_cli
