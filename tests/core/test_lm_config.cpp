// The transformer student's config (core/lm/transformer_config.h) and the
// model's refusals of bad input: each names the field, what was expected
// and what it got.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "lm/transformer.h"
#include "train/student_config.h"

using namespace distill::lm;
using nlohmann::json;

namespace {
json base() {
    return {{"kind", "transformer"}, {"vocab", 97}, {"dim", 48}, {"layers", 2},
            {"heads", 3},            {"ffn", 70},   {"context", 24}};
}
json with(json j, const char * key, json value) {
    j[key] = std::move(value);
    return j;
}
}  // namespace

TEST_CASE("lm config: defaults, round trip, parameter names and count") {
    const transformer_config c = parse_transformer_config(base());
    CHECK(c.kv_heads == 3);
    CHECK(c.rms_norm_eps == 1e-5);
    CHECK(c.rope_theta == 10000.0);
    CHECK_FALSE(c.tie_embeddings);
    CHECK(c.head_dim() == 16);
    CHECK(parse_transformer_config(to_json(c)) == c);
    const transformer model(c, 1);
    CHECK(model.parameter_count() == transformer_parameter_count(c));
    // 97·48 embed + 2 · (4·48·48 + 3·48·70 + 2·48) + 48 + 97·48 head
    CHECK(model.parameter_count() == 97 * 48 * 2 + 2 * (4 * 48 * 48 + 3 * 48 * 70 + 2 * 48) + 48);
    REQUIRE(model.find("model.layers.1.self_attn.k_proj.weight") != nullptr);
    CHECK(model.find("model.layers.1.self_attn.k_proj.weight")->shape ==
          std::vector<int64_t>{48, 48});
    CHECK(model.parameter_table().front().name == "model.embed_tokens.weight");
    CHECK(model.parameter_table().back().name == "lm_head.weight");
    const transformer tied(parse_transformer_config(with(with(base(), "tie_embeddings", true),
                                                          "kv_heads", 1)),
                           1);
    CHECK(tied.find("lm_head.weight") == nullptr);
    CHECK(tied.find("model.layers.0.self_attn.v_proj.weight")->shape ==
          std::vector<int64_t>{16, 48});
    CHECK(tied.parameter_table().back().name == "model.norm.weight");
}

TEST_CASE("lm config: bad configs are refused with a clear message") {
    const auto refuses = [](const json & j, const char * text) {
        CAPTURE(j.dump());
        CHECK_THROWS_WITH_AS(parse_transformer_config(j), doctest::Contains(text), distill::error);
    };
    refuses(with(base(), "heads", 5),
            "model_config.heads: expected a divisor of dim (48), so that every head has dim / "
            "heads values, got 5");
    refuses(with(with(base(), "heads", 4), "kv_heads", 3),
            "model_config.kv_heads: expected a divisor of heads (4)");
    refuses(with(base(), "heads", 16), "expected an even head size for the rotary embedding");
    refuses(with(base(), "context", 0), "model_config.context: expected an integer in [1, ");
    refuses(with(base(), "kv_heads", 4), "model_config.kv_heads: expected an integer in [1, 3]");
    refuses(with(base(), "rms_norm_eps", 0), "model_config.rms_norm_eps: expected a finite number > 0");
    refuses(with(base(), "dim", 48.5), "model_config.dim");
    refuses(with(base(), "ffm", 70), "unknown key 'ffm'");
    json no_vocab = base();
    no_vocab.erase("vocab");
    refuses(no_vocab, "model_config.vocab is missing");
    refuses(with(base(), "kind", "mlp"), R"(model_config.kind: expected "transformer")");
}

TEST_CASE("lm transformer: bad input to forward and backward is refused") {
    transformer model(parse_transformer_config(base()), 1);
    std::vector<int32_t> tokens(2 * 25, 1);
    CHECK_THROWS_WITH(model.backward(nullptr),
                      doctest::Contains("backward: expected a forward before it"));
    CHECK_THROWS_WITH(model.forward(tokens.data(), 2, 25),
                      "forward: sequence length: expected at most the model's context (24 "
                      "positions), got 25");
    tokens[24 + 3] = 97;
    CHECK_THROWS_WITH(model.forward(tokens.data(), 2, 24),
                      "forward: tokens[1, 3]: expected a token id in [0, 97), got 97");
    CHECK_THROWS_WITH(model.forward(tokens.data(), 0, 24), doctest::Contains("batch"));
    CHECK_THROWS_WITH(model.forward(nullptr, 1, 24), doctest::Contains("tokens: expected a pointer"));
    tokens[24 + 3] = 0;
    CHECK(model.forward(tokens.data(), 2, 24).size() == size_t(2 * 24 * 97));
}

TEST_CASE("lm config: the students' one JSON route picks the transformer by kind") {
    const distill::student_config c = distill::parse_student_config(base());
    REQUIRE(std::holds_alternative<transformer_config>(c));
    CHECK(std::get<transformer_config>(c).heads == 3);
    CHECK(distill::to_json(c) == to_json(std::get<transformer_config>(c)));
    const distill::student_config mlp =
        distill::parse_student_config({{"kind", "mlp"}, {"inputs", 4}, {"outputs", 2}});
    CHECK(std::holds_alternative<distill::model_config>(mlp));
    CHECK_THROWS_WITH(distill::parse_student_config(with(base(), "kind", "rnn")),
                      doctest::Contains(R"(model_config.kind: expected "mlp", "cnn" or "transformer", got "rnn")"));
    CHECK_THROWS_WITH(distill::parse_student_config(with(base(), "heads", 5)),
                      doctest::Contains("model_config.heads: expected a divisor of dim (48)"));
}
