// read_idx_file: raw and gzip'ed files read the same, and every damaged file
// (truncated, trailing bytes, wrong magic, bad dims, corrupt gzip) is refused
// with a message naming the file and what was expected.
#include "test_idx_support.h"

#include "common/error.h"
#include "data/idx_file.h"

#include <doctest/doctest.h>

using namespace idx_test;

namespace {

// The message of the distill::error that reading `path` throws, with its code.
std::pair<distill::status, std::string> read_error(const std::filesystem::path & path) {
    try {
        distill::read_idx_file(path);
    } catch (const distill::error & e) {
        return {e.code(), e.what()};
    }
    FAIL("expected read_idx_file to refuse " << path);
    return {};
}

// The message of a refused damaged file (corrupt_file).
std::string invalid_message(const std::filesystem::path & path) {
    const auto [code, message] = read_error(path);
    CHECK(code == distill::status::corrupt_file);
    return message;
}

}  // namespace

TEST_CASE("idx: raw, gzip'ed and multi-member gzip files read the same") {
    temp_dir dir;
    const bytes content = idx_bytes({3, 2, 5}, counting(30));
    write_raw(dir.file("raw"), content);
    // A name that says nothing: the format is told by the magic bytes.
    write_gzip(dir.file("compressed.idx"), content);
    const bytes first(content.begin(), content.begin() + 17),
        rest(content.begin() + 17, content.end());
    write_gzip(dir.file("a.gz"), first);
    write_gzip(dir.file("b.gz"), rest);
    bytes joined = read_raw(dir.file("a.gz"));
    const bytes second = read_raw(dir.file("b.gz"));
    joined.insert(joined.end(), second.begin(), second.end());
    write_raw(dir.file("two-members.gz"), joined);

    for (const char * name : {"raw", "compressed.idx", "two-members.gz"}) {
        CAPTURE(name);
        const distill::idx_file f = distill::read_idx_file(dir.file(name));
        CHECK(f.dims == std::vector<int64_t>{3, 2, 5});
        CHECK(f.bytes == counting(30));
    }
}

TEST_CASE("idx: a larger gzip'ed payload crosses the reader's buffers intact") {
    temp_dir dir;
    bytes payload(3 * 1000 * 1000);
    uint32_t state = 12345;  // a cheap LCG: incompressible enough to span many input buffers
    for (uint8_t & b : payload) b = uint8_t((state = state * 1664525u + 1013904223u) >> 24);
    write_gzip(dir.file("big.gz"), idx_bytes({3, 1000, 1000}, payload));
    const distill::idx_file f = distill::read_idx_file(dir.file("big.gz"));
    CHECK(f.dims == std::vector<int64_t>{3, 1000, 1000});
    CHECK(f.bytes == payload);
}

TEST_CASE("idx: a truncated payload names the file, the expected and the actual bytes") {
    temp_dir dir;
    bytes content = idx_bytes({3, 2, 2}, counting(12));  // 16 header + 12 data bytes
    content.resize(20);
    write_raw(dir.file("short"), content);
    write_gzip(dir.file("short.gz"), content);
    CHECK(invalid_message(dir.file("short")) ==
          dir.file("short").string() +
              ": truncated IDX file for dims [3, 2, 2]: expected 28 bytes, got 20");
    CHECK(invalid_message(dir.file("short.gz")) ==
          dir.file("short.gz").string() +
              ": truncated IDX file for dims [3, 2, 2]: expected 28 bytes (after gzip "
              "decompression), got 20");

    content.resize(9);  // cut inside the dims
    write_raw(dir.file("short-header"), content);
    CHECK(invalid_message(dir.file("short-header")) ==
          dir.file("short-header").string() + ": truncated IDX header: expected 16 bytes, got 9");
}

TEST_CASE("idx: trailing bytes after the payload are refused") {
    temp_dir dir;
    bytes content = idx_bytes({4}, {0, 1, 2, 3});
    content.insert(content.end(), {9, 9, 9});
    write_raw(dir.file("long"), content);
    write_gzip(dir.file("long.gz"), content);
    CHECK(invalid_message(dir.file("long")) ==
          dir.file("long").string() +
              ": trailing bytes after the IDX data for dims [4]: expected 12 bytes, got 15");
    CHECK(invalid_message(dir.file("long.gz")) ==
          dir.file("long.gz").string() +
              ": trailing bytes after the IDX data for dims [4]: expected 12 bytes (after gzip "
              "decompression), got 15");
}

