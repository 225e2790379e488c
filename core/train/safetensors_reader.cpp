// The validating safetensors reader (format in safetensors.h). The order of
// the checks is the order of the file: the size prefix, the header's JSON,
// each entry's fields, then the layout of the data buffer as a whole.
#include "train/safetensors.h"

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/file_error.h"

#include <algorithm>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

namespace distill {
namespace {

using nlohmann::json;

// The Python package's limit too: a bigger header is not a real file.
constexpr uint64_t max_header_bytes = 100'000'000;

// Every refusal is corrupt_file: the bytes always come from a file.
[[noreturn]] void refuse(const std::string & source, const std::string & message) {
    fail_corrupt("safetensors file '" + source + "': " + message);
}

std::string json_type(const json & value) { return value.type_name(); }

// The JSON header into a DOM, refusing what the DOM would hide: a name twice
// (nlohmann keeps the last one), a field twice within an entry, and nesting
// deeper than the format has (top object > entry > shape array), which also
// bounds the work done on a hostile header.
json parse_header(std::string_view text, const std::string & source) {
    std::string problem;
    std::set<std::string> names;
    std::set<std::string> entry_fields;
    std::string current_name;
    auto check = [&](int depth, json::parse_event_t event, json & parsed) {
        if (!problem.empty()) return false;
        const bool opens =
            event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
        if (opens && depth >= 3) {
            problem =
                "expected header nesting of at most 3 levels (object, entry, shape), got "
                "deeper nesting under '" +
                current_name + "'";
            return false;
        }
        if (event == json::parse_event_t::key && depth == 1) {
            current_name = parsed.get<std::string>();
            if (!names.insert(current_name).second)
                problem = "expected unique tensor names, got '" + current_name + "' twice";
            entry_fields.clear();
        } else if (event == json::parse_event_t::key && depth == 2) {
            const std::string field = parsed.get<std::string>();
            if (!entry_fields.insert(field).second)
                problem = "entry '" + current_name + "': expected each key once, got '" + field +
                          "' twice";
        }
        return problem.empty();
    };
    json header;
    try {
        header = json::parse(text.begin(), text.end(), check);
    } catch (const json::exception & e) {  // a syntax error, or a number out of range
        refuse(source, std::string("expected a JSON header, got invalid JSON (") + e.what() + ")");
    }
    if (!problem.empty()) refuse(source, problem);
    return header;
}

uint64_t read_offset(const json & value, const std::string & source, const std::string & name) {
    if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<int64_t>() >= 0))
        refuse(source, "entry '" + name +
                           "': expected data_offsets of non-negative integers, got " +
                           value.dump());
    return value.get<uint64_t>();
}

struct entry_layout {
    uint64_t begin, end;
    size_t index;  // into the tensors, in header order
};

safetensors_tensor read_entry(const std::string & name, const json & entry,
                              const std::string & source, uint64_t buffer_size,
                              entry_layout & layout) {
    const std::string where = "entry '" + name + "'";
    if (!entry.is_object())
        refuse(source, where + ": expected an object {dtype, shape, data_offsets}, got " +
                           json_type(entry));
    for (const auto & [key, value] : entry.items())
        if (key != "dtype" && key != "shape" && key != "data_offsets")
            refuse(source, where + ": expected only the keys dtype, shape, data_offsets, got '" +
                               key + "'");
    for (const char * key : {"dtype", "shape", "data_offsets"})
        if (!entry.contains(key)) refuse(source, where + ": expected a '" + key + "' field");

    const json & dtype_field = entry["dtype"];
    if (!dtype_field.is_string())
        refuse(source, where + ": expected dtype to be a string, got " + json_type(dtype_field));
    const std::string dtype_name = dtype_field.get<std::string>();
    const std::optional<safetensors_dtype> dtype = safetensors_dtype_from_name(dtype_name);
    if (!dtype)
        refuse(source, where +
                           ": expected a dtype among BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, "
                           "U16, F16, BF16, I32, U32, F32, I64, U64, F64, got '" +
                           dtype_name + "'");

    const json & shape_field = entry["shape"];
    if (!shape_field.is_array())
        refuse(source, where + ": expected shape to be an array, got " + json_type(shape_field));
    safetensors_tensor tensor{name, *dtype, {}, {}};
    for (const json & dim : shape_field) {
        if (dim.is_number_integer() && dim.get<int64_t>() < 0)
            refuse(source,
                   where + ": expected non-negative dimensions, got shape " + shape_field.dump());
        if (!dim.is_number_integer() ||
            (dim.is_number_unsigned() &&
             dim.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())))
            refuse(source, where + ": expected shape to hold integers below 2^63, got " +
                               shape_field.dump());
        tensor.shape.push_back(dim.get<int64_t>());
    }
    uint64_t count = 0;
    try {
        count =
            safetensors_element_count(tensor.shape, "safetensors file '" + source + "': " + where);
    } catch (const error & e) {  // a shape too big: damage in the file, not a bad argument
        fail_corrupt(e.what());
    }

    const json & offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2)
        refuse(source, where + ": expected data_offsets to be [begin, end], got " + offsets.dump());
    layout.begin = read_offset(offsets[0], source, name);
    layout.end = read_offset(offsets[1], source, name);
    if (layout.begin > layout.end)
        refuse(source, where + ": expected data_offsets [begin, end] with begin <= end, got " +
                           offsets.dump());
    const size_t element = safetensors_dtype_size(*dtype);
    if (count > std::numeric_limits<uint64_t>::max() / element ||
        layout.end - layout.begin != count * element)
        refuse(source, where + ": expected " + std::to_string(count) + " elements × " +
                           std::to_string(element) + " bytes (" + dtype_name + ", shape " +
                           shape_field.dump() + ") between data_offsets, got " +
                           std::to_string(layout.end - layout.begin) + " bytes");
    if (layout.end > buffer_size)
        refuse(source, where + ": expected data within the file's " + std::to_string(buffer_size) +
                           "-byte data buffer, got data_offsets " + offsets.dump() +
                           " (data past the end of the file)");
    return tensor;
}

