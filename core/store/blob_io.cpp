#include "store/blob_io.h"

#include <memory>

#include <zstd.h>

#include "common/error.h"

namespace distill::blob_io {
namespace {

// No record comes near this; a bigger declared size is a damaged frame.
constexpr unsigned long long max_blob_size = 1ull << 30;

// This thread's decompression context, made once: ZSTD_decompress makes
// and frees a fresh one (~100 KB, zeroed) per call, which was most of the
// cost of reading a small blob — a store read row by row pays it twice a row.
ZSTD_DCtx * thread_decompression_context() {
    thread_local const std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx *)> context(
        ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!context) throw error(status::out_of_memory, "zstd: no decompression context");
    return context.get();
}

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
        throw error(status::corrupt_file, what + ": damaged blob (not a zstd frame)");
    if (size > max_blob_size)
        throw error(status::corrupt_file, what + ": damaged blob (size past 1 GiB)");
    std::string raw(size, '\0');
    const size_t got = ZSTD_decompressDCtx(thread_decompression_context(), raw.data(), raw.size(),
                                           blob.data(), blob.size());
    if (ZSTD_isError(got) || got != size)
        throw error(status::corrupt_file,
                    what + ": damaged blob (zstd: " +
                        (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short") + ")");
    return raw;
}

}  // namespace distill::blob_io
