// The fused, feature-split forward and backward of MLPs without dropout:
// see feature_split_mlp.h.
#include "students/feature_split_mlp.h"

#include <algorithm>

#include "students/layers/blas.h"
#include "students/layers/gelu.h"
#include "students/layers/relu.h"
#include "students/layers/thread_team.h"

namespace distill {
namespace {

bool is_activation(const model::op & o) {
    return o.type == model::op_type::relu || o.type == model::op_type::gelu;
}

// Blocks of a layer's features (outputs of a linear layer, its weight
// rows): a power of two up to 16, of at least 16 features each. The same
// blocks, statically scheduled, in forward (the outputs), backward (the
// weight rows' gradients, and the input gradients of the layer after) and
// the optimizer (halves of the parameters for two threads): each thread
// keeps to the same weights and activations, which stay in its core's
// cache instead of moving between cores at every step (measured: a 100k
// parameter AdamW update took 15 µs on data in its core's cache, 46 µs on
// data last written by the other core). Fixed by the sizes alone, never
// by the thread count, and every element is computed the same way in any
// block, so results are bit-identical for any number of threads.
int64_t feature_blocks(int64_t features) {
    int64_t blocks = 1;
    while (blocks < 16 && features >= 2 * blocks * 16) blocks *= 2;
    return blocks;
}

// Whether a pass over `batch` rows is worth a second thread: at least 1M
// multiply-adds (≈ 10 µs; a fork/join costs a few).
bool worth_threads(const std::vector<model::op> & ops, int64_t batch) {
    int64_t per_sample = 0;
    for (const model::op & o : ops)
        if (o.type == model::op_type::linear) per_sample += o.in_size * o.out_size;
    return batch * per_sample >= int64_t{1} << 20;
}

// Activation `act` on columns [begin, end) of rows [0, rows) of a matrix
// `width` wide (row by row: the columns of a block are not contiguous).
void activation_columns(const model::op & act, float * out, const float * in, int64_t rows,
                        int64_t width, int64_t begin, int64_t end) {
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t at = r * width + begin;
        if (act.type == model::op_type::relu)
            layers::relu_forward(out + at, in + at, end - begin);
        else
            layers::gelu_forward(out + at, in + at, end - begin);
    }
}

void activation_columns_backward(const model::op & act, float * d_in, const float * d_out,
                                 const float * in, int64_t rows, int64_t width, int64_t begin,
                                 int64_t end) {
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t at = r * width + begin;
        if (act.type == model::op_type::relu)
            layers::relu_backward(d_in + at, d_out + at, in + at, end - begin);
        else
            layers::gelu_backward(d_in + at, d_out + at, in + at, end - begin);
    }
}

// Calls fn(block) for member's share of `blocks` (contiguous, as OpenMP's
// schedule(static)).
template <class Fn>
void for_my_blocks(int64_t blocks, int member, int team, Fn && fn) {
    const int64_t end = layers::thread_team::first_block(blocks, member + 1, team);
    for (int64_t block = layers::thread_team::first_block(blocks, member, team); block < end;
         ++block)
        fn(block);
}

}  // namespace

// Whether the model is a chain of linear layers and activations (an MLP
// without dropout, whose masks are numbered over the whole batch): then
// forward_by_features and backward_by_features run it, one thread_team
// job each (students/layers/thread_team.h), rather than an OpenMP region
// per GEMM with the small steps (bias, activation, the output layer) on
// one thread.
bool by_features(const std::vector<model::op> & ops) {
    if (ops.empty() || ops.front().type != model::op_type::linear) return false;
    for (const model::op & o : ops)
        if (o.type != model::op_type::linear && o.type != model::op_type::relu &&
            o.type != model::op_type::gelu)
            return false;
    return true;
}