safetensors_metadata read_metadata(const json & field, const std::string & source) {
    if (!field.is_object())
        refuse(source, "expected __metadata__ to be an object of strings, got " + json_type(field));
    safetensors_metadata metadata;
    for (const auto & [key, value] : field.items()) {
        if (!value.is_string())
            refuse(source,
                   "__metadata__ '" + key + "': expected a string value, got " + json_type(value));
        metadata.emplace(key, value.get<std::string>());
    }
    return metadata;
}

}  // namespace

safetensors_contents parse_safetensors(std::span<const std::byte> file,
                                       const std::string & source) {
    if (file.size() < 8)
        refuse(source, "expected at least 8 bytes (the header size), got " +
                           std::to_string(file.size()) + " bytes");
    uint64_t header_size = 0;
    for (int i = 0; i < 8; ++i) header_size |= uint64_t(file[size_t(i)]) << (8 * i);
    if (header_size > max_header_bytes)
        refuse(source, "expected a header of at most " + std::to_string(max_header_bytes) +
                           " bytes, got a header size of " + std::to_string(header_size));
    if (header_size > file.size() - 8)
        refuse(source, "expected a header of at most the " + std::to_string(file.size() - 8) +
                           " bytes after the size prefix, got a header size of " +
                           std::to_string(header_size) + " (file truncated?)");
    const std::string_view text(reinterpret_cast<const char *>(file.data()) + 8,
                                size_t(header_size));
    const uint64_t buffer_size = file.size() - 8 - header_size;
    const std::byte * buffer = file.data() + 8 + header_size;

    const json header = parse_header(text, source);
    if (!header.is_object())
        refuse(source, "expected a JSON object header, got " + json_type(header));

    safetensors_contents contents;
    std::vector<entry_layout> layouts;
    for (const auto & [name, entry] : header.items()) {
        if (name == "__metadata__") {
            contents.metadata = read_metadata(entry, source);
            continue;
        }
        if (name.empty()) refuse(source, "expected non-empty tensor names, got \"\"");
        entry_layout layout{0, 0, contents.tensors.size()};
        contents.tensors.push_back(read_entry(name, entry, source, buffer_size, layout));
        layouts.push_back(layout);
    }

    // Sorted by offset, each tensor starts where the previous one ended:
    // no overlap, no gap, and the last one ends at the end of the buffer.
    std::sort(layouts.begin(), layouts.end(), [](const entry_layout & a, const entry_layout & b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t expected_begin = 0;
    std::string previous = "the start of the data buffer";
    for (const entry_layout & layout : layouts) {
        const std::string & name = contents.tensors[layout.index].name;
        if (layout.begin < expected_begin)
            refuse(source, "entry '" + name + "': expected data_offsets starting at " +
                               std::to_string(expected_begin) + " (after " + previous + "), got " +
                               std::to_string(layout.begin) + " (overlapping tensors)");
        if (layout.begin > expected_begin)
            refuse(source, "entry '" + name + "': expected data_offsets starting at " +
                               std::to_string(expected_begin) + " (after " + previous + "), got " +
                               std::to_string(layout.begin) + " (a gap in the data buffer)");
        expected_begin = layout.end;
        previous = "tensor '" + name + "'";
    }
    if (expected_begin != buffer_size)
        refuse(source, "expected the tensors to cover the " + std::to_string(buffer_size) +
                           "-byte data buffer exactly, got " + std::to_string(expected_begin) +
                           " bytes covered (unreferenced bytes at the end)");

    std::vector<safetensors_tensor> ordered;
    ordered.reserve(layouts.size());
    for (const entry_layout & layout : layouts) {
        safetensors_tensor & tensor = contents.tensors[layout.index];
        tensor.data = std::span<const std::byte>(buffer + layout.begin, layout.end - layout.begin);
        ordered.push_back(std::move(tensor));
    }
    contents.tensors = std::move(ordered);
    return contents;
}

safetensors_file safetensors_file::from_bytes(std::string bytes, const std::string & source) {
    safetensors_file file;
    file.source_ = source;
    file.bytes_ = std::make_unique<const std::string>(std::move(bytes));
    file.contents_ = parse_safetensors(std::as_bytes(std::span(*file.bytes_)), source);
    return file;
}

safetensors_file safetensors_file::read(const std::filesystem::path & path) {
    return from_bytes(read_whole_file(path), path.string());
}

const safetensors_tensor * safetensors_file::find(std::string_view name) const {
    for (const safetensors_tensor & tensor : contents_.tensors)
        if (tensor.name == name) return &tensor;
    return nullptr;
}

const safetensors_tensor & safetensors_file::at(std::string_view name) const {
    if (const safetensors_tensor * tensor = find(name)) return *tensor;
    refuse(source_, "expected a tensor named '" + std::string(name) + "', found none");
}

}  // namespace distill
