// Files replaced all at once: a reader (or a restart after a crash) sees the
// old content or the new one, never a mixture or a truncated file. The bytes
// go to a temporary file in the target's directory (rename is atomic only
// within one file system), which is fsync'ed, renamed over the target, and
// then the directory is fsync'ed so the rename itself survives a power cut.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace distill {

// Appends a chunk to the file being written; called any number of times.
using atomic_file_sink = std::function<void(std::string_view chunk)>;

// Replaces `path` with `bytes`. On any failure the temporary file is removed,
// `path` is left as it was, and distill::error names the path and the
// system's reason (strerror), with the status of common/file_error.h
// (DISK_FULL for ENOSPC, NOT_FOUND for a missing directory, IO_ERROR else).
// A `path` that exists and is not a regular file (/dev/stdout, /dev/full, a
// FIFO) is written in place, not replaced.
void write_file_atomically(const std::filesystem::path & path, std::string_view bytes);

// Replaces `path` with what `writer` passes to its sink. An exception thrown
// by `writer` removes the temporary file, leaves `path` untouched and is
// rethrown as is.
void write_file_atomically(const std::filesystem::path & path,
                           const std::function<void(const atomic_file_sink & sink)> & writer);

// The whole content of `path`; distill::error names the path and strerror
// (NOT_FOUND when missing, IO_ERROR when unreadable or a directory).
std::string read_whole_file(const std::filesystem::path & path);

}  // namespace distill
