// Training a transformer student (train/transformer_trainer.h) for a number
// of steps on a token dataset's training windows (text/text_dataset.h), or
// on the rows of a teacher's stored answers (train/stored_completions.h):
// the loops behind `distill train` on text, distill_trainer_fit_text and
// distill_trainer_fit_stored.
//
// Data order: epoch e visits every training window (row) once, in the
// order text::seeded_permutation(count, epoch_seed(seed, e)) (for windows,
// text_dataset::shuffled_windows); the epochs' orders are concatenated and
// step s (0-based) takes positions [s·B, s·B + B) of that sequence (a batch
// may span two epochs). The order is a function of (seed, B, step) alone,
// so a trainer resumed from a checkpoint of step s continues with exactly
// the batches a run that never stopped would have taken.
//
// Teacher: with an in-process teacher transformer, each batch's dense
// teacher logits (train/token_distillation.h) are computed on the batch and
// the trainer's loss options apply; without one, the next-token
// cross-entropy. Every position of a window counts (no −100 in the data).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include "text/text_dataset.h"
#include "train/lm_evaluation.h"
#include "train/stored_completions.h"
#include "train/transformer_trainer.h"

namespace distill {

struct text_fit_settings {
    int64_t steps = 0;          // train until the trainer's global step is this (> its step)
    int64_t batch_windows = 8;  // windows per step, ≥ 1
    uint64_t seed = 0;          // of the window order
    int64_t eval_interval = 0;  // validate every this many steps (and at the end); 0 = only at the end
    int64_t eval_windows = 0;   // validation windows per evaluation; 0 = all
    std::filesystem::path checkpoint_dir;  // empty = none; written at each evaluation and at the end
    int num_threads = 0;
};

// What the progress callback sees: after every step (evaluated = false)
// and after every validation (evaluated = true, with its figures; none
// without a validation split). What the report after the final validation
// returns is not used: the steps are done.
struct text_fit_event {
    bool evaluated = false;
    int64_t step = 0, steps = 0;     // the trainer's global step, the target
    double loss = 0.0;               // mean training loss of the steps of this call so far
    double tokens_per_second = 0.0;  // training positions per second in this call so far
    lm_eval_result validation;       // when evaluated
    double elapsed_seconds = 0.0;
};
// Returning false cancels the fit (the checkpoint is written when configured).
using text_fit_progress = std::function<bool(const text_fit_event &)>;

struct text_fit_outcome {
    int64_t steps_run = 0;          // in this call
    int64_t global_step = 0;        // the trainer's, at the end
    double final_loss = 0.0;        // the last step's (NaN if none ran)
    bool cancelled = false;
    bool validated = false;         // the dataset has a validation split and it was evaluated
    lm_eval_result validation;      // the last evaluation's
    double seconds = 0.0;
};

// The seed of epoch e's window order.
uint64_t epoch_seed(uint64_t seed, int64_t epoch);

// Throws invalid_argument before any step for: a dataset the student cannot
// read (vocabulary or context, both numbers named), no training window,
// steps not above the trainer's global step, settings out of range, a
// teacher of another vocabulary or a shorter context; and what a step
// refuses (a non-finite loss), leaving the trainer at its last good step.
text_fit_outcome fit_text(transformer_trainer & trainer, lm::transformer * teacher,
                          const text::text_dataset & data, const text_fit_settings & settings,
                          const text_fit_progress & progress = {});

// The same over completion rows of T ≤ the student's context, each step's
// rows with their top-k targets (the trainer's loss options apply). There
// is no validation split: eval_interval and eval_windows only set when
// checkpoints are written, and the outcome has validated = false. Rows of
// text only (no top-k) need a trainer whose hard_weight is above 0, else
// invalid_argument before any step.
text_fit_outcome fit_completions(transformer_trainer & trainer, const completion_rows & rows,
                                 const text_fit_settings & settings,
                                 const text_fit_progress & progress = {});

}  // namespace distill
