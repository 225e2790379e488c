#include "students/model_config.h"

#include <algorithm>
#include <string>

#include "common/error.h"

namespace distill {
namespace {

using nlohmann::json;

[[noreturn]] void fail_field(const std::string & field, const std::string & expected,
                             const json & got) {
    fail_invalid("model config: \"" + field + "\": expected " + expected + ", got " + got.dump());
}

// An integer in [low, high]; 784.0 and "784" are refused, not converted.
int64_t integer_field(const json & value, const std::string & field, int64_t low, int64_t high) {
    const std::string expected =
        "an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "]";
    if (!value.is_number_integer()) fail_field(field, expected, value);
    if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(high))
        fail_field(field, expected, value);
    const int64_t v = value.get<int64_t>();
    if (v < low || v > high) fail_field(field, expected, value);
    return v;
}

const json & required(const json & object, const std::string & key, const std::string & field) {
    const auto it = object.find(key);
    if (it == object.end()) fail_invalid("model config: \"" + field + "\" is missing");
    return *it;
}

void refuse_unknown_keys(const json & object, const std::vector<std::string> & known,
                         const std::string & where) {
    for (const auto & [key, value] : object.items()) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        std::string list;
        for (const std::string & k : known) list += (list.empty() ? "" : ", ") + k;
        fail_invalid("model config: unknown key \"" + key + "\"" + where +
                     " (expected one of: " + list + ")");
    }
}

template <class Enum>
Enum enum_field(const json & object, const std::string & key, Enum fallback,
                const std::vector<std::pair<std::string, Enum>> & names) {
    const auto it = object.find(key);
    if (it == object.end()) return fallback;
    std::string expected;
    for (const auto & [name, value] : names)
        expected += (expected.empty() ? "" : " or ") + ('"' + name + '"');
    if (it->is_string())
        for (const auto & [name, value] : names)
            if (it->get<std::string>() == name) return value;
    fail_field(key, expected, *it);
}

const std::vector<std::pair<std::string, model_kind>> kind_names = {{"mlp", model_kind::mlp},
                                                                    {"cnn", model_kind::cnn}};
const std::vector<std::pair<std::string, activation_kind>> activation_names = {
    {"relu", activation_kind::relu}, {"gelu", activation_kind::gelu}};
const std::vector<std::pair<std::string, output_kind>> output_names = {
    {"logits", output_kind::logits}, {"embedding", output_kind::embedding}};

template <class Enum>
std::string name_of(Enum value, const std::vector<std::pair<std::string, Enum>> & names) {
    for (const auto & [name, v] : names)
        if (v == value) return name;
    throw error(status::internal, "model config: an enum value without a name");
}

std::vector<conv_layer_config> parse_conv(const json & list) {
    if (!list.is_array() || list.empty()) fail_field("conv", "a non-empty array of objects", list);
    std::vector<conv_layer_config> layers;
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string field = "conv[" + std::to_string(i) + "]";
        const json & item = list[i];
        if (!item.is_object())
            fail_field(field, R"(an object {"channels": …, "kernel": …, "padding": …})", item);
        refuse_unknown_keys(item, {"channels", "kernel", "padding"}, " in " + field);
        conv_layer_config layer;
        layer.channels = integer_field(required(item, "channels", field + ".channels"),
                                       field + ".channels", 1, max_layer_width);
        layer.kernel = integer_field(required(item, "kernel", field + ".kernel"), field + ".kernel",
                                     1, max_kernel);
        if (item.contains("padding"))
            layer.padding = integer_field(item["padding"], field + ".padding", 0, layer.kernel - 1);
        layers.push_back(layer);
    }
    return layers;
}

// Parameters and per-sample activations, counted layer by layer so that no
// product can overflow before it is compared with the limit.
void check_sizes(const model_config & c) {
    int64_t total = 0, width = c.inputs;
    const auto add = [&](int64_t count, const std::string & field) {
        total += count;
        if (total > max_model_parameters)
            fail_invalid("model config: \"" + field + "\" brings the parameter count to " +
                         std::to_string(total) + ", expected at most " +
                         std::to_string(max_model_parameters));
    };
    if (c.kind == model_kind::cnn) {
        int64_t channels = c.input_shape[0], height = c.input_shape[1], width2 = c.input_shape[2];
        for (size_t i = 0; i < c.conv.size(); ++i) {
            const conv_layer_config & layer = c.conv[i];
            const std::string field = "conv[" + std::to_string(i) + "]";
            const int64_t out_h = height + 2 * layer.padding - layer.kernel + 1;
            const int64_t out_w = width2 + 2 * layer.padding - layer.kernel + 1;
            if (out_h < 2 || out_w < 2)
                fail_invalid("model config: \"" + field + "\": kernel " +
                             std::to_string(layer.kernel) + " with padding " +
                             std::to_string(layer.padding) + " turns " + std::to_string(height) +
                             "x" + std::to_string(width2) + " pixels into " +
                             std::to_string(out_h) + "x" + std::to_string(out_w) +
                             ", expected at least 2x2 for the 2x2 max pool");
            if (out_h * out_w > max_model_parameters / layer.channels)
                fail_invalid("model config: \"" + field + "\": " + std::to_string(layer.channels) +
                             " channels of " + std::to_string(out_h) + "x" + std::to_string(out_w) +
                             " pixels, expected at most 2^31 - 1 values");
            add(layer.channels * (channels * layer.kernel * layer.kernel + 1), field);
            channels = layer.channels;
            height = out_h / 2;
            width2 = out_w / 2;
        }
        width = channels * height * width2;
    }
    for (size_t i = 0; i < c.hidden.size(); ++i) {
        add(c.hidden[i] * (width + 1), "hidden[" + std::to_string(i) + "]");
        width = c.hidden[i];
    }
    add(c.outputs * (width + 1), "outputs");
}

}  // namespace

