// The boundary rule of the C ABI: every exported function runs its body
// through guarded(), which turns any exception into a distill_status and a
// thread-local message, so no C++ exception ever crosses into the caller.
#pragma once

#include <distill/distill.h>

#include <new>
#include <stdexcept>
#include <string>

#include "common/error.h"

namespace distill::capi {

void set_last_error(const std::string & message) noexcept;
void clear_last_error() noexcept;

// Runs body() (returning void). Returns DISTILL_STATUS_OK, or the status of
// what it threw, with the message recorded for distill_last_error_message.
template <class Body>
distill_status guarded(Body && body) noexcept {
    try {
        clear_last_error();
        body();
        return DISTILL_STATUS_OK;
    } catch (const distill::error & e) {
        set_last_error(e.what());
        return static_cast<distill_status>(e.code());
    } catch (const std::bad_alloc &) {
        set_last_error("out of memory");
        return DISTILL_STATUS_OUT_OF_MEMORY;
    } catch (const std::exception & e) {
        set_last_error(std::string("internal error: ") + e.what());
        return DISTILL_STATUS_INTERNAL;
    } catch (...) {
        set_last_error("internal error: unknown exception");
        return DISTILL_STATUS_INTERNAL;
    }
}

// Throws the invalid-argument error for a NULL required pointer.
inline void require_pointer(const void * pointer, const char * name, const char * what) {
    if (pointer == nullptr) fail_invalid(std::string(name) + ": expected " + what + ", got NULL");
}

}  // namespace distill::capi
