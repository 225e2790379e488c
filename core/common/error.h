// distill::error — the one exception type of the core. The C ABI layer turns
// it into a distill_status and a thread-local message; nothing else escapes.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace distill {

// Mirrors distill_status values in capi/include/distill/distill.h.
enum class status : int32_t {
    ok = 0,
    invalid_argument = 1,
    unsupported = 2,
    out_of_memory = 3,
    internal = 4,
    cancelled = 5,
    not_found = 6,
    io_error = 7,
    corrupt_file = 8,
    disk_full = 9,
};

class error : public std::runtime_error {
public:
    error(status code, const std::string & message) : std::runtime_error(message), code_(code) {}
    status code() const noexcept { return code_; }

private:
    status code_;
};

[[noreturn]] inline void fail_invalid(const std::string & message) {
    throw error(status::invalid_argument, message);
}
[[noreturn]] inline void fail_unsupported(const std::string & message) {
    throw error(status::unsupported, message);
}

}  // namespace distill