model_config parse_model_config(const json & j) {
    if (!j.is_object()) fail_field("(config)", "a JSON object", j);
    model_config c;
    required(j, "kind", "kind");
    c.kind = enum_field(j, "kind", model_kind::mlp, kind_names);
    if (c.kind == model_kind::mlp) {
        refuse_unknown_keys(
            j, {"kind", "inputs", "hidden", "activation", "dropout", "outputs", "output"},
            " for kind \"mlp\"");
        c.inputs = integer_field(required(j, "inputs", "inputs"), "inputs", 1, max_layer_width);
    } else {
        refuse_unknown_keys(
            j,
            {"kind", "input_shape", "conv", "hidden", "activation", "dropout", "outputs", "output"},
            " for kind \"cnn\"");
        const json & shape = required(j, "input_shape", "input_shape");
        if (!shape.is_array() || shape.size() != 3)
            fail_field("input_shape", "[channels, height, width]", shape);
        for (size_t i = 0; i < 3; ++i)
            c.input_shape[i] = integer_field(shape[i], "input_shape[" + std::to_string(i) + "]", 1,
                                             max_layer_width);
        if (c.input_shape[0] * c.input_shape[1] > max_model_parameters / c.input_shape[2])
            fail_field("input_shape", "at most 2^31 - 1 values per sample", shape);
        c.inputs = c.input_shape[0] * c.input_shape[1] * c.input_shape[2];
        c.conv = parse_conv(required(j, "conv", "conv"));
    }
    if (j.contains("hidden")) {
        const json & hidden = j["hidden"];
        if (!hidden.is_array()) fail_field("hidden", "an array of layer widths", hidden);
        if (hidden.size() > 1024) fail_field("hidden", "at most 1024 layers", hidden.size());
        for (size_t i = 0; i < hidden.size(); ++i)
            c.hidden.push_back(
                integer_field(hidden[i], "hidden[" + std::to_string(i) + "]", 1, max_layer_width));
    }
    c.activation = enum_field(j, "activation", activation_kind::relu, activation_names);
    if (j.contains("dropout")) {
        const json & p = j["dropout"];
        if (!p.is_number() || !(p.get<double>() >= 0.0 && p.get<double>() < 1.0))
            fail_field("dropout", "a number in [0, 1)", p);
        c.dropout = p.get<double>();
    }
    c.outputs = integer_field(required(j, "outputs", "outputs"), "outputs", 1, max_layer_width);
    c.output = enum_field(j, "output", output_kind::logits, output_names);
    check_sizes(c);
    return c;
}

json to_json(const model_config & c) {
    json j = json::object();
    j["kind"] = name_of(c.kind, kind_names);
    if (c.kind == model_kind::mlp) {
        j["inputs"] = c.inputs;
    } else {
        j["input_shape"] = c.input_shape;
        json conv = json::array();
        for (const conv_layer_config & layer : c.conv)
            conv.push_back({{"channels", layer.channels},
                            {"kernel", layer.kernel},
                            {"padding", layer.padding}});
        j["conv"] = conv;
    }
    j["hidden"] = c.hidden;
    j["activation"] = name_of(c.activation, activation_names);
    j["dropout"] = c.dropout;
    j["outputs"] = c.outputs;
    j["output"] = name_of(c.output, output_names);
    return j;
}

std::array<int64_t, 3> cnn_feature_shape(const model_config & c) {
    std::array<int64_t, 3> shape = c.input_shape;
    for (const conv_layer_config & layer : c.conv) {
        shape[0] = layer.channels;
        shape[1] = (shape[1] + 2 * layer.padding - layer.kernel + 1) / 2;
        shape[2] = (shape[2] + 2 * layer.padding - layer.kernel + 1) / 2;
    }
    return shape;
}

int64_t model_parameter_count(const model_config & c) {
    int64_t total = 0, width = c.inputs, channels = c.input_shape[0];
    if (c.kind == model_kind::cnn) {
        for (const conv_layer_config & layer : c.conv) {
            total += layer.channels * (channels * layer.kernel * layer.kernel + 1);
            channels = layer.channels;
        }
        const std::array<int64_t, 3> shape = cnn_feature_shape(c);
        width = shape[0] * shape[1] * shape[2];
    }
    for (int64_t h : c.hidden) {
        total += h * (width + 1);
        width = h;
    }
    return total + c.outputs * (width + 1);
}

}  // namespace distill
