#include "common/atomic_file.h"

#include "common/error.h"
#include "common/file_error.h"

#include <atomic>
#include <cerrno>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace distill {
namespace {

// A name no other writer (thread or process) picks: the target's name, the
// process id, a per-process counter and a random number. O_EXCL below makes a
// collision an EEXIST, answered by trying the next name.
std::filesystem::path temporary_name(const std::filesystem::path & path) {
    static std::atomic<uint64_t> counter{0};
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string name = path.filename().string();
    name.insert(0, 1, '.');
    name += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1)) +
            "." + std::to_string(rng() % 1000000007);
    return path.parent_path() / name;
}

// `target`: the file the caller named (not the temporary), for the message.
void write_all(int fd, std::string_view chunk, const std::filesystem::path & target) {
    while (!chunk.empty()) {
        const ssize_t written = ::write(fd, chunk.data(), chunk.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            fail_file("writing", target, errno);
        }
        chunk.remove_prefix(size_t(written));
    }
}

// fsync of the directory makes the rename durable (ext4, XFS: without it a
// crash can bring back the old directory entry).
void sync_directory(const std::filesystem::path & directory) {
    const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail_file("opening directory", directory, errno);
    const int rc = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    if (rc != 0) fail_file("fsync of directory", directory, saved);
}

// A target that exists and is not a regular file (a character device such
// as /dev/stdout or /dev/full, a FIFO) is written in place: renaming over it
// would replace the device with a file.
bool is_special_file(const std::filesystem::path & path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode) && !S_ISDIR(info.st_mode);
}

void write_in_place(const std::filesystem::path & path,
                    const std::function<void(const atomic_file_sink & sink)> & writer) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail_file("opening for writing", path, errno);
    try {
        writer([&](std::string_view chunk) { write_all(fd, chunk, path); });
    } catch (...) {
        ::close(fd);
        throw;
    }
    if (::close(fd) != 0) fail_file("closing", path, errno);
}

}  // namespace

void write_file_atomically(const std::filesystem::path & path,
                           const std::function<void(const atomic_file_sink & sink)> & writer) {
    if (path.filename().empty())
        fail_invalid("path: expected a file path, got '" + path.string() + "' (no file name)");
    if (is_special_file(path)) return write_in_place(path, writer);
    const std::filesystem::path directory =
        path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();

    std::filesystem::path temporary;
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
        temporary = temporary_name(directory / path.filename());
        // 0666 less the umask: the same permissions a plain open() would give.
        fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) fail_file("creating a temporary file for", path, errno);
    }
    if (fd < 0) fail_file("creating a unique temporary file for", path, EEXIST);

    try {
        writer([&](std::string_view chunk) { write_all(fd, chunk, path); });
        if (::fsync(fd) != 0) fail_file("fsync of", path, errno);
        const int rc = ::close(fd);
        fd = -1;
        if (rc != 0) fail_file("closing", path, errno);
        if (::rename(temporary.c_str(), path.c_str()) != 0)
            fail_file("renaming '" + temporary.string() + "' over", path, errno);
    } catch (...) {
        if (fd >= 0) ::close(fd);
        ::unlink(temporary.c_str());
        throw;
    }
    sync_directory(directory);
}

void write_file_atomically(const std::filesystem::path & path, std::string_view bytes) {
    write_file_atomically(path, [bytes](const atomic_file_sink & sink) { sink(bytes); });
}

std::string read_whole_file(const std::filesystem::path & path) {
    const int fd = open_file_for_reading(path);
    std::string bytes;
    struct stat info {};
    if (::fstat(fd, &info) == 0 && info.st_size > 0) bytes.reserve(size_t(info.st_size));
    char buffer[1 << 16];
    for (;;) {
        const ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0) {
            if (errno == EINTR) continue;
            const int saved = errno;
            ::close(fd);
            fail_file("reading", path, saved);
        }
        if (got == 0) break;
        bytes.append(buffer, size_t(got));
    }
    ::close(fd);
    return bytes;
}

}  // namespace distill
