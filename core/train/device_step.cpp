#include "train/device_step.h"

#include "losses/kd_loss_validation.h"
#include "students/model.h"
#include "tensor/tensor_checks.h"

namespace distill {
namespace {

// A view of `host`'s shape and dtype over a device copy of its data.
// `host` is compact (checked by check_batch); the shape stays borrowed from it.
DLTensor device_copy(const DLTensor & host, device_buffer & buffer, int32_t device_id) {
    buffer.upload(data_pointer(host), size_t(byte_size(host)));
    DLTensor view = host;
    view.data = buffer.as<void>();
    view.device = {kDLCUDA, device_id};
    view.strides = nullptr;
    view.byte_offset = 0;
    return view;
}

}  // namespace

device_step::device_step(const context & ctx, model & m)
    : ctx_(ctx),
      classes_(m.output_size()),
      student_(ctx, m),
      teacher_logits_(student_.session()),
      topk_ids_(student_.session()),
      topk_logprobs_(student_.session()),
      labels_(student_.session()),
      loss_(student_.session()),
      grad_logits_(student_.session()) {}

float device_step::forward_and_loss(const batch_tensors & batch, const checked_batch & checked,
                                    const kd_loss_options & options, uint64_t dropout_seed,
                                    std::vector<float> & host_logits) {
    const int64_t rows = checked.rows;
    const int32_t device_id = ctx_.device_id;
    student_.upload_parameters();  // the host optimiser changed them
    const float * logits = student_.forward(checked.inputs, rows, true, dropout_seed);

    int64_t logits_shape[2] = {rows, classes_};
    DLTensor student{};
    student.data = const_cast<float *>(logits);
    student.device = {kDLCUDA, device_id};
    student.ndim = 2;
    student.dtype = {kDLFloat, 32, 1};
    student.shape = logits_shape;
    grad_logits_.reserve(sizeof(float) * size_t(rows * classes_));
    DLTensor grad = student;
    grad.data = grad_logits_.as<float>();
    loss_.reserve(sizeof(float));
    DLTensor loss = student;
    loss.data = loss_.as<float>();
    loss.ndim = 0;
    loss.shape = nullptr;

    // What the CPU's loss checks on the host values (labels in range, top-k
    // ids and log-probabilities), the device kernels only flag with NaN:
    // check the host copies here, after the loss's shape checks, so a bad
    // batch gets the CPU's message rather than a non-finite loss.
    kernels::kd_loss_params values = resolve_options(options);
    values.rows = rows;
    values.vocab = classes_;
    DLTensor labels{};
    const DLTensor * loss_labels = nullptr;
    if (options.hard_weight > 0.0f) {
        labels = device_copy(*batch.labels, labels_, device_id);
        loss_labels = &labels;
    }
    if (options.soft_weight == 0.0f) {
        // Labels only, as on the CPU: the student's logits stand in for the teacher.
        kd_loss_dense(ctx_, options, &student, &student, loss_labels, &loss, &grad);
    } else if (batch.teacher_logits != nullptr) {
        const DLTensor teacher = device_copy(*batch.teacher_logits, teacher_logits_, device_id);
        kd_loss_dense(ctx_, options, &student, &teacher, loss_labels, &loss, &grad);
    } else {
        const DLTensor ids = device_copy(*batch.teacher_topk_ids, topk_ids_, device_id);
        const DLTensor logprobs =
            device_copy(*batch.teacher_topk_logprobs, topk_logprobs_, device_id);
        kd_loss_topk(ctx_, options, &student, &ids, &logprobs, loss_labels, &loss, &grad);
        values.topk = ids.shape[1];
        values.topk_id_type =
            ids.dtype.bits == 64 ? kernels::index_type::i64 : kernels::index_type::i32;
        check_topk_values(data_pointer(*batch.teacher_topk_ids),
                          data_pointer(*batch.teacher_topk_logprobs), values);
    }
    if (loss_labels != nullptr) {
        values.label_type = kernels::index_type::i64;
        check_label_values(data_pointer(*batch.labels), values);
    }

    float loss_value = 0.0f;
    student_.session().copy(&loss_value, loss_.as<float>(), sizeof(float), 1);  // waits
    host_logits.resize(size_t(rows * classes_));
    student_.download_logits(host_logits.data());  // for the step's metrics
    return loss_value;
}

void device_step::backward() { student_.backward(grad_logits_.as<float>()); }

}  // namespace distill
