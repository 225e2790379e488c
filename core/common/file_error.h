// The one rule from a failed file operation to a distill::status, so that a
// program can act on the code (create the missing file, free some space,
// rebuild a damaged one) instead of parsing the message:
//
//   errno ENOENT, ENOTDIR           -> not_found   (the path does not exist)
//   errno ENOSPC, EDQUOT            -> disk_full   (no space, or over quota)
//   any other errno (EACCES, EISDIR,
//   EIO, EROFS, EMFILE, ...)        -> io_error    (it exists, but cannot be used)
//   contents damaged, truncated, or
//   of another kind                 -> corrupt_file (fail_corrupt)
//
// A bad argument (a NULL, an empty path, a wrong shape) stays invalid_argument.
#pragma once

#include <filesystem>
#include <string>

#include "common/error.h"

namespace distill {

// The status of a file operation that failed with `error_number` (an errno).
status file_status(int error_number) noexcept;

// Throws distill::error with file_status(error_number) and the message
// "<doing> '<path>' failed: <strerror(error_number)>", for example
// "opening 'run.db' for reading failed: No such file or directory".
[[noreturn]] void fail_file(const std::string & doing, const std::filesystem::path & path,
                            int error_number);

// Throws corrupt_file: a file whose contents are damaged, truncated or not
// of the kind expected. The message names the file.
[[noreturn]] inline void fail_corrupt(const std::string & message) {
    throw error(status::corrupt_file, message);
}

// Opens `path` for reading (O_RDONLY | O_CLOEXEC) and returns the descriptor;
// a directory is refused as EISDIR (open() would accept it, and read() fail
// later with a less clear message). Throws by the rule above.
int open_file_for_reading(const std::filesystem::path & path);

}  // namespace distill
