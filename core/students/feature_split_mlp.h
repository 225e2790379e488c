// The fast path of the commonest student, an MLP without dropout (a chain
// of linear layers and ReLU/GELU): its forward and its backward each run as
// one job of a small thread team (students/layers/thread_team.h), every
// layer split by blocks of its features (outputs), with the bias and the
// activation fused into the same pass, instead of an OpenMP region per GEMM
// and single-threaded small steps. The blocks depend on the sizes alone, so
// results are bit-identical for any thread count.
//
// Shapes (B rows): activations[i] is the input of ops[i], [B, ops[i].in_size]
// (activations[0] the inputs' copy, training only); w and g are the model's
// parameter and gradient buffers (model.h's layout).
#pragma once

#include <cstdint>
#include <vector>

#include "students/model.h"

namespace distill {

// Whether `ops` is such a chain (its first op a linear layer).
bool by_features(const std::vector<model::op> & ops);

// outputs[B, O] for inputs[B, IN], read in place. training = true also
// copies the inputs into activations[0] and keeps every activation for
// backward_by_features.
void forward_by_features(const std::vector<model::op> & ops,
                         std::vector<std::vector<float>> & activations, const float * w,
                         const float * inputs, float * outputs, int64_t batch, bool training);

// Overwrites g with the gradients for d_outputs[B, O] after a training
// forward; `stacked` is scratch for the gradients of activations 1 … ops−1,
// one after another (Σ B · ops[i].in_size floats).
void backward_by_features(const std::vector<model::op> & ops,
                          const std::vector<std::vector<float>> & activations, const float * w,
                          float * g, float * stacked, const float * d_outputs, int64_t batch);

}  // namespace distill
