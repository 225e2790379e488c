#include "train/hf_config.h"

#include <cmath>

#include "common/error.h"
#include "common/file_error.h"

namespace distill {
namespace {

using nlohmann::json;

// transformers' LlamaConfig defaults for the optional fields.
constexpr int64_t default_context = 2048;
constexpr double default_rms_norm_eps = 1e-6;
constexpr double default_rope_theta = 10000.0;

struct reader {
    const json & object;
    const std::string & source;

    [[noreturn]] void corrupt(const std::string & key, const std::string & expected,
                              const json & got) const {
        fail_corrupt(source + ": " + key + ": expected " + expected + ", got " + got.dump());
    }
    [[noreturn]] void unsupported(const std::string & key, const std::string & expected,
                                  const json & got) const {
        fail_unsupported(source + ": " + key + " " + got.dump() +
                         " is not supported by distill's transformer student (expected " +
                         expected + ")");
    }
    // Absent and null read alike: transformers writes null for "not set".
    const json * find(const char * key) const {
        const auto it = object.find(key);
        return it == object.end() || it->is_null() ? nullptr : &*it;
    }
    int64_t positive(const char * key, const json * value) const {
        const std::string expected = "a positive integer";
        if (!value->is_number_integer()) corrupt(key, expected, *value);
        if (value->is_number_unsigned() ? value->get<uint64_t>() > uint64_t(INT64_MAX) ||
                                              value->get<uint64_t>() == 0
                                        : value->get<int64_t>() <= 0)
            corrupt(key, expected, *value);
        return value->get<int64_t>();
    }
    int64_t required_positive(const char * key) const {
        const json * value = find(key);
        if (value == nullptr)
            fail_corrupt(source + ": " + key + " is missing (expected a positive integer, as "
                         "every Llama config.json has)");
        return positive(key, value);
    }
    int64_t optional_positive(const char * key, int64_t fallback) const {
        const json * value = find(key);
        return value ? positive(key, value) : fallback;
    }
    double positive_number(const json & value, const std::string & key) const {
        if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() <= 0)
            corrupt(key, "a finite number > 0", value);
        return value.get<double>();
    }
    bool boolean(const char * key, bool fallback) const {
        const json * value = find(key);
        if (value == nullptr) return fallback;
        if (!value->is_boolean()) corrupt(key, "true or false", *value);
        return value->get<bool>();
    }
    void must_be_false(const char * key) const {
        if (boolean(key, false)) unsupported(key, "false: Llama's projections have no biases", true);
    }
};

// The rotary base, from rope_parameters (transformers 5) or rope_theta and
// rope_scaling (transformers 4); anything but the default rotary embedding
// (linear, dynamic, yarn, llama3 scaling ...) is refused by name.
double read_rope_theta(const reader & r) {
    double theta = default_rope_theta;
    bool from_parameters = false;
    if (const json * p = r.find("rope_parameters")) {
        if (!p->is_object()) r.corrupt("rope_parameters", "an object", *p);
        for (const auto & [key, value] : p->items()) {
            const std::string field = "rope_parameters." + key;
            if (key == "rope_type") {
                if (!value.is_string()) r.corrupt(field, "a string", value);
                if (value != "default") r.unsupported(field, R"("default")", value);
            } else if (key == "rope_theta") {
                theta = r.positive_number(value, field);
                from_parameters = true;
            } else if (!value.is_null()) {
                r.unsupported(field, "only rope_type and rope_theta", value);
            }
        }
    }
    if (const json * s = r.find("rope_scaling")) {
        // transformers 4 may write {"rope_type": "default"}: no scaling.
        const bool plain = s->is_object() && s->size() == 1 &&
                           (s->value("rope_type", json()) == "default" ||
                            s->value("type", json()) == "default");
        if (!plain) r.unsupported("rope_scaling", "null: no rotary scaling", *s);
    }
    if (const json * t = r.find("rope_theta")) {
        const double top = r.positive_number(*t, "rope_theta");
        if (from_parameters && top != theta)
            r.corrupt("rope_theta", "the value of rope_parameters.rope_theta (" +
                                        json(theta).dump() + ")",
                      *t);
        theta = top;
    }
    return theta;
}

// validate's message names our fields ("<source>.heads"); the person reads
// config.json, so they become its names ("<source>: num_attention_heads").
std::string with_hf_names(std::string message, const std::string & source) {
    static const std::pair<const char *, const char *> names[] = {
        {"vocab", "vocab_size"},          {"dim", "hidden_size"},
        {"layers", "num_hidden_layers"},  {"heads", "num_attention_heads"},
        {"kv_heads", "num_key_value_heads"}, {"ffn", "intermediate_size"},
        {"context", "max_position_embeddings"}, {"rms_norm_eps", "rms_norm_eps"},
        {"rope_theta", "rope_theta"}};
    for (const auto & [ours, theirs] : names) {
        const std::string from = source + "." + ours + ":";
        if (const size_t at = message.find(from); at != std::string::npos)
            message.replace(at, from.size(), source + ": " + theirs + ":");
    }
    return message;
}

}  // namespace

