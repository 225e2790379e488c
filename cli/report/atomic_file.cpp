#include "report/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace distill_cli {
namespace {

[[noreturn]] void fail(const std::filesystem::path & path, const std::string & step, int error) {
    throw std::runtime_error("cannot write " + path.string() + ": " + step + ": " +
                             std::strerror(error));
}

// Writes all of `text`, resuming after partial writes and signals.
bool write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t written = ::write(fd, text.data(), text.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        text.remove_prefix(size_t(written));
    }
    return true;
}

}  // namespace

void write_text_file_atomically(const std::filesystem::path & path, std::string_view text) {
    if (path.filename().empty()) fail(path, "expected a file name", EISDIR);
    const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";
    // A hidden name, ".report.html.tmp-a1B2c3", that mkstemp makes unique.
    std::string temporary = (directory / ".").string();
    temporary += path.filename().string();
    temporary += ".tmp-XXXXXX";
    const int fd = ::mkstemp(temporary.data());
    if (fd < 0) fail(path, "creating a temporary file in " + directory.string(), errno);

    const auto abandon = [&](const std::string & step) {
        const int error = errno;
        ::close(fd);
        ::unlink(temporary.c_str());
        fail(path, step, error);
    };
    if (!write_all(fd, text)) abandon("writing " + temporary);
    if (::fchmod(fd, 0644) != 0) abandon("setting the mode of " + temporary);
    if (::fsync(fd) != 0) abandon("flushing " + temporary);
    if (::close(fd) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        fail(path, "closing " + temporary, error);
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        fail(path, "renaming " + temporary + " over it", error);
    }
    // The rename itself is durable only once the directory is flushed.
    const int directory_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd < 0) fail(path, "opening its directory to flush it", errno);
    const int synced = ::fsync(directory_fd);
    const int error = errno;
    ::close(directory_fd);
    if (synced != 0) fail(path, "flushing its directory", error);
}

}  // namespace distill_cli
