#include "lm/transformer.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <numbers>
#include <string>

#include "common/error.h"
#include "lm/attention.h"
#include "lm/cross_entropy.h"
#include "lm/embedding.h"
#include "lm/rmsnorm.h"
#include "lm/rope.h"
#include "lm/swiglu.h"
#include "students/layers/blas.h"
#include "students/layers/dropout.h"

namespace distill::lm {
namespace {

// out[N, OUT] = inp[N, IN] · weight[OUT, IN]ᵀ (nn.Linear without bias).
template <class T>
void project(T * out, const T * inp, const T * weight, int64_t N, int64_t IN, int64_t OUT) {
    layers::gemm(false, true, N, OUT, IN, T(1), inp, IN, weight, IN, T(0), out, OUT,
                 layers::pool::team);
}

// The backward of project: d_weight[OUT, IN] = d_outᵀ · inp (overwritten,
// or added with accumulate_weight), d_inp[N, IN] = d_out · weight
// (overwritten, or added with accumulate_inp).
template <class T>
void project_backward(T * d_inp, T * d_weight, const T * d_out, const T * inp, const T * weight,
                      int64_t N, int64_t IN, int64_t OUT, bool accumulate_inp,
                      bool accumulate_weight = false) {
    layers::gemm(true, false, OUT, IN, N, T(1), d_out, OUT, inp, IN,
                 accumulate_weight ? T(1) : T(0), d_weight, IN, layers::pool::team);
    layers::gemm(false, false, N, IN, OUT, T(1), d_out, OUT, weight, IN,
                 accumulate_inp ? T(1) : T(0), d_inp, IN, layers::pool::team);
}

// splitmix64 with Box–Muller normals: the same values on every machine.
class normal_stream {
public:
    explicit normal_stream(uint64_t seed) : state_(seed) {}
    double next() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        // u1 in (0, 1], so the log is finite.
        const double u1 = double((bits() >> 11) + 1) * 0x1.0p-53, u2 = double(bits() >> 11) * 0x1.0p-53;
        const double radius = std::sqrt(-2.0 * std::log(u1)), angle = 2.0 * std::numbers::pi * u2;
        spare_ = radius * std::sin(angle);
        has_spare_ = true;
        return radius * std::cos(angle);
    }

private:
    uint64_t bits() { return layers::mix64(state_ += 0x9e3779b97f4a7c15ull); }
    uint64_t state_;
    double spare_ = 0;
    bool has_spare_ = false;
};

}  // namespace

template <class T>
basic_transformer<T>::basic_transformer(const transformer_config & config, uint64_t seed)
    : config_(config) {
    validate(config_);
    const int64_t C = config_.dim, D = config_.head_dim();
    const int64_t q_width = config_.heads * D, kv_width = config_.kv_heads * D;
    embed_ = add_parameter("model.embed_tokens.weight", {config_.vocab, C});
    for (int64_t l = 0; l < config_.layers; ++l) {
        const std::string prefix = "model.layers." + std::to_string(l) + ".";
        transformer_layer_offsets o{};
        o.q = add_parameter(prefix + "self_attn.q_proj.weight", {q_width, C});
        o.k = add_parameter(prefix + "self_attn.k_proj.weight", {kv_width, C});
        o.v = add_parameter(prefix + "self_attn.v_proj.weight", {kv_width, C});
        o.o = add_parameter(prefix + "self_attn.o_proj.weight", {C, q_width});
        o.gate = add_parameter(prefix + "mlp.gate_proj.weight", {config_.ffn, C});
        o.up = add_parameter(prefix + "mlp.up_proj.weight", {config_.ffn, C});
        o.down = add_parameter(prefix + "mlp.down_proj.weight", {C, config_.ffn});
        o.input_norm = add_parameter(prefix + "input_layernorm.weight", {C});
        o.post_attention_norm = add_parameter(prefix + "post_attention_layernorm.weight", {C});
        layers_.push_back(o);
    }
    final_norm_ = add_parameter("model.norm.weight", {C});
    lm_head_ = config_.tie_embeddings ? embed_ : add_parameter("lm_head.weight", {config_.vocab, C});
    const int64_t count = table_.back().offset + table_.back().count;
    parameters_.resize(size_t(count));
    gradients_.assign(size_t(count), T(0));
    rope_cos_.resize(size_t(config_.context * D / 2));
    rope_sin_.resize(size_t(config_.context * D / 2));
    rope_tables(rope_cos_.data(), rope_sin_.data(), config_.context, D, config_.rope_theta);
    initialise(seed);
}

