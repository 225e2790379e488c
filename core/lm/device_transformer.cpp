#include "lm/device_transformer.h"

#include <algorithm>
#include <climits>
#include <numeric>
#include <span>
#include <string>
#include <utility>

#include "common/error.h"
#include "lm/cross_entropy.h"
#include "lm/rope.h"

namespace distill::lm {
namespace {

constexpr int32_t host_to_device = 0, device_to_host = 1, device_to_device = 2;

// Room for the backend's message of one call.
struct backend_message {
    char text[512] = {0};
};

// The offset of the tensor `name` of the host model (it has every name
// transformer.h lists).
int64_t offset_of(const transformer & host, const std::string & name) {
    const parameter_info * p = host.find(name);
    if (p == nullptr)
        throw error(status::internal, "device transformer: the model has no tensor '" + name + "'");
    return p->offset;
}

}  // namespace

device_transformer::device_transformer(const context & ctx, transformer & host)
    : host_(host),
      config_(host.config()),
      session_(ctx),
      parameters_(session_),
      gradients_(session_),
      rope_cos_(session_),
      rope_sin_(session_),
      tokens_(session_),
      order_(session_),
      targets_(session_),
      residual_(session_),
      input_normed_(session_),
      input_rstd_(session_),
      q_(session_),
      k_(session_),
      v_(session_),
      attention_(session_),
      lse_(session_),
      middle_(session_),
      post_normed_(session_),
      post_rstd_(session_),
      gate_(session_),
      up_(session_),
      gated_(session_),
      final_normed_(session_),
      final_rstd_(session_),
      logits_(session_),
      d_logits_(session_),
      d_residual_(session_),
      d_normed_(session_),
      d_attention_(session_),
      d_q_(session_),
      d_k_(session_),
      d_v_(session_),
      d_gate_(session_),
      d_up_(session_),
      d_gated_(session_),
      row_dot_(session_),
      loss_(session_) {
    embed_ = offset_of(host, "model.embed_tokens.weight");
    final_norm_ = offset_of(host, "model.norm.weight");
    lm_head_ = config_.tie_embeddings ? embed_ : offset_of(host, "lm_head.weight");
    for (int64_t l = 0; l < config_.layers; ++l) {
        const std::string prefix = "model.layers." + std::to_string(l) + ".";
        transformer_layer_offsets o{};
        o.q = offset_of(host, prefix + "self_attn.q_proj.weight");
        o.k = offset_of(host, prefix + "self_attn.k_proj.weight");
        o.v = offset_of(host, prefix + "self_attn.v_proj.weight");
        o.o = offset_of(host, prefix + "self_attn.o_proj.weight");
        o.gate = offset_of(host, prefix + "mlp.gate_proj.weight");
        o.up = offset_of(host, prefix + "mlp.up_proj.weight");
        o.down = offset_of(host, prefix + "mlp.down_proj.weight");
        o.input_norm = offset_of(host, prefix + "input_layernorm.weight");
        o.post_attention_norm = offset_of(host, prefix + "post_attention_layernorm.weight");
        layers_.push_back(o);
    }
    const size_t parameter_bytes = sizeof(float) * size_t(host.parameter_count());
    parameters_.reserve(parameter_bytes);
    gradients_.reserve(parameter_bytes);
    const int64_t D = config_.head_dim();
    std::vector<float> cos(size_t(config_.context * D / 2)), sin(cos.size());
    rope_tables(cos.data(), sin.data(), config_.context, D, config_.rope_theta);
    rope_cos_.upload(cos.data(), sizeof(float) * cos.size());
    rope_sin_.upload(sin.data(), sizeof(float) * sin.size());
    loss_.reserve(sizeof(float));
    // The uploads read pageable host memory that goes out of scope.
    backend_message m;
    check_backend_call(session_.backend().synchronize(session_.handle(), m.text, sizeof m.text),
                       "device transformer: uploading the RoPE tables", m.text);
}

device_transformer::~device_transformer() = default;

void device_transformer::upload_parameters() {
    const std::span<const float> host = std::as_const(host_).parameters();
    parameters_.upload(host.data(), sizeof(float) * host.size());
}

void device_transformer::reserve(int64_t N) {
    if (N <= capacity_) return;
    const int64_t L = config_.layers, C = config_.dim, F = config_.ffn, V = config_.vocab;
    const int64_t H = config_.heads, D = config_.head_dim();
    const int64_t QW = H * D, KW = config_.kv_heads * D;
    const auto floats = [](int64_t count) { return sizeof(float) * size_t(count); };
    tokens_.reserve(sizeof(int32_t) * size_t(N));
    order_.reserve(sizeof(int32_t) * size_t(N));
    targets_.reserve(sizeof(int32_t) * size_t(N));
    residual_.reserve(floats((L + 1) * N * C));
    input_normed_.reserve(floats(L * N * C));
    input_rstd_.reserve(floats(L * N));
    q_.reserve(floats(L * N * QW));
    k_.reserve(floats(L * N * KW));
    v_.reserve(floats(L * N * KW));
    attention_.reserve(floats(L * N * QW));
    lse_.reserve(floats(L * H * N));
    middle_.reserve(floats(L * N * C));
    post_normed_.reserve(floats(L * N * C));
    post_rstd_.reserve(floats(L * N));
    gate_.reserve(floats(L * N * F));
    up_.reserve(floats(L * N * F));
    gated_.reserve(floats(L * N * F));
    final_normed_.reserve(floats(N * C));
    final_rstd_.reserve(floats(N));
    logits_.reserve(floats(N * V));
    d_logits_.reserve(floats(N * V));
    d_residual_.reserve(floats(N * C));
    d_normed_.reserve(floats(N * C));
    d_attention_.reserve(floats(N * QW));
    d_q_.reserve(floats(N * QW));
    d_k_.reserve(floats(N * KW));
    d_v_.reserve(floats(N * KW));
    d_gate_.reserve(floats(N * F));
    d_up_.reserve(floats(N * F));
    d_gated_.reserve(floats(N * F));
    row_dot_.reserve(floats(H * N));
    capacity_ = N;
}

// The backend calls of forward and backward, each checked: a failure
// throws distill::error with the backend's message and the step's name.
namespace {

class calls {
public:
    explicit calls(device_session & session)
        : backend_(session.backend()), session_(session.handle()) {}

