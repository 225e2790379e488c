#include "lm/transformer_config.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/json_fields.h"

namespace distill::lm {
namespace {

using json_fields::field_name;
using json_fields::integer_in;
using json_fields::number_text;
using json_fields::required;
using nlohmann::json;

std::string range(int64_t low, int64_t high) {
    return "an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "]";
}

int64_t required_integer(const json & object, const char * key, const std::string & what,
                         int64_t low, int64_t high) {
    return integer_in(required(object, key, what, range(low, high)), field_name(what, key), low,
                      high);
}

[[noreturn]] void fail(const std::string & field, const std::string & expected, int64_t got) {
    fail_invalid(field + ": expected " + expected + ", got " + std::to_string(got));
}

void check_range(int64_t value, const std::string & field, int64_t low, int64_t high) {
    if (value < low || value > high) fail(field, range(low, high), value);
}

}  // namespace

void validate(const transformer_config & c, const std::string & what) {
    check_range(c.vocab, field_name(what, "vocab"), 1, max_transformer_width);
    check_range(c.dim, field_name(what, "dim"), 1, max_transformer_width);
    check_range(c.layers, field_name(what, "layers"), 1, max_transformer_layers);
    check_range(c.heads, field_name(what, "heads"), 1, c.dim);
    check_range(c.kv_heads, field_name(what, "kv_heads"), 1, c.heads);
    check_range(c.ffn, field_name(what, "ffn"), 1, max_transformer_width);
    check_range(c.context, field_name(what, "context"), 1, max_transformer_context);
    if (c.dim % c.heads != 0)
        fail(field_name(what, "heads"),
             "a divisor of dim (" + std::to_string(c.dim) + "), so that every head has dim / heads "
             "values",
             c.heads);
    if (c.heads % c.kv_heads != 0)
        fail(field_name(what, "kv_heads"),
             "a divisor of heads (" + std::to_string(c.heads) + "), so that each key/value head "
             "serves the same number of query heads",
             c.kv_heads);
    const int64_t head_dim = c.dim / c.heads;
    if (head_dim % 2 != 0)
        fail_invalid(field_name(what, "heads") + ": dim / heads is the head size, expected an even "
                     "head size for the rotary embedding (it rotates pairs of values), got " +
                     std::to_string(c.dim) + " / " + std::to_string(c.heads) + " = " +
                     std::to_string(head_dim));
    if (head_dim > max_transformer_head_dim)
        fail_invalid(field_name(what, "heads") + ": dim / heads is the head size, expected at most " +
                     std::to_string(max_transformer_head_dim) + ", got " + std::to_string(head_dim));
    if (!(c.rms_norm_eps > 0.0) || !std::isfinite(c.rms_norm_eps))
        fail_invalid(field_name(what, "rms_norm_eps") + ": expected a finite number > 0, got " +
                     number_text(c.rms_norm_eps));
    if (!(c.rope_theta > 1.0) || !std::isfinite(c.rope_theta))
        fail_invalid(field_name(what, "rope_theta") + ": expected a finite number > 1, got " +
                     number_text(c.rope_theta));
    // Counted in double: each term is below 2^60, their sum cannot wrap.
    const double C = double(c.dim), F = double(c.ffn), V = double(c.vocab);
    const double kv = double(c.kv_heads * head_dim);
    const double per_layer = 2 * C * C + 2 * C * kv + 3 * C * F + 2 * C;
    const double total = V * C * (c.tie_embeddings ? 1 : 2) + double(c.layers) * per_layer + C;
    if (total > double(max_transformer_parameters))
        fail_invalid(what + ": the config has " + number_text(total) +
                     " parameters, expected at most 2^31 - 1");
    // The widest activation of one full-context sequence (logits, or the
    // MLP's inner values) must fit a 32-bit GEMM size.
    const double widest = double(c.context) * std::max({V, F, C});
    if (widest > double(max_transformer_parameters))
        fail_invalid(field_name(what, "context") + ": " + std::to_string(c.context) +
                     " positions of the widest activation (" +
                     std::to_string(std::max({c.vocab, c.ffn, c.dim})) +
                     " values) make " + number_text(widest) + " values, expected at most 2^31 - 1");
}

transformer_config parse_transformer_config(const json & j, const std::string & what) {
    if (!j.is_object()) json_fields::fail_field(what, "a JSON object", j);
    json_fields::require_object(j, what + R"( (kind "transformer"))",
                                {"kind", "vocab", "dim", "layers", "heads", "kv_heads", "ffn",
                                 "context", "rms_norm_eps", "rope_theta", "tie_embeddings"});
    const std::string kind = json_fields::kind(j, what);
    if (kind != "transformer") json_fields::fail_field(field_name(what, "kind"), R"("transformer")", j["kind"]);
    transformer_config c;
    c.vocab = required_integer(j, "vocab", what, 1, max_transformer_width);
    c.dim = required_integer(j, "dim", what, 1, max_transformer_width);
    c.layers = required_integer(j, "layers", what, 1, max_transformer_layers);
    c.heads = required_integer(j, "heads", what, 1, c.dim);
    c.kv_heads = j.contains("kv_heads")
                     ? integer_in(j["kv_heads"], field_name(what, "kv_heads"), 1, c.heads)
                     : c.heads;
    c.ffn = required_integer(j, "ffn", what, 1, max_transformer_width);
    c.context = required_integer(j, "context", what, 1, max_transformer_context);
    c.rms_norm_eps = json_fields::number(j, "rms_norm_eps", c.rms_norm_eps, what);
    c.rope_theta = json_fields::number(j, "rope_theta", c.rope_theta, what);
    c.tie_embeddings = json_fields::boolean(j, "tie_embeddings", c.tie_embeddings, what);
    validate(c, what);
    return c;
}

json to_json(const transformer_config & c) {
    return {{"kind", "transformer"},         {"vocab", c.vocab},
            {"dim", c.dim},                  {"layers", c.layers},
            {"heads", c.heads},              {"kv_heads", c.kv_heads},
            {"ffn", c.ffn},                  {"context", c.context},
            {"rms_norm_eps", c.rms_norm_eps}, {"rope_theta", c.rope_theta},
            {"tie_embeddings", c.tie_embeddings}};
}

int64_t transformer_parameter_count(const transformer_config & c) {
    const int64_t C = c.dim, kv = c.kv_heads * c.head_dim();
    const int64_t per_layer = 2 * C * C + 2 * C * kv + 3 * C * c.ffn + 2 * C;
    return c.vocab * C * (c.tie_embeddings ? 1 : 2) + c.layers * per_layer + C;
}

}  // namespace distill::lm
