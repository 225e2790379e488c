#include "kd_loss_validation.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "kernels/cpu/cpu_math.h"
#include "tensor/tensor_checks.h"

namespace distill {
namespace {

using kernels::index_type;
using kernels::scalar_type;

std::string str(int64_t v) { return std::to_string(v); }

std::string fstr(float v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

bool finite_non_negative(float v) { return std::isfinite(v) && v >= 0.0f; }

expected_device device_of(const context & ctx) { return {ctx.cuda, ctx.device_id}; }

template <class L>
float logprob_at(const void * logprobs, int64_t i) {
    return kernels::cpu::isa_generic::to_float(static_cast<const L *>(logprobs)[i]);
}

float load_logprob(const void * logprobs, scalar_type type, int64_t i) {
    switch (type) {
    case scalar_type::bf16: return logprob_at<kernels::cpu::isa_generic::bf16_bits>(logprobs, i);
    case scalar_type::f16: return logprob_at<kernels::cpu::isa_generic::fp16>(logprobs, i);
    case scalar_type::f32: break;
    }
    return logprob_at<float>(logprobs, i);
}

}  // namespace

kernels::kd_loss_params resolve_options(const kd_loss_options & options) {
    kernels::kd_loss_params params;
    if (options.divergence < 0 || options.divergence > 3)
        fail_invalid(
            "options.divergence: expected DISTILL_DIVERGENCE_FORWARD_KL (0), "
            "REVERSE_KL (1), JSD (2) or TVD (3), got " +
            str(options.divergence));
    if (!(options.beta >= 0.0f && options.beta <= 1.0f))
        fail_invalid("options.beta: expected a value in [0, 1], got " + fstr(options.beta));
    if (!(std::isfinite(options.temperature) && options.temperature > 0.0f))
        fail_invalid("options.temperature: expected a finite value > 0, got " +
                     fstr(options.temperature));
    if (!finite_non_negative(options.soft_weight))
        fail_invalid("options.soft_weight: expected a finite value >= 0, got " +
                     fstr(options.soft_weight));
    if (!finite_non_negative(options.hard_weight))
        fail_invalid("options.hard_weight: expected a finite value >= 0, got " +
                     fstr(options.hard_weight));
    if (options.reduction < 0 || options.reduction > 2)
        fail_invalid(
            "options.reduction: expected DISTILL_REDUCTION_BATCHMEAN (0), SUM (1) or "
            "NONE (2), got " +
            str(options.reduction));
    if (options.tail < 0 || options.tail > 1)
        fail_invalid("options.tail: expected DISTILL_TAIL_RENORMALIZE (0) or BUCKET (1), got " +
                     str(options.tail));

    auto divergence = static_cast<kernels::divergence_kind>(options.divergence);
    // TRL's convention: the endpoints of JSD are the two KLs, not 0.
    if (divergence == kernels::divergence_kind::jsd && options.beta == 0.0f)
        divergence = kernels::divergence_kind::forward_kl;
    if (divergence == kernels::divergence_kind::jsd && options.beta == 1.0f)
        divergence = kernels::divergence_kind::reverse_kl;
    params.divergence = divergence;
    params.beta = options.beta;
    params.temperature = options.temperature;
    params.inv_temperature = 1.0f / options.temperature;
    const float t2 = options.scale_by_t2 ? options.temperature * options.temperature : 1.0f;
    params.soft_scale = options.soft_weight * t2;
    params.hard_weight = options.hard_weight;
    params.ignore_index = options.ignore_index;
    params.tail_bucket = options.tail == 1;
    return params;
}

void check_student_side(const context & ctx, const kd_loss_options & options,
                        const DLTensor * student_logits, const DLTensor * labels,
                        const DLTensor * loss, const DLTensor * grad,
                        kernels::kd_loss_params & params) {
    const DLTensor & student = require_tensor(student_logits, "student_logits");
    require_device(student, "student_logits", device_of(ctx));
    params.student_type = require_floating(student, "student_logits");
    if (student.ndim != 2)
        fail_invalid("student_logits: expected shape [N, V] (2 dimensions), got " +
                     shape_string(student));
    require_contiguous(student, "student_logits");
    params.rows = student.shape[0];
    params.vocab = student.shape[1];
    if (params.vocab < 1)
        fail_invalid("student_logits: expected a vocabulary V >= 1, got shape " +
                     shape_string(student));
    const std::string n_is = "(N = " + str(params.rows) + " of student_logits)";

    if (labels != nullptr) {
        const DLTensor & l = require_tensor(labels, "labels");
        require_device(l, "labels", device_of(ctx));
        params.label_type = require_integer(l, "labels");
        require_shape(l, "labels", {params.rows}, "[N] = [" + str(params.rows) + "] " + n_is);
        require_contiguous(l, "labels");
    } else if (options.hard_weight != 0.0f) {
        fail_invalid("labels: expected labels [N] since options.hard_weight = " +
                     fstr(options.hard_weight) + " > 0, got NULL");
    }

    const DLTensor & out = require_tensor(loss, "loss");
    require_device(out, "loss", device_of(ctx));
    if (out.dtype.code != kDLFloat || out.dtype.bits != 32 || out.dtype.lanes != 1)
        fail_invalid("loss: expected dtype float32, got " + dtype_string(out.dtype));
    if (options.reduction == static_cast<int32_t>(reduction_kind::none)) {
        require_shape(out, "loss", {params.rows},
                      "[N] = [" + str(params.rows) + "] for reduction NONE " + n_is);
    } else if (!(out.ndim == 0 || (out.ndim == 1 && out.shape[0] == 1))) {
        fail_invalid("loss: expected a scalar (shape [] or [1]) for reduction " +
                     std::string(options.reduction == 0 ? "BATCHMEAN" : "SUM") + ", got shape " +
                     shape_string(out));
    }
    require_contiguous(out, "loss");
    require_no_overlap(out, "loss", student, "student_logits");

    if (grad != nullptr) {
        const DLTensor & g = require_tensor(grad, "grad_student_logits");
        require_device(g, "grad_student_logits", device_of(ctx));
        const scalar_type grad_type = require_floating(g, "grad_student_logits");
        if (grad_type != params.student_type)
            fail_invalid("grad_student_logits: expected the student's dtype " +
                         dtype_string(student.dtype) + ", got " + dtype_string(g.dtype));
        require_shape(g, "grad_student_logits", {params.rows, params.vocab},
                      "[N, V] = " + shape_string(student) + " (the student's)");
        require_contiguous(g, "grad_student_logits");
        require_no_overlap(g, "grad_student_logits", student, "student_logits");
        require_no_overlap(g, "grad_student_logits", out, "loss");
    }
}

void check_dense_teacher(const context & ctx, const DLTensor * teacher_logits,
                         kernels::kd_loss_params & params) {
    const DLTensor & teacher = require_tensor(teacher_logits, "teacher_logits");
    require_device(teacher, "teacher_logits", device_of(ctx));
    params.teacher_type = require_floating(teacher, "teacher_logits");
    if (teacher.ndim == 2 && teacher.shape[0] == params.rows && teacher.shape[1] != params.vocab)
        fail_invalid("teacher_logits: expected the student's vocabulary V = " + str(params.vocab) +
                     ", got V = " + str(teacher.shape[1]) +
                     " (teacher and student vocabularies differ; map them first, distill never "
                     "pads)");
    require_shape(teacher, "teacher_logits", {params.rows, params.vocab},
                  "[N, V] = [" + str(params.rows) + ", " + str(params.vocab) + "] (the student's)");
    require_contiguous(teacher, "teacher_logits");
}

void check_topk_teacher(const context & ctx, const DLTensor * teacher_topk_ids,
                        const DLTensor * teacher_topk_logprobs, kernels::kd_loss_params & params) {
    const DLTensor & ids = require_tensor(teacher_topk_ids, "teacher_topk_ids");
    const DLTensor & logprobs = require_tensor(teacher_topk_logprobs, "teacher_topk_logprobs");
    require_device(ids, "teacher_topk_ids", device_of(ctx));
    require_device(logprobs, "teacher_topk_logprobs", device_of(ctx));
    params.topk_id_type = require_integer(ids, "teacher_topk_ids");
    params.teacher_type = require_floating(logprobs, "teacher_topk_logprobs");
    if (ids.ndim != 2 || ids.shape[0] != params.rows)
        fail_invalid("teacher_topk_ids: expected shape [N, K] with N = " + str(params.rows) +
                     " (of student_logits), got " + shape_string(ids));
    params.topk = ids.shape[1];
    if (params.topk < 1 || params.topk > params.vocab)
        fail_invalid("teacher_topk_ids: expected K in [1, V] = [1, " + str(params.vocab) +
                     "], got K = " + str(params.topk));
    require_shape(logprobs, "teacher_topk_logprobs", {params.rows, params.topk},
                  "[N, K] = [" + str(params.rows) + ", " + str(params.topk) +
                      "] (the shape of teacher_topk_ids)");
    require_contiguous(ids, "teacher_topk_ids");
    require_contiguous(logprobs, "teacher_topk_logprobs");
    if (params.divergence == kernels::divergence_kind::reverse_kl && !params.tail_bucket)
        fail_unsupported(
            "options.divergence: reverse KL (or JSD with beta = 1) is undefined against a "
            "renormalised top-k teacher (p = 0 outside the top-k where the student has mass); "
            "use options.tail = DISTILL_TAIL_BUCKET or a dense teacher");
}

void check_label_values(const void * labels, const kernels::kd_loss_params & params) {
    if (params.label_type == index_type::none) return;
    for (int64_t row = 0; row < params.rows; ++row) {
        const int64_t label = kernels::cpu::isa_generic::load_index(labels, params.label_type, row);
        if (label == params.ignore_index) continue;
        if (label < 0 || label >= params.vocab)
            fail_invalid("labels: expected each label in [0, V) = [0, " + str(params.vocab) +
                         ") or equal to ignore_index (" + str(params.ignore_index) +
                         "), got labels[" + str(row) + "] = " + str(label));
    }
}

void check_topk_values(const void * ids, const void * logprobs,
                       const kernels::kd_loss_params & params) {
    const int64_t k = params.topk;
    std::vector<int64_t> sorted(static_cast<size_t>(k));
    for (int64_t row = 0; row < params.rows; ++row) {
        double mass = 0.0;
        for (int64_t j = 0; j < k; ++j) {
            const int64_t at = row * k + j;
            const int64_t id = kernels::cpu::isa_generic::load_index(ids, params.topk_id_type, at);
            if (id < 0 || id >= params.vocab)
                fail_invalid("teacher_topk_ids: expected ids in [0, V) = [0, " + str(params.vocab) +
                             "), got teacher_topk_ids[" + str(row) + ", " + str(j) +
                             "] = " + str(id));
            sorted[static_cast<size_t>(j)] = id;
            const float l = load_logprob(logprobs, params.teacher_type, at);
            if (std::isnan(l) || l == std::numeric_limits<float>::infinity())
                fail_invalid(
                    "teacher_topk_logprobs: expected log-probabilities (<= 0 or -inf), "
                    "got teacher_topk_logprobs[" +
                    str(row) + ", " + str(j) + "] = " + fstr(l));
            mass += std::exp(static_cast<double>(l));
        }
        if (mass > 1.0 + kernels::topk_mass_tolerance)
            fail_invalid("teacher_topk_logprobs: expected a top-k probability mass <= 1 (+" +
                         fstr(kernels::topk_mass_tolerance) + " for rounding), got " +
                         fstr(static_cast<float>(mass)) + " in row " + str(row) +
                         " (are these logits rather than log-probabilities?)");
        std::sort(sorted.begin(), sorted.end());
        const auto repeat = std::adjacent_find(sorted.begin(), sorted.end());
        if (repeat != sorted.end())
            fail_invalid("teacher_topk_ids: expected distinct ids within a row, got id " +
                         str(*repeat) + " twice in row " + str(row));
    }
}

int64_t count_active_rows(const void * labels, const kernels::kd_loss_params & params) {
    if (params.label_type == index_type::none) return params.rows;
    int64_t active = 0;
    for (int64_t row = 0; row < params.rows; ++row)
        active += kernels::cpu::isa_generic::load_index(labels, params.label_type, row) !=
                  params.ignore_index;
    return active;
}

}  // namespace distill