    // out[N, OUT] = inp[N, IN] · weight[OUT, IN]ᵀ (+ out when accumulate).
    void project(float * out, const float * inp, const float * weight, int64_t N, int64_t IN,
                 int64_t OUT, bool accumulate, const char * what) {
        check(backend_.gemm(session_, 0, 1, N, OUT, IN, 1.0f, inp, IN, weight, IN,
                            accumulate ? 1.0f : 0.0f, out, OUT, m_.text, sizeof m_.text),
              what);
    }
    // lm/transformer.cpp's project_backward: d_weight[OUT, IN] = d_outᵀ ·
    // inp (overwritten); d_inp[N, IN] = d_out · weight (or added).
    void project_backward(float * d_inp, float * d_weight, const float * d_out, const float * inp,
                          const float * weight, int64_t N, int64_t IN, int64_t OUT,
                          bool accumulate_inp, const char * what) {
        check(backend_.gemm(session_, 1, 0, OUT, IN, N, 1.0f, d_out, OUT, inp, IN, 0.0f, d_weight,
                            IN, m_.text, sizeof m_.text),
              what);
        check(backend_.gemm(session_, 0, 0, N, IN, OUT, 1.0f, d_out, OUT, weight, IN,
                            accumulate_inp ? 1.0f : 0.0f, d_inp, IN, m_.text, sizeof m_.text),
              what);
    }
    const distill_cuda_backend_v1 & backend() const { return backend_; }
    void * session() const { return session_; }
    char * text() { return m_.text; }
    size_t capacity() const { return sizeof m_.text; }
    void check(int32_t code, const char * what) {
        check_backend_call(code, (std::string("device transformer: ") + what).c_str(), m_.text);
    }

private:
    const distill_cuda_backend_v1 & backend_;
    void * session_;
    backend_message m_;
};

}  // namespace

const float * device_transformer::forward(const int32_t * host_tokens, int64_t B, int64_t T_) {
    have_forward_ = false;
    // The CPU model's checks and messages, on the host where the ids are.
    if (B < 1) fail_invalid("forward: batch: expected at least 1 sequence, got " + std::to_string(B));
    if (T_ < 1)
        fail_invalid("forward: sequence length: expected at least 1 position, got " +
                     std::to_string(T_));
    if (T_ > config_.context)
        fail_invalid("forward: sequence length: expected at most the model's context (" +
                     std::to_string(config_.context) + " positions), got " + std::to_string(T_));
    if (host_tokens == nullptr) fail_invalid("forward: tokens: expected a pointer, got null");
    const int64_t widest =
        std::max({config_.vocab, config_.ffn, config_.dim, config_.layers * config_.dim});
    if (B > INT_MAX / T_ / widest)
        fail_invalid("forward: batch: expected at most " + std::to_string(INT_MAX / T_ / widest) +
                     " sequences of " + std::to_string(T_) +
                     " positions for this model (2^31 - 1 values per buffer), got " +
                     std::to_string(B));
    const int64_t N = B * T_;
    for (int64_t n = 0; n < N; ++n)
        if (host_tokens[n] < 0 || host_tokens[n] >= config_.vocab)
            fail_invalid("forward: tokens[" + std::to_string(n / T_) + ", " +
                         std::to_string(n % T_) + "]: expected a token id in [0, " +
                         std::to_string(config_.vocab) + "), got " +
                         std::to_string(host_tokens[n]));
    reserve(N);
    batch_ = B;
    length_ = T_;
    // The positions grouped by id, ascending within an id (the embedding's
    // backward adds them in this order, as the CPU does).
    host_order_.resize(size_t(N));
    std::iota(host_order_.begin(), host_order_.end(), 0);
    std::stable_sort(host_order_.begin(), host_order_.end(),
                     [&](int32_t a, int32_t b) { return host_tokens[a] < host_tokens[b]; });
    session_.copy(tokens_.as<int32_t>(), host_tokens, sizeof(int32_t) * size_t(N), host_to_device);
    session_.copy(order_.as<int32_t>(), host_order_.data(), sizeof(int32_t) * size_t(N),
                  host_to_device);

    const int64_t C = config_.dim, F = config_.ffn, V = config_.vocab;
    const int64_t H = config_.heads, KV = config_.kv_heads, D = config_.head_dim();
    const int64_t QW = H * D, KW = KV * D;
    const float * w = parameters_.as<float>();
    const float * cos = rope_cos_.as<float>();
    const float * sin = rope_sin_.as<float>();
    calls c(session_);
    const distill_cuda_backend_v1 & api = c.backend();
    void * s = c.session();
    c.check(api.embedding_forward(s, residual_.as<float>(), tokens_.as<int32_t>(), w + embed_, N,
                                  C, V, c.text(), c.capacity()),
            "embedding");
    for (int64_t l = 0; l < config_.layers; ++l) {
        const transformer_layer_offsets & o = layers_[size_t(l)];
        const float * x = residual_.as<float>() + l * N * C;
        float * normed = input_normed_.as<float>() + l * N * C;
        float * rstd = input_rstd_.as<float>() + l * N;
        float * q = q_.as<float>() + l * N * QW;
        float * k = k_.as<float>() + l * N * KW;
        float * v = v_.as<float>() + l * N * KW;
        float * att = attention_.as<float>() + l * N * QW;
        float * lse = lse_.as<float>() + l * H * N;
        float * middle = middle_.as<float>() + l * N * C;
        float * post = post_normed_.as<float>() + l * N * C;
        float * post_rstd = post_rstd_.as<float>() + l * N;
        float * gate = gate_.as<float>() + l * N * F;
        float * up = up_.as<float>() + l * N * F;
        float * gated = gated_.as<float>() + l * N * F;
        float * next = residual_.as<float>() + (l + 1) * N * C;

        c.check(api.rmsnorm_forward(s, normed, rstd, x, w + o.input_norm, N, C,
                                    config_.rms_norm_eps, c.text(), c.capacity()),
                "input_layernorm");
        c.project(q, normed, w + o.q, N, C, QW, false, "q_proj");
        c.project(k, normed, w + o.k, N, C, KW, false, "k_proj");
        c.project(v, normed, w + o.v, N, C, KW, false, "v_proj");
        c.check(api.rope(s, q, cos, sin, B, T_, H, D, 0, c.text(), c.capacity()), "rope (q)");
        c.check(api.rope(s, k, cos, sin, B, T_, KV, D, 0, c.text(), c.capacity()), "rope (k)");
        c.check(api.attention_forward(s, att, lse, q, k, v, B, T_, H, KV, D, c.text(),
                                      c.capacity()),
                "attention");
        // middle = x + att · o_projᵀ
        session_.copy(middle, x, sizeof(float) * size_t(N * C), device_to_device);
        c.project(middle, att, w + o.o, N, QW, C, true, "o_proj");
        c.check(api.rmsnorm_forward(s, post, post_rstd, middle, w + o.post_attention_norm, N, C,
                                    config_.rms_norm_eps, c.text(), c.capacity()),
                "post_attention_layernorm");
        c.project(gate, post, w + o.gate, N, C, F, false, "gate_proj");
        c.project(up, post, w + o.up, N, C, F, false, "up_proj");
        c.check(api.swiglu_forward(s, gated, gate, up, N * F, c.text(), c.capacity()), "swiglu");
        session_.copy(next, middle, sizeof(float) * size_t(N * C), device_to_device);
        c.project(next, gated, w + o.down, N, F, C, true, "down_proj");
    }
    c.check(api.rmsnorm_forward(s, final_normed_.as<float>(), final_rstd_.as<float>(),
                                residual_.as<float>() + config_.layers * N * C, w + final_norm_, N,
                                C, config_.rms_norm_eps, c.text(), c.capacity()),
            "norm");
    c.project(logits_.as<float>(), final_normed_.as<float>(), w + lm_head_, N, C, V, false,
              "lm_head");
    have_forward_ = true;
    return logits_.as<float>();
}

void device_transformer::download_logits(float * host_out) {
    if (!have_forward_)
        fail_invalid("download_logits: expected a forward before it, got none since the model "
                     "was made or since a forward failed");
    if (host_out == nullptr) fail_invalid("download_logits: out: expected a pointer, got null");
    session_.copy(host_out, logits_.as<float>(),
                  sizeof(float) * size_t(batch_ * length_ * config_.vocab), device_to_host);
}

void device_transformer::backward(const float * device_d_logits) {
    if (!have_forward_)
        fail_invalid("backward: expected a forward before it, got none since the model was made "
                     "or since a forward failed");
    if (device_d_logits == nullptr) fail_invalid("backward: d_logits: expected a pointer, got null");
    run_backward(device_d_logits);
}

void device_transformer::backward_from_host(const float * host_d_logits) {
    if (!have_forward_)
        fail_invalid("backward: expected a forward before it, got none since the model was made "
                     "or since a forward failed");
    if (host_d_logits == nullptr) fail_invalid("backward: d_logits: expected a pointer, got null");
    session_.copy(d_logits_.as<float>(), host_d_logits,
                  sizeof(float) * size_t(batch_ * length_ * config_.vocab), host_to_device);
    run_backward(d_logits_.as<float>());
}

void device_transformer::run_backward(const float * d_logits) {
    const int64_t B = batch_, T_ = length_, N = B * T_, C = config_.dim, F = config_.ffn,
                  V = config_.vocab;
    const int64_t H = config_.heads, KV = config_.kv_heads, D = config_.head_dim();
    const int64_t QW = H * D, KW = KV * D;
    const float * w = parameters_.as<float>();
    float * g = gradients_.as<float>();
    float * d_res = d_residual_.as<float>();
    float * d_normed = d_normed_.as<float>();
    const float * cos = rope_cos_.as<float>();
    const float * sin = rope_sin_.as<float>();
    calls c(session_);
    const distill_cuda_backend_v1 & api = c.backend();
    void * s = c.session();

    // The head: d_lm_head = d_logitsᵀ · final_normed (into embed_tokens'
    // gradient when tied; the embedding's scatter adds to it at the end).
    c.project_backward(d_normed, g + lm_head_, d_logits, final_normed_.as<float>(), w + lm_head_,
                       N, C, V, false, "lm_head backward");
    c.check(api.rmsnorm_backward(s, d_res, g + final_norm_, d_normed,
                                 residual_.as<float>() + config_.layers * N * C,
                                 final_rstd_.as<float>(), w + final_norm_, N, C, 0, c.text(),
                                 c.capacity()),
            "norm backward");
    for (int64_t l = config_.layers - 1; l >= 0; --l) {
        const transformer_layer_offsets & o = layers_[size_t(l)];
        const float * x = residual_.as<float>() + l * N * C;
        const float * normed = input_normed_.as<float>() + l * N * C;
        const float * q = q_.as<float>() + l * N * QW;
        const float * k = k_.as<float>() + l * N * KW;
        const float * v = v_.as<float>() + l * N * KW;
        const float * att = attention_.as<float>() + l * N * QW;
        const float * lse = lse_.as<float>() + l * H * N;
        const float * middle = middle_.as<float>() + l * N * C;
        const float * post = post_normed_.as<float>() + l * N * C;
        const float * gate = gate_.as<float>() + l * N * F;
        const float * up = up_.as<float>() + l * N * F;
        const float * gated = gated_.as<float>() + l * N * F;
        // d_res holds the gradient of the layer's output. The MLP branch:
        c.project_backward(d_gated_.as<float>(), g + o.down, d_res, gated, w + o.down, N, F, C,
                           false, "down_proj backward");
        c.check(api.swiglu_backward(s, d_gate_.as<float>(), d_up_.as<float>(),
                                    d_gated_.as<float>(), gate, up, N * F, c.text(), c.capacity()),
                "swiglu backward");
        c.project_backward(d_normed, g + o.gate, d_gate_.as<float>(), post, w + o.gate, N, C, F,
                           false, "gate_proj backward");
        c.project_backward(d_normed, g + o.up, d_up_.as<float>(), post, w + o.up, N, C, F, true,
                           "up_proj backward");
        c.check(api.rmsnorm_backward(s, d_res, g + o.post_attention_norm, d_normed, middle,
                                     post_rstd_.as<float>() + l * N, w + o.post_attention_norm, N,
                                     C, 1, c.text(), c.capacity()),
                "post_attention_layernorm backward");
        // d_res: the gradient of middle. The attention branch:
        c.project_backward(d_attention_.as<float>(), g + o.o, d_res, att, w + o.o, N, QW, C, false,
                           "o_proj backward");
        c.check(api.attention_backward(s, d_q_.as<float>(), d_k_.as<float>(), d_v_.as<float>(),
                                       row_dot_.as<float>(), d_attention_.as<float>(), att, lse, q,
                                       k, v, B, T_, H, KV, D, c.text(), c.capacity()),
                "attention backward");
        c.check(api.rope(s, d_q_.as<float>(), cos, sin, B, T_, H, D, 1, c.text(), c.capacity()),
                "rope backward (q)");
        c.check(api.rope(s, d_k_.as<float>(), cos, sin, B, T_, KV, D, 1, c.text(), c.capacity()),
                "rope backward (k)");
        c.project_backward(d_normed, g + o.q, d_q_.as<float>(), normed, w + o.q, N, C, QW, false,
                           "q_proj backward");
        c.project_backward(d_normed, g + o.k, d_k_.as<float>(), normed, w + o.k, N, C, KW, true,
                           "k_proj backward");
        c.project_backward(d_normed, g + o.v, d_v_.as<float>(), normed, w + o.v, N, C, KW, true,
                           "v_proj backward");
        c.check(api.rmsnorm_backward(s, d_res, g + o.input_norm, d_normed, x,
                                     input_rstd_.as<float>() + l * N, w + o.input_norm, N, C, 1,
                                     c.text(), c.capacity()),
                "input_layernorm backward");
    }
    if (!config_.tie_embeddings)
        c.check(api.fill(s, g + embed_, 0.0f, V * C, c.text(), c.capacity()), "embedding backward");
    c.check(api.embedding_backward(s, g + embed_, d_res, tokens_.as<int32_t>(),
                                   order_.as<int32_t>(), N, C, V, c.text(), c.capacity()),
            "embedding backward");
    const std::span<float> host = host_.gradients();
    session_.copy(host.data(), g, sizeof(float) * host.size(), device_to_host);  // waits
}

double device_transformer::train_step(const int32_t * host_tokens, const int32_t * host_targets,
                                      int64_t B, int64_t T_) {
    if (host_targets == nullptr) fail_invalid("train_step: targets: expected a pointer, got null");
    upload_parameters();
    forward(host_tokens, B, T_);
    const int64_t N = B * T_, V = config_.vocab;
    // The CPU's check and message (lm/cross_entropy.cpp): the device kernel
    // could only flag a bad target with a NaN loss.
    for (int64_t n = 0; n < N; ++n)
        if (host_targets[n] != ignore_target && (host_targets[n] < 0 || host_targets[n] >= V))
            fail_invalid("targets[" + std::to_string(n) + "]: expected a token id in [0, " +
                         std::to_string(V) + ") or " + std::to_string(ignore_target) +
                         " (no target), got " + std::to_string(host_targets[n]));
    session_.copy(targets_.as<int32_t>(), host_targets, sizeof(int32_t) * size_t(N),
                  host_to_device);
    calls c(session_);
    c.check(c.backend().cross_entropy(c.session(), loss_.as<float>(), d_logits_.as<float>(),
                                      logits_.as<float>(), targets_.as<int32_t>(), N, V, c.text(),
                                      c.capacity()),
            "cross_entropy");
    float loss = 0.0f;
    session_.copy(&loss, loss_.as<float>(), sizeof(float), device_to_host);  // waits
    run_backward(d_logits_.as<float>());
    return double(loss);
}

}  // namespace distill::lm