template <class T>
int64_t basic_transformer<T>::add_parameter(std::string name, std::vector<int64_t> shape) {
    const int64_t offset = table_.empty() ? 0 : table_.back().offset + table_.back().count;
    int64_t count = 1;
    for (int64_t extent : shape) count *= extent;
    table_.push_back({std::move(name), std::move(shape), offset, count});
    return offset;
}

template <class T>
const parameter_info * basic_transformer<T>::find(std::string_view name) const {
    for (const parameter_info & p : table_)
        if (p.name == name) return &p;
    return nullptr;
}

template <class T>
void basic_transformer<T>::initialise(uint64_t seed) {
    normal_stream rng(seed);
    for (const parameter_info & p : table_) {
        T * values = parameters_.data() + p.offset;
        if (p.shape.size() == 1)
            std::fill(values, values + p.count, T(1));
        else
            for (int64_t i = 0; i < p.count; ++i) values[i] = T(0.02 * rng.next());
    }
}

template <class T>
void basic_transformer<T>::reserve(int64_t B, int64_t T_) {
    const int64_t N = B * T_;
    batch_ = B;
    length_ = T_;
    if (N <= capacity_) {
        lse_.resize(size_t(config_.layers * config_.heads * N));
        row_dot_.resize(size_t(config_.heads * N));
        return;
    }
    const int64_t L = config_.layers, C = config_.dim, F = config_.ffn, V = config_.vocab;
    const int64_t QW = config_.heads * config_.head_dim(), KW = config_.kv_heads * config_.head_dim();
    tokens_.resize(size_t(N));
    residual_.resize(size_t((L + 1) * N * C));
    input_normed_.resize(size_t(L * N * C));
    input_rstd_.resize(size_t(L * N));
    q_.resize(size_t(L * N * QW));
    k_.resize(size_t(L * N * KW));
    v_.resize(size_t(L * N * KW));
    attention_.resize(size_t(L * N * QW));
    lse_.resize(size_t(L * config_.heads * N));
    middle_.resize(size_t(L * N * C));
    post_normed_.resize(size_t(L * N * C));
    post_rstd_.resize(size_t(L * N));
    gate_.resize(size_t(L * N * F));
    up_.resize(size_t(L * N * F));
    gated_.resize(size_t(L * N * F));
    final_normed_.resize(size_t(N * C));
    final_rstd_.resize(size_t(N));
    logits_.resize(size_t(N * V));
    d_residual_.resize(size_t(N * C));
    d_normed_.resize(size_t(N * C));
    d_attention_.resize(size_t(N * QW));
    d_q_.resize(size_t(N * QW));
    d_k_.resize(size_t(N * KW));
    d_v_.resize(size_t(N * KW));
    d_gate_.resize(size_t(N * F));
    d_up_.resize(size_t(N * F));
    d_gated_.resize(size_t(N * F));
    row_dot_.resize(size_t(config_.heads * N));
    capacity_ = N;
}

