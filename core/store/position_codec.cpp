// Packing and unpacking the positions/embeddings blobs (format in the header).
#include "store/position_codec.h"

#include <bit>
#include <cstring>
#include <unordered_map>

#include <zstd.h>

#include "common/error.h"

namespace distill {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the blob format is little-endian; add byte swaps for this host");

constexpr uint32_t format_version = 1;
// zstd level 3: its default, ~300 MB/s; higher levels gain little on
// already-packed numbers.
constexpr int zstd_level = 3;
// No record comes near this; a bigger declared size is a damaged frame.
constexpr unsigned long long max_blob_size = 1ull << 30;

class writer {
public:
    template <class T>
    void put(T value) {
        const char * p = reinterpret_cast<const char *>(&value);
        bytes_.append(p, sizeof(T));
    }
    void put_varint(uint64_t value) {
        while (value >= 0x80) {
            bytes_.push_back(char(uint8_t(value) | 0x80));
            value >>= 7;
        }
        bytes_.push_back(char(value));
    }
    void put_short_string(const std::string & s) {
        put_varint(s.size());
        bytes_ += s;
    }
    const std::string & bytes() const { return bytes_; }

private:
    std::string bytes_;
};

class reader {
public:
    reader(const std::string & bytes, const std::string & what) : bytes_(bytes), what_(what) {}
    template <class T>
    T get() {
        need(sizeof(T));
        T value;
        std::memcpy(&value, bytes_.data() + offset_, sizeof(T));
        offset_ += sizeof(T);
        return value;
    }
    uint64_t get_varint() {
        uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const uint8_t byte = get<uint8_t>();
            value |= uint64_t(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return value;
        }
        damaged("varint too long");
    }
    std::string get_short_string() {
        const uint64_t size = get_varint();
        need(size);
        std::string s = bytes_.substr(offset_, size);
        offset_ += size;
        return s;
    }
    // A varint count, refused as get_count below is.
    uint64_t get_varint_count(size_t min_size) {
        const uint64_t count = get_varint();
        if (count > (bytes_.size() - offset_) / min_size) damaged("count past the end");
        return count;
    }
    // A count read from the blob, refused when the rest of the blob could not
    // hold that many items of at least `min_size` bytes (no huge allocation
    // from a damaged count).
    uint32_t get_count(size_t min_size) {
        const uint32_t count = get<uint32_t>();
        if (uint64_t(count) * min_size > bytes_.size() - offset_) damaged("count past the end");
        return count;
    }
    void expect_end() const {
        if (offset_ != bytes_.size()) damaged("trailing bytes");
    }
    [[noreturn]] void damaged(const char * why) const {
        throw error(status::internal, what_ + ": damaged blob (" + why + ")");
    }

private:
    void need(size_t size) const {
        if (bytes_.size() - offset_ < size) damaged("truncated");
    }
    const std::string & bytes_;
    const std::string & what_;
    size_t offset_ = 0;
};

std::string compress(const std::string & raw) {
    std::string out(ZSTD_compressBound(raw.size()), '\0');
    const size_t size = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), zstd_level);
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

}  // namespace

namespace {

// The distinct strings of a blob, each written once and referred to by index.
class string_table {
public:
    uint64_t index(const std::string & s) {
        const auto [it, added] = indices_.try_emplace(s, strings_.size());
        if (added) strings_.push_back(&it->first);
        return it->second;
    }
    void write(writer & w) const {
        w.put_varint(strings_.size());
        for (const std::string * s : strings_) w.put_short_string(*s);
    }

private:
    std::unordered_map<std::string, uint64_t> indices_;
    std::vector<const std::string *> strings_;  // into indices_' keys (stable)
};

}  // namespace

std::string encode_positions(const std::vector<token_position> & positions) {
    string_table strings;
    writer columns;
    for (const token_position & p : positions) columns.put(p.id);
    for (const token_position & p : positions) columns.put(p.logprob);
    for (const token_position & p : positions) columns.put_varint(strings.index(p.token));
    for (const token_position & p : positions) columns.put_varint(strings.index(p.bytes));
    for (const token_position & p : positions) columns.put_varint(p.top.size());
    for (const token_position & p : positions)
        for (const top_logprob & t : p.top) columns.put(t.id);
    for (const token_position & p : positions)
        for (const top_logprob & t : p.top)
            columns.put(std::bit_cast<uint16_t>(_Float16(t.logprob)));
    for (const token_position & p : positions)
        for (const top_logprob & t : p.top) columns.put_varint(strings.index(t.token));

    writer w;
    w.put(format_version);
    strings.write(w);
    w.put_varint(positions.size());
    return compress(w.bytes() + columns.bytes());
}

std::vector<token_position> decode_positions(const std::string & blob, const std::string & what) {
    const std::string raw = decompress(blob, what);
    reader r(raw, what);
    if (r.get<uint32_t>() != format_version) r.damaged("unknown positions format");
    std::vector<std::string> strings(r.get_varint_count(1));
    for (std::string & s : strings) s = r.get_short_string();
    auto string_at = [&](uint64_t index) -> const std::string & {
        if (index >= strings.size()) r.damaged("string index past the table");
        return strings[index];
    };

    std::vector<token_position> positions(r.get_varint_count(11));
    for (token_position & p : positions) p.id = r.get<int32_t>();
    for (token_position & p : positions) p.logprob = r.get<float>();
    for (token_position & p : positions) p.token = string_at(r.get_varint());
    for (token_position & p : positions) p.bytes = string_at(r.get_varint());
    for (token_position & p : positions) p.top.resize(r.get_varint_count(7));
    for (token_position & p : positions)
        for (top_logprob & t : p.top) t.id = r.get<int32_t>();
    for (token_position & p : positions)
        for (top_logprob & t : p.top) t.logprob = float(std::bit_cast<_Float16>(r.get<uint16_t>()));
    for (token_position & p : positions)
        for (top_logprob & t : p.top) t.token = string_at(r.get_varint());
    r.expect_end();
    return positions;
}

std::string encode_embeddings(const std::vector<std::vector<float>> & embeddings) {
    writer w;
    w.put(format_version);
    w.put(uint32_t(embeddings.size()));
    for (const std::vector<float> & e : embeddings) {
        w.put(uint32_t(e.size()));
        for (float v : e) w.put(v);
    }
    return compress(w.bytes());
}

std::vector<std::vector<float>> decode_embeddings(const std::string & blob,
                                                  const std::string & what) {
    const std::string raw = decompress(blob, what);
    reader r(raw, what);
    if (r.get<uint32_t>() != format_version) r.damaged("unknown embeddings format");
    std::vector<std::vector<float>> embeddings(r.get_count(4));
    for (std::vector<float> & e : embeddings) {
        e.resize(r.get_count(4));
        for (float & v : e) v = r.get<float>();
    }
    r.expect_end();
    return embeddings;
}

}  // namespace distill
