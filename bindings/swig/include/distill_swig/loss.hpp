// loss.hpp — the distillation loss on host arrays (distill_kd_loss and
// distill_kd_loss_topk): logits are rows of V values, row-major, read in
// place; the gradient, when asked for, is written in place.
#pragma once

#include "core.hpp"

namespace distill_swig {

/// A direct java.nio buffer (FloatBuffer, or ByteBuffer in the native byte
/// order) seen in place from its position to its limit. The same view as
/// FloatArray; a distinct type so that Java gets overloads taking buffers.
struct FloatBuffer : FloatArray {};

/// The distillation loss over arrays of N rows (see the loss conventions of
/// distill.h: temperature, T² scaling, divergences, ignore_index).
class Loss {
public:
    /// The reduced loss (BATCHMEAN or SUM) of student logits [rows, V]
    /// against dense teacher logits [rows, V]; labels [rows] or null; grad
    /// null, or [rows, V] to receive the gradient with respect to the
    /// student's logits. options null = the defaults.
    static float kd_loss(const Context * context, const LossOptions * options, FloatArray student,
                         FloatArray teacher, LongArray labels, int64_t rows, FloatArray grad) {
        float loss = 0.0f;
        dense(context, options, student, teacher, labels, rows, FloatArray{&loss, 1}, grad, true);
        return loss;
    }

    /// kd_loss over direct buffers, without copies.
    static float kd_loss(const Context * context, const LossOptions * options, FloatBuffer student,
                         FloatBuffer teacher, LongArray labels, int64_t rows, FloatBuffer grad) {
        float loss = 0.0f;
        dense(context, options, student, teacher, labels, rows, FloatArray{&loss, 1}, grad, true);
        return loss;
    }

    /// Reduction NONE: row_losses [rows] receives each row's loss.
    static void kd_loss_rows(const Context * context, const LossOptions * options,
                             FloatArray student, FloatArray teacher, LongArray labels, int64_t rows,
                             FloatArray row_losses, FloatArray grad) {
        dense(context, options, student, teacher, labels, rows, row_losses, grad, false);
    }

    /// The reduced loss against a top-k teacher: ids [rows, K] and their
    /// log-probabilities [rows, K] (options' tail chooses how the mass
    /// outside the top-k counts).
    static float kd_loss_topk(const Context * context, const LossOptions * options,
                              FloatArray student, IntArray teacher_ids,
                              FloatArray teacher_logprobs, LongArray labels, int64_t rows,
                              FloatArray grad) {
        const LossOptions defaults;
        const distill::KdLossOptions c_options = (options ? *options : defaults).to_options();
        refuse_rows_reduction(c_options);
        const int64_t vocabulary = columns_of(student.length, rows, "student");
        const int64_t k = columns_of(teacher_ids.length, rows, "teacher_ids");
        expect_length(teacher_logprobs.length, rows * k, "teacher_logprobs");
        TensorView student_t(student.data, float32, rows, vocabulary, 2);
        TensorView ids_t(teacher_ids.data, int32, rows, k, 2);
        TensorView logprobs_t(teacher_logprobs.data, float32, rows, k, 2);
        float loss = 0.0f;
        TensorView loss_t(&loss, float32, 1, 0, 0);
        Optional labels_t(labels, rows, "labels", int64);
        Optional grad_t(grad, rows * vocabulary, "grad", float32, vocabulary);
        const distill::Context & on = require(context, "context").native();
        call([&] {
            distill::kd_loss_topk(on, c_options, student_t.tensor, ids_t.tensor, logprobs_t.tensor,
                                  labels_t.get(), loss_t.tensor, grad_t.get());
        });
        return loss;
    }

private:
    // A tensor for an optional array (labels, grad): null when the array is.
    struct Optional {
        std::optional<TensorView> view;
        template <class Array>
        Optional(const Array & array, int64_t length, const char * name, DLDataType dtype,
                 int64_t columns = 0) {
            if (array.data == nullptr) return;
            expect_length(array.length, length, name);
            const int64_t rows = columns ? length / columns : length;
            view.emplace(array.data, dtype, rows, columns, columns ? 2 : 1);
        }
        DLTensor * get() { return view ? &view->tensor : nullptr; }
    };

    static void refuse_rows_reduction(const distill::KdLossOptions & options) {
        if (options->reduction == DISTILL_REDUCTION_NONE)
            throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                        "options.reduction: NONE gives one loss per row; call kd_loss_rows");
    }

    static void dense(const Context * context, const LossOptions * options, FloatArray student,
                      FloatArray teacher, LongArray labels, int64_t rows, FloatArray loss,
                      FloatArray grad, bool reduced) {
        const LossOptions defaults;
        distill::KdLossOptions c_options = (options ? *options : defaults).to_options();
        if (reduced) refuse_rows_reduction(c_options);
        else c_options->reduction = DISTILL_REDUCTION_NONE;
        const int64_t vocabulary = columns_of(student.length, rows, "student");
        expect_length(teacher.length, rows * vocabulary, "teacher");
        if (!reduced) expect_length(loss.length, rows, "row_losses");
        TensorView student_t(student.data, float32, rows, vocabulary, 2);
        TensorView teacher_t(teacher.data, float32, rows, vocabulary, 2);
        TensorView loss_t(loss.data, float32, rows, 0, reduced ? 0 : 1);
        Optional labels_t(labels, rows, "labels", int64);
        Optional grad_t(grad, rows * vocabulary, "grad", float32, vocabulary);
        const distill::Context & on = require(context, "context").native();
        call([&] {
            distill::kd_loss(on, c_options, student_t.tensor, teacher_t.tensor, labels_t.get(),
                             loss_t.tensor, grad_t.get());
        });
    }
};

}  // namespace distill_swig
