// Packing and unpacking the positions/embeddings blobs (formats in the header).
#include "store/position_codec.h"

#include <bit>
#include <cstring>

#include "store/blob_io.h"

namespace distill {

std::vector<token_position> decode_positions_format1(blob_io::reader & r);

namespace {

using blob_io::reader;
using blob_io::writer;

constexpr uint32_t positions_format = 2;
constexpr uint32_t embeddings_format = 1;
// zstd's default level: the columns are already packed, so higher levels
// gain little (bench/teacher_store_bench.cpp: 77.5 bytes per token at level
// 3, 77.4 at 9, 77.0 at 19) for several times the CPU.
constexpr int zstd_level = 3;

uint16_t fp16_bits(float value) { return std::bit_cast<uint16_t>(_Float16(value)); }

// A token (its vocabulary id, -1 when unknown, and its text) as one
// varint. In a record whose tokens all lack ids (OpenAI's): the number of
// its text. Otherwise 2·t for a token without id whose text is entry t,
// 2·t + 1 for one with an id, entry t then being "i32 id ‖ text": a server
// that gives ids gives the same text for an id, so the pair costs no more
// than the text alone.
class token_encoder {
public:
    token_encoder(token_texts & texts, bool with_ids) : texts_(texts), with_ids_(with_ids) {}
    uint64_t operator()(int32_t id, const std::string & text) const {
        if (!with_ids_) return texts_.id_of(text);
        if (id == -1) return texts_.id_of(text) << 1;
        std::string pair(sizeof id, '\0');
        std::memcpy(pair.data(), &id, sizeof id);
        return (texts_.id_of(pair + text) << 1) | 1;
    }

private:
    token_texts & texts_;
    bool with_ids_;
};

// The id and text of a token_encoder's code.
class token_decoder {
public:
    token_decoder(token_texts & texts, reader & r, bool with_ids)
        : texts_(texts), r_(r), with_ids_(with_ids) {}
    // Sets id and token (in place: no temporary string per entry).
    void operator()(uint64_t code, int32_t & id, std::string & token) const {
        id = -1;
        if (!with_ids_) return void(token.assign(text(code)));
        const std::string & entry = text(code >> 1);
        if ((code & 1) == 0) return void(token.assign(entry));
        if (entry.size() < sizeof id) r_.damaged("token entry shorter than its id");
        std::memcpy(&id, entry.data(), sizeof id);
        token.assign(entry, sizeof id);
    }
    const std::string & text(uint64_t id) const {
        const std::string * found = texts_.text_of(id);
        if (found == nullptr) r_.damaged("token text id not in the store's token_texts");
        return *found;
    }

private:
    token_texts & texts_;
    reader & r_;
    bool with_ids_;
};

// The index + 1 of the top-k entry that is the position's own token, or 0.
// Its stored value is fp16(p.logprob): the entry must round to the same
// fp16 (it does whether or not round_to_stored_precision ran before).
uint64_t chosen_code(const token_position & p) {
    for (size_t i = 0; i < p.top.size(); ++i) {
        const top_logprob & t = p.top[i];
        if (t.id == p.id && t.token == p.token && fp16_bits(t.logprob) == fp16_bits(p.logprob))
            return i + 1;
    }
    return 0;
}

}  // namespace

std::string encode_positions(const std::vector<token_position> & positions, token_texts & texts) {
    writer w;
    w.put(positions_format);
    w.put_varint(positions.size());
    bool with_ids = false;
    for (const token_position & p : positions) {
        with_ids = with_ids || p.id != -1;
        for (const top_logprob & t : p.top) with_ids = with_ids || t.id != -1;
    }
    w.put_varint(with_ids);
    const token_encoder token_code(texts, with_ids);
    std::vector<uint64_t> chosen(positions.size());
    for (size_t i = 0; i < positions.size(); ++i) chosen[i] = chosen_code(positions[i]);

    for (const token_position & p : positions) w.put_varint(p.top.size());
    for (const uint64_t code : chosen) w.put_varint(code);
    for (const token_position & p : positions)
        w.put_varint(p.bytes == p.token ? 0 : texts.id_of(p.bytes) + 1);
    for (size_t i = 0; i < positions.size(); ++i)
        if (chosen[i] == 0) w.put_varint(token_code(positions[i].id, positions[i].token));
    std::vector<float> logprobs;
    for (const token_position & p : positions) logprobs.push_back(p.logprob);
    w.put_planes(logprobs);

    for (const token_position & p : positions)
        for (const top_logprob & t : p.top) w.put_varint(token_code(t.id, t.token));
    std::vector<uint16_t> deltas;
    for (size_t i = 0; i < positions.size(); ++i) {
        uint16_t previous = 0;
        for (size_t k = 0; k < positions[i].top.size(); ++k) {
            const uint16_t bits = fp16_bits(positions[i].top[k].logprob);
            if (k + 1 != chosen[i]) deltas.push_back(uint16_t(bits - previous));
            previous = bits;
        }
    }
    w.put_planes(deltas);
    return blob_io::compress(w.bytes(), zstd_level);
}

std::vector<token_position> decode_positions(const std::string & blob, token_texts & texts,
                                             const std::string & what) {
    const std::string raw = blob_io::decompress(blob, what);
    reader r(raw, what);
    const uint32_t format = r.get<uint32_t>();
    if (format == 1) return decode_positions_format1(r);
    if (format != positions_format) r.damaged("unknown positions format");

    // At least 7 bytes a position and 1 an entry (its token varint): a
    // damaged count is refused before anything that size is allocated.
    std::vector<token_position> positions(r.get_varint_count(7));
    const uint64_t with_ids = r.get_varint();
    if (with_ids > 1) r.damaged("ids flag neither 0 nor 1");
    const token_decoder token(texts, r, with_ids == 1);
    std::vector<uint64_t> top_sizes(positions.size());
    uint64_t total_k = 0;
    for (uint64_t & k : top_sizes) {
        k = r.get_varint();
        if (k > r.remaining() || (total_k += k) > r.remaining())
            r.damaged("top-k sizes past the end");
    }
    for (size_t i = 0; i < positions.size(); ++i) positions[i].top.resize(top_sizes[i]);
    std::vector<uint64_t> chosen(positions.size());
    for (size_t i = 0; i < positions.size(); ++i) {
        chosen[i] = r.get_varint();
        if (chosen[i] > positions[i].top.size()) r.damaged("chosen entry past the top-k list");
    }
    std::vector<uint64_t> bytes(positions.size());
    for (uint64_t & b : bytes) b = r.get_varint();
    for (size_t i = 0; i < positions.size(); ++i)
        if (chosen[i] == 0) token(r.get_varint(), positions[i].id, positions[i].token);
    const std::vector<float> logprobs = r.get_planes<float>(positions.size());
    for (size_t i = 0; i < positions.size(); ++i) positions[i].logprob = logprobs[i];

    for (token_position & p : positions)
        for (top_logprob & t : p.top) token(r.get_varint(), t.id, t.token);
    size_t derived = 0;
    for (const uint64_t code : chosen) derived += code != 0;
    const std::vector<uint16_t> deltas = r.get_planes<uint16_t>(total_k - derived);
    size_t next = 0;
    for (size_t i = 0; i < positions.size(); ++i) {
        token_position & p = positions[i];
        uint16_t previous = 0;
        for (size_t k = 0; k < p.top.size(); ++k) {
            const uint16_t bits =
                k + 1 == chosen[i] ? fp16_bits(p.logprob) : uint16_t(previous + deltas[next++]);
            p.top[k].logprob = float(std::bit_cast<_Float16>(bits));
            previous = bits;
        }
        if (chosen[i] != 0) {
            const top_logprob & t = p.top[chosen[i] - 1];
            p.token = t.token;
            p.id = t.id;
        }
        p.bytes = bytes[i] == 0 ? p.token : token.text(bytes[i] - 1);
    }
    r.expect_end();
    return positions;
}

std::string encode_embeddings(const std::vector<std::vector<float>> & embeddings) {
    writer w;
    w.put(embeddings_format);
    w.put(uint32_t(embeddings.size()));
    for (const std::vector<float> & e : embeddings) {
        w.put(uint32_t(e.size()));
        for (float v : e) w.put(v);
    }
    return blob_io::compress(w.bytes(), zstd_level);
}

std::vector<std::vector<float>> decode_embeddings(const std::string & blob,
                                                  const std::string & what) {
    const std::string raw = blob_io::decompress(blob, what);
    reader r(raw, what);
    if (r.get<uint32_t>() != embeddings_format) r.damaged("unknown embeddings format");
    std::vector<std::vector<float>> embeddings(r.get_count(4));
    for (std::vector<float> & e : embeddings) {
        e.resize(r.get_count(4));
        for (float & v : e) v = r.get<float>();
    }
    r.expect_end();
    return embeddings;
}

}  // namespace distill
