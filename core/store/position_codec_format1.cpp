// Reading positions blobs of format 1, written by schema version 1 stores
// (position_codec.h): kept so that a store migrated to a newer schema still
// reads every record it held.
#include <bit>
#include <string>
#include <vector>

#include "store/blob_io.h"
#include "teachers/teacher_record.h"

namespace distill {

// The rest of a format 1 blob, after its u32 format.
std::vector<token_position> decode_positions_format1(blob_io::reader & r) {
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

}  // namespace distill
