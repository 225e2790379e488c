// A file read front to back as bytes: inflated on the fly when it starts with
// the gzip magic (0x1f 0x8b), passed through as it is otherwise. The dataset
// readers see the same bytes either way and never hold the compressed file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include <zlib.h>

namespace distill {

class file_byte_stream {
public:
    // Opens `path`; throws not_found when it is missing, io_error when it is
    // a directory or unreadable (common/file_error.h).
    explicit file_byte_stream(const std::filesystem::path & path);
    ~file_byte_stream();
    file_byte_stream(const file_byte_stream &) = delete;
    file_byte_stream & operator=(const file_byte_stream &) = delete;

    // Reads up to `size` bytes into `out` and returns how many; fewer than
    // `size` only at the end of the stream. Throws io_error on a read
    // error, corrupt_file on a corrupt or truncated gzip stream, or bytes after the gzip
    // stream that do not start another gzip member (RFC 1952 allows several).
    size_t read(uint8_t * out, size_t size);

    bool gzipped() const { return gzipped_; }
    const std::filesystem::path & path() const { return path_; }

private:
    // Refills the input buffer once it is empty; sets at_eof_ at the end.
    void fill_input();
    size_t read_raw(uint8_t * out, size_t size);
    size_t read_gzip(uint8_t * out, size_t size);
    // After a gzip member ends: false at the end of the file, true when
    // another member follows (and the inflater is reset for it).
    bool start_next_member();

    std::filesystem::path path_;
    struct file_closer {
        void operator()(std::FILE * file) const { std::fclose(file); }
    };
    std::unique_ptr<std::FILE, file_closer> file_;
    std::vector<uint8_t> input_;  // [64 KiB] raw bytes read ahead from the file
    const uint8_t * input_next_ = nullptr;
    size_t input_available_ = 0;
    uint64_t compressed_consumed_ = 0;  // input bytes handed to inflate so far
    bool at_eof_ = false;
    bool gzipped_ = false;
    bool member_ended_ = false;
    z_stream inflater_{};
};

}  // namespace distill
