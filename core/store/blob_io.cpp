#include "store/blob_io.h"

#include <zstd.h>

#include "common/error.h"

namespace distill::blob_io {
namespace {

// No record comes near this; a bigger declared size is a damaged frame.
constexpr unsigned long long max_blob_size = 1ull << 30;

}  // namespace

std::string compress(const std::string & raw, int level) {
    std::string out(ZSTD_compressBound(raw.size()), '\0');
    const size_t size = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), level);
    if (ZSTD_isError(size))
        throw error(status::internal,
                    std::string("zstd compression failed: ") + ZSTD_getErrorName(size));
    out.resize(size);
    return out;
}

std::string decompress(const std::string & blob, const std::string & what) {
    const unsigned long long size = ZSTD_getFrameContentSize(blob.data(), blob.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
        throw error(status::internal, what + ": damaged blob (not a zstd frame)");
    if (size > max_blob_size)
        throw error(status::internal, what + ": damaged blob (size past 1 GiB)");
    std::string raw(size, '\0');
    const size_t got = ZSTD_decompress(raw.data(), raw.size(), blob.data(), blob.size());
    if (ZSTD_isError(got) || got != size)
        throw error(status::internal, what + ": damaged blob (zstd: " +
                                          (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short") +
                                          ")");
    return raw;
}

}  // namespace distill::blob_io