template <class T>
std::span<const T> basic_transformer<T>::forward(const int32_t * tokens, int64_t B, int64_t T_) {
    have_forward_ = false;
    if (B < 1) fail_invalid("forward: batch: expected at least 1 sequence, got " + std::to_string(B));
    if (T_ < 1)
        fail_invalid("forward: sequence length: expected at least 1 position, got " +
                     std::to_string(T_));
    if (T_ > config_.context)
        fail_invalid("forward: sequence length: expected at most the model's context (" +
                     std::to_string(config_.context) + " positions), got " + std::to_string(T_));
    if (tokens == nullptr) fail_invalid("forward: tokens: expected a pointer, got null");
    const int64_t widest = std::max({config_.vocab, config_.ffn, config_.dim,
                                     config_.layers * config_.dim});
    if (B > INT_MAX / T_ / widest)
        fail_invalid("forward: batch: expected at most " + std::to_string(INT_MAX / T_ / widest) +
                     " sequences of " + std::to_string(T_) +
                     " positions for this model (2^31 - 1 values per buffer), got " +
                     std::to_string(B));
    for (int64_t n = 0; n < B * T_; ++n)
        if (tokens[n] < 0 || tokens[n] >= config_.vocab)
            fail_invalid("forward: tokens[" + std::to_string(n / T_) + ", " +
                         std::to_string(n % T_) + "]: expected a token id in [0, " +
                         std::to_string(config_.vocab) + "), got " + std::to_string(tokens[n]));
    reserve(B, T_);
    const int64_t N = B * T_, C = config_.dim, F = config_.ffn, V = config_.vocab;
    const int64_t H = config_.heads, KV = config_.kv_heads, D = config_.head_dim();
    const int64_t QW = H * D, KW = KV * D;
    const T * w = parameters_.data();
    std::copy(tokens, tokens + N, tokens_.begin());
    embedding_forward(residual_.data(), tokens, w + embed_, N, C);
    for (int64_t l = 0; l < config_.layers; ++l) {
        const transformer_layer_offsets & o = layers_[size_t(l)];
        const T * x = residual_.data() + l * N * C;
        T * normed = input_normed_.data() + l * N * C;
        T * q = q_.data() + l * N * QW;
        T * k = k_.data() + l * N * KW;
        T * v = v_.data() + l * N * KW;
        T * att = attention_.data() + l * N * QW;
        T * middle = middle_.data() + l * N * C;
        T * post = post_normed_.data() + l * N * C;
        T * gate = gate_.data() + l * N * F;
        T * up = up_.data() + l * N * F;
        T * gated = gated_.data() + l * N * F;
        T * next = residual_.data() + (l + 1) * N * C;

        rmsnorm_forward(normed, input_rstd_.data() + l * N, x, w + o.input_norm, N, C,
                        config_.rms_norm_eps);
        project(q, normed, w + o.q, N, C, QW);
        project(k, normed, w + o.k, N, C, KW);
        project(v, normed, w + o.v, N, C, KW);
        rope_forward(q, rope_cos_.data(), rope_sin_.data(), B, T_, H, D);
        rope_forward(k, rope_cos_.data(), rope_sin_.data(), B, T_, KV, D);
        attention_forward(att, lse_.data() + l * H * N, q, k, v, B, T_, H, KV, D);
        // middle = x + att · o_projᵀ
        std::copy(x, x + N * C, middle);
        layers::gemm(false, true, N, C, QW, T(1), att, QW, w + o.o, QW, T(1), middle, C,
                     layers::pool::team);
        rmsnorm_forward(post, post_rstd_.data() + l * N, middle, w + o.post_attention_norm, N, C,
                        config_.rms_norm_eps);
        project(gate, post, w + o.gate, N, C, F);
        project(up, post, w + o.up, N, C, F);
        swiglu_forward(gated, gate, up, N * F);
        std::copy(middle, middle + N * C, next);
        layers::gemm(false, true, N, C, F, T(1), gated, F, w + o.down, F, T(1), next, C,
                     layers::pool::team);
    }
    rmsnorm_forward(final_normed_.data(), final_rstd_.data(),
                    residual_.data() + config_.layers * N * C, w + final_norm_, N, C,
                    config_.rms_norm_eps);
    project(logits_.data(), final_normed_.data(), w + lm_head_, N, C, V);
    have_forward_ = true;
    return {logits_.data(), size_t(N * V)};
}

