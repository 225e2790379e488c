#include "data/byte_stream.h"

#include "common/error.h"
#include "common/file_error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include <unistd.h>

namespace distill {
namespace {

constexpr size_t input_buffer_bytes = size_t(1) << 16;
constexpr uint8_t gzip_magic[2] = {0x1f, 0x8b};

}  // namespace

file_byte_stream::file_byte_stream(const std::filesystem::path & path)
    : path_(path), input_(input_buffer_bytes) {
    const int fd = open_file_for_reading(path_);
    file_.reset(::fdopen(fd, "rb"));
    if (file_ == nullptr) {
        const int saved = errno;
        ::close(fd);
        fail_file("opening", path_, saved);
    }
    fill_input();
    if (input_available_ < 2 || input_next_[0] != gzip_magic[0] ||
        input_next_[1] != gzip_magic[1]) {
        return;
    }
    // 15 + 16: a 32 KiB window and a gzip (not zlib) header and trailer.
    const int rc = inflateInit2(&inflater_, 15 + 16);
    if (rc != Z_OK) {
        throw error(rc == Z_MEM_ERROR ? status::out_of_memory : status::internal,
                    path_.string() + ": cannot start zlib's inflater (zlib error " +
                        std::to_string(rc) + ")");
    }
    gzipped_ = true;
}

file_byte_stream::~file_byte_stream() {
    if (gzipped_) inflateEnd(&inflater_);
}

void file_byte_stream::fill_input() {
    if (input_available_ > 0 || at_eof_) return;
    const size_t got = std::fread(input_.data(), 1, input_.size(), file_.get());
    if (got < input_.size()) {
        if (std::ferror(file_.get())) fail_file("reading", path_, errno);
        at_eof_ = true;
    }
    input_next_ = input_.data();
    input_available_ = got;
}

size_t file_byte_stream::read(uint8_t * out, size_t size) {
    return gzipped_ ? read_gzip(out, size) : read_raw(out, size);
}

size_t file_byte_stream::read_raw(uint8_t * out, size_t size) {
    const size_t buffered = std::min(size, input_available_);
    std::memcpy(out, input_next_, buffered);
    input_next_ += buffered;
    input_available_ -= buffered;
    if (buffered == size || at_eof_) return buffered;
    // The rest straight from the file: no copy through the input buffer.
    const size_t got = std::fread(out + buffered, 1, size - buffered, file_.get());
    if (got < size - buffered) {
        if (std::ferror(file_.get())) fail_file("reading", path_, errno);
        at_eof_ = true;
    }
    return buffered + got;
}

bool file_byte_stream::start_next_member() {
    fill_input();
    if (input_available_ == 0) return false;
    if (input_next_[0] != gzip_magic[0]) {
        fail_corrupt(path_.string() + ": unexpected bytes after the end of the gzip stream (at " +
                     "compressed offset " + std::to_string(compressed_consumed_) +
                     "); expected the end of the file or another gzip member");
    }
    inflateReset(&inflater_);
    member_ended_ = false;
    return true;
}

size_t file_byte_stream::read_gzip(uint8_t * out, size_t size) {
    size_t produced = 0;
    while (produced < size) {
        if (member_ended_ && !start_next_member()) break;
        fill_input();
        inflater_.next_in = const_cast<Bytef *>(input_next_);
        inflater_.avail_in = static_cast<uInt>(input_available_);
        // avail_out is 32-bit: large reads go through in 1 GiB steps.
        const size_t step = std::min(size - produced, size_t(1) << 30);
        inflater_.next_out = out + produced;
        inflater_.avail_out = static_cast<uInt>(step);
        const int rc = inflate(&inflater_, Z_NO_FLUSH);
        const size_t consumed = input_available_ - inflater_.avail_in;
        input_next_ += consumed;
        input_available_ -= consumed;
        compressed_consumed_ += consumed;
        produced += step - inflater_.avail_out;
        switch (rc) {
        case Z_OK: break;
        case Z_STREAM_END: member_ended_ = true; break;
        case Z_BUF_ERROR:
            // No progress possible: inflate wants input and the file has none.
            if (input_available_ == 0 && at_eof_) {
                fail_corrupt(path_.string() + ": truncated gzip stream: the file ends after " +
                             std::to_string(compressed_consumed_) +
                             " compressed bytes, before the end of the stream");
            }
            break;
        case Z_MEM_ERROR:
            throw error(status::out_of_memory, path_.string() + ": out of memory inflating");
        default:
            fail_corrupt(
                path_.string() + ": corrupt gzip data at compressed offset " +
                std::to_string(compressed_consumed_) + ": " +
                (inflater_.msg != nullptr ? inflater_.msg : "zlib error " + std::to_string(rc)));
        }
    }
    return produced;
}

}  // namespace distill
