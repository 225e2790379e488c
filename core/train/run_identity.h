// What determines a training run, recorded in its checkpoints
// (trainer_state.json, "run") and compared when one resumes: a checkpoint
// of another loss or other data must not quietly train on.
//
//   {"loss": {"divergence": 0, "beta": 0.5, "temperature": 4, ...},   every kd_loss_options field
//    "max_grad_norm": 0,
//    "data": {"rows": N, "features": D,                                 the last fit's training set
//             "inputs": hex, "labels": hex, "teacher": hex}}           64-bit digests (null: none)
//
// The model config and the optimizer's kind are checked by resume from the
// checkpoint's own files; the optimizer's numbers (lr, ...) and the
// schedule may change on a resume. Checkpoints written before this record
// carry no "run" and resume unchecked.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "losses/kd_loss.h"
#include "train/example_set.h"

namespace distill {

nlohmann::json loss_identity(const kd_loss_options & loss, float max_grad_norm);

// Rows, features and digests of the inputs, labels and teacher targets
// (one pass over the set's bytes, ~1 GB/s).
nlohmann::json data_identity(const example_set & set);

// Throws INVALID_ARGUMENT when `current` differs from `recorded` in any
// key both have, naming each such key with both values: "<source>: it was
// trained with <what>.temperature = 4, this run has 1; ...".
void require_same_identity(const nlohmann::json & recorded, const nlohmann::json & current,
                           const std::string & source, const std::string & what,
                           const std::string & remedy);

}  // namespace distill
