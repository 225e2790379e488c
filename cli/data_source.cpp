#include "data_source.h"

#include <cstdlib>

namespace distill_cli {
namespace {

[[noreturn]] void bad_spec(const std::string & spec, const std::string & why) {
    throw distill::Exception(
        DISTILL_STATUS_INVALID_ARGUMENT,
        "--data: expected " + std::string(data_source_help) + "; got '" + spec + "' (" + why + ")");
}

}  // namespace

distill::Dataset open_data_source(const std::string & spec) {
    std::string body = spec;
    int64_t limit = 0;
    // A trailing ":N" of digits is a limit.
    if (const size_t colon = body.rfind(':');
        colon != std::string::npos && colon + 1 < body.size() &&
        body.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
        limit = std::strtoll(body.c_str() + colon + 1, nullptr, 10);
        if (limit < 1) bad_spec(spec, "the limit must be at least 1");
        body.resize(colon);
    }
    if (body == "fashion-mnist:train" || body == "fashion-mnist:test")
        return distill::Dataset::fashion_mnist(body.substr(14), "", limit);
    if (body.rfind("idx:", 0) == 0) {
        const std::string paths = body.substr(4);
        const size_t comma = paths.find(',');
        if (comma == std::string::npos || comma == 0 || comma + 1 == paths.size())
            bad_spec(spec, "idx: needs two paths, IMAGES,LABELS");
        return distill::Dataset::load_idx(paths.substr(0, comma), paths.substr(comma + 1), limit);
    }
    bad_spec(spec, "unknown source");
}

}  // namespace distill_cli