// Forward of a by_features model on a thread_team. Each linear layer by
// blocks of its outputs (feature_blocks): bias, GEMM (beta = 1) and the
// activation after it on those columns; a barrier between layers (the next
// reads all columns). The first layer reads the inputs where they are;
// training copies them (backward needs them, the caller may reuse its
// buffer) alongside, by rows. The last step writes `outputs` (backward
// never reads the outputs).
void forward_by_features(const std::vector<model::op> & ops,
                         std::vector<std::vector<float>> & activations, const float * w,
                         const float * inputs, float * outputs, int64_t batch, bool training) {
    const int64_t features = ops.front().in_size;
    size_t last_linear = 0;
    for (size_t i = 0; i < ops.size(); ++i)
        if (ops[i].type == model::op_type::linear) last_linear = i;
    const int team = worth_threads(ops, batch) ? layers::thread_team::size() : 1;
    layers::thread_team::run(team, [&](int member, int size) {
        if (training)
            for_my_blocks(16, member, size, [&](int64_t block) {
                const int64_t begin = batch * block / 16, end = batch * (block + 1) / 16;
                std::copy(inputs + begin * features, inputs + end * features,
                          activations[0].data() + begin * features);
            });
        for (size_t i = 0; i < ops.size(); ++i) {
            const model::op & o = ops[i];
            if (o.type != model::op_type::linear) continue;  // done with the layer before
            const float * in = i == 0 ? inputs : activations[i].data();
            float * out = i + 1 == ops.size() ? outputs : activations[i + 1].data();
            const bool act = i + 1 < ops.size() && is_activation(ops[i + 1]);
            float * act_out = !act ? nullptr
                              : i + 2 == ops.size() ? outputs
                                                    : activations[i + 2].data();
            const float * weight = w + o.weight_offset, * bias = w + o.bias_offset;
            const int64_t width = o.out_size;
            for_my_blocks(feature_blocks(width), member, size, [&](int64_t block) {
                const int64_t blocks = feature_blocks(width);
                const int64_t begin = width * block / blocks, end = width * (block + 1) / blocks;
                for (int64_t r = 0; r < batch; ++r)
                    std::copy(bias + begin, bias + end, out + r * width + begin);
                // out[B, begin:end] += in[B, IN] · weight[begin:end, IN]ᵀ
                layers::gemm(false, true, batch, end - begin, o.in_size, 1.0f, in, o.in_size,
                             weight + begin * o.in_size, o.in_size, 1.0f, out + begin, width);
                if (act) activation_columns(ops[i + 1], act_out, out, batch, width, begin, end);
            });
            // The next layer reads all columns; after the last, run() waits.
            if (i != last_linear) layers::thread_team::barrier(size);
        }
    });
}

// Backward of a by_features model, from the last layer to the first, on a
// thread_team. Per linear layer, by blocks of its outputs: the weight
// rows' and biases' gradients (sums over the batch); then, by blocks of
// its inputs (the outputs of the layer before), the input gradient and
// the activation's backward on those columns; a barrier before the layer
// below reads them. d_act[i] (i = 1 … ops − 1), the gradient of activation
// i, lies in `stacked`; d_act[ops] is d_outputs.
void backward_by_features(const std::vector<model::op> & ops,
                          const std::vector<std::vector<float>> & activations, const float * w,
                          float * g, float * stacked, const float * d_outputs, int64_t batch) {
    std::vector<float *> d_act(ops.size() + 1, nullptr);
    for (size_t i = 1, offset = 0; i < ops.size(); offset += size_t(batch * ops[i].in_size), ++i)
        d_act[i] = stacked + offset;
    d_act[ops.size()] = const_cast<float *>(d_outputs);  // read only
    const int team = worth_threads(ops, batch) ? layers::thread_team::size() : 1;
    layers::thread_team::run(team, [&](int member, int size) {
        for (size_t i = ops.size(); i-- > 0;) {
            const model::op & o = ops[i];
            if (o.type != model::op_type::linear) continue;  // done with the layer after
            const float * d_out = d_act[i + 1];
            const float * in = activations[i].data();
            const int64_t out_blocks = feature_blocks(o.out_size);
            for_my_blocks(out_blocks, member, size, [&](int64_t block) {
                const int64_t begin = o.out_size * block / out_blocks;
                const int64_t end = o.out_size * (block + 1) / out_blocks;
                // d_weight[begin:end, IN] = d_out[B, begin:end]ᵀ · in[B, IN]
                layers::gemm(true, false, end - begin, o.in_size, batch, 1.0f, d_out + begin,
                             o.out_size, in, o.in_size, 0.0f,
                             g + o.weight_offset + begin * o.in_size, o.in_size);
                float * d_bias = g + o.bias_offset;  // each sum over the batch in row order
                for (int64_t c = begin; c < end; ++c) d_bias[c] = 0.0f;
                for (int64_t r = 0; r < batch; ++r)
                    for (int64_t c = begin; c < end; ++c)
                        d_bias[c] += d_out[r * o.out_size + c];
            });
            if (i == 0) continue;  // the inputs need no gradient
            const bool act = is_activation(ops[i - 1]);
            const int64_t in_blocks = feature_blocks(o.in_size);
            for_my_blocks(in_blocks, member, size, [&](int64_t block) {
                const int64_t begin = o.in_size * block / in_blocks;
                const int64_t end = o.in_size * (block + 1) / in_blocks;
                // d_in[B, begin:end] = d_out[B, OUT] · weight[OUT, begin:end]
                layers::gemm(false, false, batch, end - begin, o.out_size, 1.0f, d_out,
                             o.out_size, w + o.weight_offset + begin, o.in_size, 0.0f,
                             d_act[i] + begin, o.in_size);
                if (act)
                    activation_columns_backward(ops[i - 1], d_act[i - 1], d_act[i],
                                                activations[i - 1].data(), batch, o.in_size,
                                                begin, end);
            });
            layers::thread_team::barrier(size);  // the layer below reads all columns
        }
    });
}

}  // namespace distill