template <class T>
void basic_transformer<T>::backward(const T * d_logits) {
    if (!have_forward_)
        fail_invalid("backward: expected a forward before it, got none since the model was made "
                     "or since a forward failed");
    if (d_logits == nullptr) fail_invalid("backward: d_logits: expected a pointer, got null");
    const int64_t B = batch_, T_ = length_, N = B * T_, C = config_.dim, F = config_.ffn,
                  V = config_.vocab;
    const int64_t H = config_.heads, KV = config_.kv_heads, D = config_.head_dim();
    const int64_t QW = H * D, KW = KV * D;
    const T * w = parameters_.data();
    T * g = gradients_.data();
    T * d_res = d_residual_.data();
    T * d_normed = d_normed_.data();

    // The head: d_lm_head = d_logitsᵀ · final_normed (into embed_tokens'
    // gradient when tied; the embedding's scatter adds to it below).
    std::fill(d_res, d_res + N * C, T(0));
    project_backward(d_normed, g + lm_head_, d_logits, final_normed_.data(), w + lm_head_, N, C, V,
                     false);
    rmsnorm_backward(d_res, g + final_norm_, d_normed, residual_.data() + config_.layers * N * C,
                     final_rstd_.data(), w + final_norm_, N, C);
    for (int64_t l = config_.layers - 1; l >= 0; --l) {
        const transformer_layer_offsets & o = layers_[size_t(l)];
        const T * x = residual_.data() + l * N * C;
        const T * normed = input_normed_.data() + l * N * C;
        const T * q = q_.data() + l * N * QW;
        const T * k = k_.data() + l * N * KW;
        const T * v = v_.data() + l * N * KW;
        const T * att = attention_.data() + l * N * QW;
        const T * middle = middle_.data() + l * N * C;
        const T * post = post_normed_.data() + l * N * C;
        const T * gate = gate_.data() + l * N * F;
        const T * up = up_.data() + l * N * F;
        const T * gated = gated_.data() + l * N * F;
        // d_res holds the gradient of the layer's output. The MLP branch:
        project_backward(d_gated_.data(), g + o.down, d_res, gated, w + o.down, N, F, C, false);
        swiglu_backward(d_gate_.data(), d_up_.data(), d_gated_.data(), gate, up, N * F);
        project_backward(d_normed, g + o.gate, d_gate_.data(), post, w + o.gate, N, C, F, false);
        project_backward(d_normed, g + o.up, d_up_.data(), post, w + o.up, N, C, F, true);
        rmsnorm_backward(d_res, g + o.post_attention_norm, d_normed, middle,
                         post_rstd_.data() + l * N, w + o.post_attention_norm, N, C);
        // d_res: the gradient of middle. The attention branch:
        project_backward(d_attention_.data(), g + o.o, d_res, att, w + o.o, N, QW, C, false);
        attention_backward(d_q_.data(), d_k_.data(), d_v_.data(), row_dot_.data(),
                           d_attention_.data(), att, lse_.data() + l * H * N, q, k, v, B, T_, H,
                           KV, D);
        rope_backward(d_q_.data(), rope_cos_.data(), rope_sin_.data(), B, T_, H, D);
        rope_backward(d_k_.data(), rope_cos_.data(), rope_sin_.data(), B, T_, KV, D);
        project_backward(d_normed, g + o.q, d_q_.data(), normed, w + o.q, N, C, QW, false);
        project_backward(d_normed, g + o.k, d_k_.data(), normed, w + o.k, N, C, KW, true);
        project_backward(d_normed, g + o.v, d_v_.data(), normed, w + o.v, N, C, KW, true);
        rmsnorm_backward(d_res, g + o.input_norm, d_normed, x, input_rstd_.data() + l * N,
                         w + o.input_norm, N, C);
    }
    if (!config_.tie_embeddings)
        std::fill(g + embed_, g + embed_ + config_.vocab * C, T(0));
    embedding_backward(g + embed_, d_res, tokens_.data(), N, C);
}

template <class T>
double basic_transformer<T>::train_step(const int32_t * tokens, const int32_t * targets, int64_t B,
                                        int64_t T_) {
    forward(tokens, B, T_);
    if (targets == nullptr) fail_invalid("train_step: targets: expected a pointer, got null");
    // In place: cross_entropy reads a row's logits before writing its gradient.
    T * logits = logits_.data();
    const double loss = cross_entropy(logits, logits, targets, B * T_, config_.vocab);
    backward(logits);
    return loss;
}

template class basic_transformer<float>;
template class basic_transformer<double>;

}  // namespace distill::lm