TEST_CASE("idx: a wrong magic, type or dims is refused") {
    temp_dir dir;
    const auto message_for = [&](const bytes & content) {
        write_raw(dir.file("f"), content);
        return invalid_message(dir.file("f"));
    };
    const std::string name = dir.file("f").string();
    CHECK(message_for({}) == name + ": not an IDX file: expected at least 4 bytes, got 0");
    CHECK(message_for({'P', 'K', 3, 4, 0, 0}) ==
          name + ": not an IDX file: expected a magic starting 0x00 0x00, got 0x50 0x4B");
    CHECK(message_for(idx_bytes({1}, {0}, 0x42)) ==
          name +
              ": not an IDX file: expected an element type code among 0x08, 0x09, 0x0B, "
              "0x0C, 0x0D, 0x0E, got 0x42");
    CHECK(message_for(idx_bytes({}, {})) ==
          name + ": expected an IDX file with at least 1 dimension, got 0");
    CHECK(message_for(idx_bytes({5, 0, 3}, {})) ==
          name + ": expected every IDX dimension > 0, got dims [5, 0]...");
    CHECK(message_for(idx_bytes({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {})) ==
          name + ": IDX dims [4294967295, 4294967295]... hold more elements than fit in memory");
    // A header that promises far more than the file holds: refused once the
    // bytes run out, without allocating what the header claims (4 TB here).
    CHECK(message_for(idx_bytes({1000000, 2000, 2000}, counting(100))) ==
          name +
              ": truncated IDX file for dims [1000000, 2000, 2000]: expected 4000000000016 "
              "bytes, got 116");

    write_raw(dir.file("floats"), idx_bytes({1}, {0, 0, 0, 0}, 0x0D));
    const auto [code, message] = read_error(dir.file("floats"));
    CHECK(code == distill::status::unsupported);
    CHECK(message == dir.file("floats").string() +
                         ": expected IDX elements of type 0x08 (unsigned byte), got 0x0D "
                         "(float32), which is not supported");
}

TEST_CASE("idx: a corrupt, truncated or padded gzip stream is refused") {
    temp_dir dir;
    write_gzip(dir.file("good.gz"), idx_bytes({2, 50}, counting(100)));
    const bytes good = read_raw(dir.file("good.gz"));
    REQUIRE(good.size() > 30);

    bytes bad_crc = good;
    bad_crc[bad_crc.size() - 8] ^= 0xFF;  // the CRC-32 in the 8-byte trailer
    write_raw(dir.file("bad-crc.gz"), bad_crc);
    std::string message = invalid_message(dir.file("bad-crc.gz"));
    CHECK(message.rfind(
              dir.file("bad-crc.gz").string() + ": corrupt gzip data at compressed offset", 0) ==
          0);
    CHECK(message.find("incorrect data check") != std::string::npos);

    bytes bad_method = good;
    bad_method[2] = 7;  // compression method: only 8 (deflate) exists
    write_raw(dir.file("bad-method.gz"), bad_method);
    message = invalid_message(dir.file("bad-method.gz"));
    CHECK(message.find(": corrupt gzip data at compressed offset") != std::string::npos);
    CHECK(message.find("unknown compression method") != std::string::npos);

    const bytes cut(good.begin(), good.begin() + long(good.size() / 2));
    write_raw(dir.file("cut.gz"), cut);
    CHECK(invalid_message(dir.file("cut.gz")) ==
          dir.file("cut.gz").string() + ": truncated gzip stream: the file ends after " +
              std::to_string(cut.size()) + " compressed bytes, before the end of the stream");

    bytes padded = good;
    padded.insert(padded.end(), {0, 0, 0, 0});
    write_raw(dir.file("padded.gz"), padded);
    CHECK(invalid_message(dir.file("padded.gz")) ==
          dir.file("padded.gz").string() +
              ": unexpected bytes after the end of the gzip stream (at compressed offset " +
              std::to_string(good.size()) +
              "); expected the end of the file or another gzip member");
}

TEST_CASE("idx: a missing file or a directory is refused") {
    temp_dir dir;
    const auto [absent_code, absent] = read_error(dir.file("absent"));
    CHECK(absent_code == distill::status::not_found);
    CHECK(absent ==
          "opening '" + dir.file("absent").string() + "' failed: No such file or directory");
    const auto [directory_code, directory] = read_error(dir.path());
    CHECK(directory_code == distill::status::io_error);
    CHECK(directory == "opening '" + dir.path().string() + "' failed: Is a directory");
}
