// libFuzzer target of the HTTP teacher's response parsing: whatever a
// server sends, normalise_response either fills the record or throws
// distill::error (which the teacher keeps as the record's failure), and
// parse_error_body and the x-ratelimit-reset duration parser never throw.
// Anything else (another exception, a crash, an ASan or UBSan report) is a
// bug: the teacher catches only distill::error.
//
// Input: byte 0 picks the dialect (mod 5) and byte 1 the request kind
// (mod 3); the rest is the response body.
#include "common/error.h"
#include "teachers/http_dialect.h"
#include "teachers/rate_limiter.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

namespace {

void require(bool condition, const char * what) {
    if (!condition) {
        std::fprintf(stderr, "fuzz_http_response: invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    if (size < 2) return 0;
    const auto dialect = distill::http_dialect(data[0] % 5);
    const auto kind = distill::request_kind(data[1] % 3);
    const std::string text(reinterpret_cast<const char *>(data + 2), size - 2);

    const distill::server_error e = distill::parse_error_body(text);
    require(e.message.size() <= text.size() + 64, "error message bounded by the body");
    (void)distill::parse_reset_duration(text);

    const nlohmann::json body = nlohmann::json::parse(text, nullptr, false);
    if (body.is_discarded()) return 0;
    distill::teacher_record record;
    try {
        distill::normalise_response(dialect, kind, body, record);
    } catch (const distill::error &) {
        return 0;
    }
    for (const auto & position : record.positions)
        require(position.id >= -1, "token ids are -1 (unknown) or a vocabulary id");
    return 0;
}
