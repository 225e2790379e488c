#include "output_path.h"

#include <distill/distill.hpp>

#include <unistd.h>

#include <system_error>

namespace distill_cli {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void refuse(const std::string & flag, const fs::path & path, const std::string & why) {
    throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                             flag + ": cannot write '" + path.string() + "': " + why);
}

// `dir` exists, is a directory and this process may create files in it.
void require_writable_directory(const fs::path & dir, const std::string & flag,
                                const fs::path & path) {
    std::error_code error;
    const fs::file_status status = fs::status(dir, error);
    if (!fs::exists(status))
        refuse(flag, path, "expected its directory '" + dir.string() + "' to exist; it does not");
    if (!fs::is_directory(status))
        refuse(flag, path, "expected '" + dir.string() + "' to be a directory; it is a file");
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        refuse(flag, path,
               "expected the directory '" + dir.string() +
                   "' to be writable; it is not (permissions)");
}

fs::path parent_or_current(const fs::path & path) {
    const fs::path parent = path.parent_path();
    return parent.empty() ? fs::path(".") : parent;
}

}  // namespace

void require_writable_file_path(const fs::path & path, const std::string & flag) {
    std::error_code error;
    if (path.empty()) refuse(flag, path, "expected a file path, got an empty one");
    if (fs::is_directory(path, error))
        refuse(flag, path, "expected a file path; it is a directory");
    require_writable_directory(parent_or_current(path), flag, path);
}

void require_writable_directory_path(const fs::path & path, const std::string & flag) {
    std::error_code error;
    if (path.empty()) refuse(flag, path, "expected a directory path, got an empty one");
    fs::path existing = path;
    while (!fs::exists(existing, error)) {
        const fs::path parent = parent_or_current(existing);
        if (parent == existing) break;
        existing = parent;
    }
    if (existing == path && !fs::is_directory(path, error))
        refuse(flag, path, "expected a directory; it is a file");
    require_writable_directory(existing, flag, path);
}

}  // namespace distill_cli
