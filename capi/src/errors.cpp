// distill_status names, versions, and the thread-local last-error message.
#include <string>

#include "api_guard.h"

namespace {
thread_local std::string last_error_message;
}

namespace distill::capi {

void set_last_error(const std::string & message) noexcept {
    try {
        last_error_message = message;
    } catch (...) {
        last_error_message.clear();  // out of memory for the message itself
    }
}

void clear_last_error() noexcept { last_error_message.clear(); }

}  // namespace distill::capi

extern "C" {

const char * distill_last_error_message(void) { return last_error_message.c_str(); }

const char * distill_status_name(distill_status status) {
    switch (status) {
    case DISTILL_STATUS_OK: return "OK";
    case DISTILL_STATUS_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case DISTILL_STATUS_UNSUPPORTED: return "UNSUPPORTED";
    case DISTILL_STATUS_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
    case DISTILL_STATUS_INTERNAL: return "INTERNAL";
    case DISTILL_STATUS_CANCELLED: return "CANCELLED";
    case DISTILL_STATUS_NOT_FOUND: return "NOT_FOUND";
    case DISTILL_STATUS_IO_ERROR: return "IO_ERROR";
    case DISTILL_STATUS_CORRUPT_FILE: return "CORRUPT_FILE";
    case DISTILL_STATUS_DISK_FULL: return "DISK_FULL";
    default: return "UNKNOWN_STATUS";
    }
}

const char * distill_version(void) { return DISTILL_VERSION_STRING; }

uint32_t distill_abi_version(void) { return DISTILL_ABI_VERSION; }

}  // extern "C"
