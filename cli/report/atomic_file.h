// Writing an output file so that readers see the old content or the new,
// never a half-written file, even if the process dies mid-write.
#pragma once

#include <filesystem>
#include <string_view>

namespace distill_cli {

// Writes `text` to a temporary file beside `path` (same directory, so the
// rename cannot cross file systems), fsyncs it, renames it over `path`, then
// fsyncs the directory. The file gets mode 0644. Throws std::runtime_error
// naming `path`, the failed step and the system's reason; the temporary file
// is removed on failure.
void write_text_file_atomically(const std::filesystem::path & path, std::string_view text);

}  // namespace distill_cli
