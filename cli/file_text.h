// The whole text of a file the user named (--config, --prompts), or a
// distill::Exception whose status says what went wrong, by the library's
// rule (core/common/file_error.h; the CLI is a client and cannot include
// core/): NOT_FOUND when missing, DISK_FULL never (only reads here),
// IO_ERROR when unreadable or a directory. The message is
// "<flag>: opening '<path>' failed: <strerror>".
#pragma once

#include <string>

namespace distill_cli {

std::string read_file_text(const std::string & path, const std::string & flag);

}  // namespace distill_cli
