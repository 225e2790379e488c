// Checks, before any work, that a verb's output can be written: a run that
// trains for an hour must not fail at its last line because --out names a
// missing directory or a file. Each throws distill::Exception
// (INVALID_ARGUMENT) naming the flag, what was expected and what was found.
#pragma once

#include <filesystem>
#include <string>

namespace distill_cli {

// `path` names a file to (re)write: not a directory; its parent an
// existing, writable directory.
void require_writable_file_path(const std::filesystem::path & path, const std::string & flag);

// `path` names a directory to write into, created when missing: an existing
// writable directory, or a path whose nearest existing ancestor is one.
void require_writable_directory_path(const std::filesystem::path & path, const std::string & flag);

}  // namespace distill_cli
