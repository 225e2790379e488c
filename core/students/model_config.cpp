#include "students/model_config.h"

#include <algorithm>
#include <string>

#include "common/error.h"
#include "common/json_fields.h"

namespace distill {
namespace {

using json_fields::element_name;
using json_fields::fail_field;
using json_fields::field_name;
using json_fields::integer_in;
using json_fields::required;
using nlohmann::json;

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

std::string width_range(int64_t low, int64_t high) {
    return "an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "]";
}

// An integer field in [low, high], refused as missing when absent.
int64_t required_integer(const json & object, const char * key, const std::string & what,
                         int64_t low, int64_t high) {
    return integer_in(required(object, key, what, width_range(low, high)), field_name(what, key),
                      low, high);
}

std::vector<conv_layer_config> parse_conv(const json & list, const std::string & name) {
    if (!list.is_array() || list.empty()) fail_field(name, "a non-empty array of objects", list);
    std::vector<conv_layer_config> layers;
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string field = element_name(name, i);
        const json & item = list[i];
        if (!item.is_object())
            fail_field(field, R"(an object {"channels": …, "kernel": …, "padding": …})", item);
        json_fields::require_object(item, field, {"channels", "kernel", "padding"});
        conv_layer_config layer;
        layer.channels = required_integer(item, "channels", field, 1, max_layer_width);
        layer.kernel = required_integer(item, "kernel", field, 1, max_kernel);
        if (item.contains("padding"))
            layer.padding =
                integer_in(item["padding"], field_name(field, "padding"), 0, layer.kernel - 1);
        layers.push_back(layer);
    }
    return layers;
}

// Parameters and per-sample activations, counted layer by layer so that no
// product can overflow before it is compared with the limit.
void check_sizes(const model_config & c, const std::string & what) {
    int64_t total = 0, width = c.inputs;
    const auto add = [&](int64_t count, const std::string & field) {
        total += count;
        if (total > max_model_parameters)
            fail_invalid(field + " brings the parameter count to " + std::to_string(total) +
                         ", expected at most " + std::to_string(max_model_parameters));
    };
    if (c.kind == model_kind::cnn) {
        int64_t channels = c.input_shape[0], height = c.input_shape[1], width2 = c.input_shape[2];
        for (size_t i = 0; i < c.conv.size(); ++i) {
            const conv_layer_config & layer = c.conv[i];
            const std::string field = element_name(field_name(what, "conv"), i);
            const int64_t out_h = height + 2 * layer.padding - layer.kernel + 1;
            const int64_t out_w = width2 + 2 * layer.padding - layer.kernel + 1;
            if (out_h < 2 || out_w < 2)
                fail_invalid(field + ": kernel " + std::to_string(layer.kernel) + " with padding " +
                             std::to_string(layer.padding) + " turns " + std::to_string(height) +
                             "x" + std::to_string(width2) + " pixels into " +
                             std::to_string(out_h) + "x" + std::to_string(out_w) +
                             ", expected at least 2x2 for the 2x2 max pool");
            if (out_h * out_w > max_model_parameters / layer.channels)
                fail_invalid(field + ": " + std::to_string(layer.channels) + " channels of " +
                             std::to_string(out_h) + "x" + std::to_string(out_w) +
                             " pixels, expected at most 2^31 - 1 values");
            add(layer.channels * (channels * layer.kernel * layer.kernel + 1), field);
            channels = layer.channels;
            height = out_h / 2;
            width2 = out_w / 2;
        }
        width = channels * height * width2;
    }
    for (size_t i = 0; i < c.hidden.size(); ++i) {
        add(c.hidden[i] * (width + 1), element_name(field_name(what, "hidden"), i));
        width = c.hidden[i];
    }
    add(c.outputs * (width + 1), field_name(what, "outputs"));
}

}  // namespace

model_config parse_model_config(const json & j, const std::string & what) {
    if (!j.is_object()) fail_field(what, "a JSON object", j);
    model_config c;
    required(j, "kind", what, R"("mlp" or "cnn")");
    c.kind = json_fields::one_of(j, "kind", model_kind::mlp, kind_names, what);
    if (c.kind == model_kind::mlp) {
        json_fields::require_object(
            j, what + R"( (kind "mlp"))",
            {"kind", "inputs", "hidden", "activation", "dropout", "outputs", "output"});
        c.inputs = required_integer(j, "inputs", what, 1, max_layer_width);
    } else {
        json_fields::require_object(j, what + R"( (kind "cnn"))",
                                    {"kind", "input_shape", "conv", "hidden", "activation",
                                     "dropout", "outputs", "output"});
        const std::string shape_name = field_name(what, "input_shape");
        const json & shape = required(j, "input_shape", what, "[channels, height, width]");
        if (!shape.is_array() || shape.size() != 3)
            fail_field(shape_name, "[channels, height, width]", shape);
        for (size_t i = 0; i < 3; ++i)
            c.input_shape[i] =
                integer_in(shape[i], element_name(shape_name, i), 1, max_layer_width);
        if (c.input_shape[0] * c.input_shape[1] > max_model_parameters / c.input_shape[2])
            fail_field(shape_name, "at most 2^31 - 1 values per sample", shape);
        c.inputs = c.input_shape[0] * c.input_shape[1] * c.input_shape[2];
        c.conv = parse_conv(required(j, "conv", what, "a non-empty array of objects"),
                            field_name(what, "conv"));
    }
    if (j.contains("hidden")) {
        const std::string name = field_name(what, "hidden");
        const json & hidden = j["hidden"];
        if (!hidden.is_array()) fail_field(name, "an array of layer widths", hidden);
        if (hidden.size() > 1024) fail_field(name, "at most 1024 layers", hidden.size());
        for (size_t i = 0; i < hidden.size(); ++i)
            c.hidden.push_back(integer_in(hidden[i], element_name(name, i), 1, max_layer_width));
    }
    c.activation =
        json_fields::one_of(j, "activation", activation_kind::relu, activation_names, what);
    if (j.contains("dropout")) {
        const json & p = j["dropout"];
        if (!p.is_number() || !(p.get<double>() >= 0.0 && p.get<double>() < 1.0))
            fail_field(field_name(what, "dropout"), "a number in [0, 1)", p);
        c.dropout = p.get<double>();
    }
    c.outputs = required_integer(j, "outputs", what, 1, max_layer_width);
    c.output = json_fields::one_of(j, "output", output_kind::logits, output_names, what);
    check_sizes(c, what);
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
