// How well a transformer student (lm/transformer.h) predicts a token
// dataset's windows (text/text_dataset.h), and how closely it follows a
// teacher transformer on them: the figures `distill eval` prints and
// distill_lm_evaluate returns.
//
// Over the positions of the windows evaluated (window w of the split:
// inputs its first context tokens, targets the same shifted by one):
//   loss        mean cross-entropy −log q_student(target)     (nats)
//   perplexity  exp(loss)
//   accuracy    fraction of positions whose student argmax is the target
//   agreement   fraction whose student argmax is the teacher's argmax
//   mean_kl     mean KL(p_teacher ‖ q_student), both at temperature 1
// (agreement and mean_kl NaN without a teacher). Ties in an argmax go to
// the lowest id. Sums are in double, position by position in a fixed
// order: the same figures for any thread count.
#pragma once

#include <cstdint>

#include "lm/transformer.h"
#include "text/text_dataset.h"
#include "train/stored_completions.h"

namespace distill {

struct lm_eval_settings {
    text::dataset_split split = text::dataset_split::validation;
    int64_t batch_windows = 8;  // windows per forward, ≥ 1
    int64_t max_windows = 0;    // the first this many of the split; 0 = all
    int num_threads = 0;        // ≤ 0: OpenMP's default
};

struct lm_eval_result {
    int64_t windows = 0;
    int64_t positions = 0;
    double loss = 0.0;
    double perplexity = 0.0;
    double accuracy = 0.0;
    double agreement = 0.0;
    double mean_kl = 0.0;
};

// Throws invalid_argument, before any forward, for a dataset the student
// cannot read (a larger vocabulary or a longer context: both numbers
// named), a split with no window, a teacher of another vocabulary (both
// sizes) or shorter context, and settings out of range (named).
lm_eval_result evaluate_language_model(lm::transformer & student, lm::transformer * teacher,
                                       const text::text_dataset & data,
                                       const lm_eval_settings & settings);

// The same figures over a teacher's stored answers (completion rows): the
// positions that predict a completion token, loss and accuracy against the
// teacher's completion, agreement with its top-1 alternative over the rows
// that have top-k targets (mapped to the student's ids; one the student
// lacks never agrees; NaN when no row has targets); mean_kl NaN (the top-k
// targets are not a whole distribution). max_windows limits the rows.
lm_eval_result evaluate_on_completions(lm::transformer & student, const completion_rows & rows,
                                       const lm_eval_settings & settings);

}  // namespace distill
