// Reading a teacher's answers about a training set from a store, without
// the teacher: for the distiller who has the store file (collected earlier,
// or shipped by a colleague) but not the teacher. distill_dataset_read_teacher.
//
// An answer is found by what the store keeps beside it: the teacher's
// identity, the parameters it was asked with, and the request (the
// example's teachers/example_wire.h JSON, canonical). Matching on those
// columns rather than recomputing request keys keeps working when a
// teacher recorded other parameters than its own (an HTTP teacher that
// clamped top_logprobs files the answer under the key of what was asked).
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "train/example_set.h"
#include "train/teacher_targets.h"

namespace distill {

class store;

// Whose answers to read: a teacher identity and the parameters it was asked
// with (both as the store and its export show them: provenance "teacher"
// and "parameters"). Unset means "the only one the store answered these
// examples with".
struct stored_teacher {
    std::optional<nlohmann::json> identity;
    std::optional<nlohmann::json> parameters;
};

// The teacher targets [N, K] of every example of `set` (K rule and fp16
// values as ask_teacher_for_targets), read from `s` in one scan inside one
// read transaction; counts.from_store = N. Throws invalid_argument, and
// changes nothing, for: an empty set; a store answering none of these
// examples; a `which` that matches no answering teacher, or several (the
// message lists them, with how many examples each answered); examples
// without an answer (how many of N were found, the first missing one);
// a stored failure or an answer without top-k class ids (the example named).
topk_targets read_stored_targets(const example_set & set, store & s, const stored_teacher & which);

}  // namespace distill