json hf_config_json(const lm::transformer_config & c) {
    return {
        {"architectures", {"LlamaForCausalLM"}},
        {"model_type", "llama"},
        {"vocab_size", c.vocab},
        {"hidden_size", c.dim},
        {"intermediate_size", c.ffn},
        {"num_hidden_layers", c.layers},
        {"num_attention_heads", c.heads},
        {"num_key_value_heads", c.kv_heads},
        {"head_dim", c.head_dim()},
        {"max_position_embeddings", c.context},
        {"rms_norm_eps", c.rms_norm_eps},
        {"rope_theta", c.rope_theta},
        {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", c.rope_theta}}},
        {"tie_word_embeddings", c.tie_embeddings},
        {"hidden_act", "silu"},
        {"attention_bias", false},
        {"mlp_bias", false},
        {"attention_dropout", 0.0},
        {"initializer_range", 0.02},
        {"use_cache", true},
        // Written as null: absent, transformers' LlamaConfig defaults are 1
        // and 2, and generate() would stop at whatever token has id 2.
        {"bos_token_id", nullptr},
        {"eos_token_id", nullptr},
        {"dtype", "float32"},
        {"torch_dtype", "float32"},
    };
}

lm::transformer_config parse_hf_config(const json & j, const std::string & source) {
    if (!j.is_object()) fail_corrupt(source + ": expected a JSON object, got " + j.type_name());
    const reader r{j, source};
    const json * type = r.find("model_type");
    if (type == nullptr)
        fail_corrupt(source + ": model_type is missing (expected \"llama\")");
    if (!type->is_string()) r.corrupt("model_type", "a string", *type);
    if (*type != "llama") r.unsupported("model_type", R"("llama")", *type);
    if (const json * a = r.find("architectures")) {
        if (!a->is_array()) r.corrupt("architectures", "an array of strings", *a);
        bool causal = false;
        for (const json & name : *a) causal = causal || name == "LlamaForCausalLM";
        if (!causal) r.unsupported("architectures", R"(["LlamaForCausalLM"])", *a);
    }
    if (const json * act = r.find("hidden_act"); act && *act != "silu")
        r.unsupported("hidden_act", R"("silu": SwiGLU's gate)", *act);
    r.must_be_false("attention_bias");
    r.must_be_false("mlp_bias");
    if (const json * d = r.find("attention_dropout")) {
        if (!d->is_number()) r.corrupt("attention_dropout", "a number", *d);
        if (d->get<double>() != 0.0) r.unsupported("attention_dropout", "0: no dropout", *d);
    }
    if (const json * q = r.find("quantization_config"))
        r.unsupported("quantization_config", "none: fp32, fp16 or bf16 weights", *q);

    lm::transformer_config c;
    c.vocab = r.required_positive("vocab_size");
    c.dim = r.required_positive("hidden_size");
    c.ffn = r.required_positive("intermediate_size");
    c.layers = r.required_positive("num_hidden_layers");
    c.heads = r.required_positive("num_attention_heads");
    c.kv_heads = r.optional_positive("num_key_value_heads", c.heads);
    c.context = r.optional_positive("max_position_embeddings", default_context);
    if (const json * hd = r.find("head_dim")) {
        const int64_t head_dim = r.positive("head_dim", hd);
        if (head_dim * c.heads != c.dim)
            r.unsupported("head_dim",
                          "hidden_size / num_attention_heads = " + std::to_string(c.dim) + " / " +
                              std::to_string(c.heads),
                          *hd);
    }
    c.rms_norm_eps = j.contains("rms_norm_eps") && !j["rms_norm_eps"].is_null()
                         ? r.positive_number(j["rms_norm_eps"], "rms_norm_eps")
                         : default_rms_norm_eps;
    c.rope_theta = read_rope_theta(r);
    c.tie_embeddings = r.boolean("tie_word_embeddings", false);
    // The student's own limits (sizes, divisibility, an even head size, the
    // parameter count): a well-formed config beyond them is unsupported.
    try {
        lm::validate(c, source);
    } catch (const error & e) {
        fail_unsupported(with_hf_names(e.what(), source) + " (config.json read as " +
                         lm::to_json(c).dump() + ")");
    }
    return c;
}

}  // namespace distill
