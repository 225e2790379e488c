// distill._distill — the native half of the Python package.
//
// Built on the header-only C++ wrapper (distill.hpp) over the C ABI, never on
// core/ internals. Tensors arrive as DLPack capsules (from __dlpack__) or as
// buffer-protocol objects and are handed to the library in place: the
// DLTensor the library reads is the producer's own, its data pointer the
// array's memory. The GIL is released around every native call that works.
// This file holds the loss family; students.cpp, training.cpp and
// teachers.cpp bind the rest.
#include <pybind11/pybind11.h>

#include <cstdint>

#include "bindings.h"
#include "common.h"

using namespace distill_python;

namespace {

// The data pointers of this thread's last native call, for the zero-copy
// tests (a fixed array: no allocation on the hot path).
constexpr const char * pointer_names[] = {"student_logits",
                                          "teacher_logits",
                                          "teacher_topk_ids",
                                          "teacher_topk_logprobs",
                                          "labels",
                                          "loss",
                                          "grad"};
thread_local uintptr_t last_pointers[7] = {};

py::dict last_call_pointers() {
    py::dict out;
    for (int i = 0; i < 7; ++i)
        if (last_pointers[i] != 0) out[pointer_names[i]] = last_pointers[i];
    return out;
}

void kd_loss_native(py::handle student, py::handle teacher, py::handle ids, py::handle logprobs,
                    py::handle labels, py::handle loss, py::handle grad, int divergence, float beta,
                    float temperature, bool scale_by_t2, float soft_weight, float hard_weight,
                    int64_t ignore_index, int reduction, int tail, int device_type, int device_id,
                    uintptr_t stream) {
    const bool topk = teacher.is_none();
    Borrowed s, t, i, l, y, out_loss, out_grad;
    s.acquire(student, "student_logits", false);
    if (topk) {
        i.acquire(ids, "teacher_topk_ids", false);
        l.acquire(logprobs, "teacher_topk_logprobs", false);
    } else {
        t.acquire(teacher, "teacher_logits", false);
    }
    y.acquire(labels, "labels", false);
    out_loss.acquire(loss, "loss", true);
    out_grad.acquire(grad, "grad", true);

    distill::KdLossOptions options;
    options->divergence = divergence;
    options->beta = beta;
    options->temperature = temperature;
    options->scale_by_t2 = scale_by_t2 ? 1 : 0;
    options->soft_weight = soft_weight;
    options->hard_weight = hard_weight;
    options->ignore_index = ignore_index;
    options->reduction = reduction;
    options->tail = tail;

    const Borrowed * all[] = {&s, &t, &i, &l, &y, &out_loss, &out_grad};
    for (int k = 0; k < 7; ++k) last_pointers[k] = reinterpret_cast<uintptr_t>(all[k]->data());

    // Null required tensors are the library's to refuse (with their names).
    released([&] {
        const distill::Context & context = context_for(device_type, device_id, stream);
        if (topk)
            distill::kd_loss_topk(context, options, s.get(), i.get(), l.get(), y.get(),
                                  out_loss.get(), out_grad.get());
        else
            distill::kd_loss(context, options, s.get(), t.get(), y.get(), out_loss.get(),
                             out_grad.get());
    });
}

}  // namespace

PYBIND11_MODULE(_distill, m) {
    m.doc() = "Native half of distill: the C ABI through distill.hpp. Use the `distill` package.";
    create_error_classes(m);
    try {
        distill::check_library_version();
    } catch (const distill::Exception & e) {
        PyErr_SetString(PyExc_ImportError, e.what());
        throw py::error_already_set();
    }

    // The C ABI's enum values and option defaults, for the Python half to
    // read instead of repeating them.
    py::dict divergences, reductions, tails;
    divergences["forward_kl"] = int(DISTILL_DIVERGENCE_FORWARD_KL);
    divergences["reverse_kl"] = int(DISTILL_DIVERGENCE_REVERSE_KL);
    divergences["jsd"] = int(DISTILL_DIVERGENCE_JSD);
    divergences["tvd"] = int(DISTILL_DIVERGENCE_TVD);
    reductions["batchmean"] = int(DISTILL_REDUCTION_BATCHMEAN);
    reductions["sum"] = int(DISTILL_REDUCTION_SUM);
    reductions["none"] = int(DISTILL_REDUCTION_NONE);
    tails["renormalize"] = int(DISTILL_TAIL_RENORMALIZE);
    tails["bucket"] = int(DISTILL_TAIL_BUCKET);
    m.attr("DIVERGENCES") = divergences;
    m.attr("REDUCTIONS") = reductions;
    m.attr("TAILS") = tails;
    const distill::KdLossOptions loss;  // distill_kd_loss_options_init
    const auto name_of = [](py::dict table, int32_t code) -> py::object {
        for (auto item : table)
            if (item.second.cast<int32_t>() == code) return py::reinterpret_borrow<py::object>(item.first);
        return py::none();
    };
    py::dict loss_defaults;
    loss_defaults["divergence"] = name_of(divergences, loss->divergence);
    loss_defaults["beta"] = double(loss->beta);
    loss_defaults["temperature"] = double(loss->temperature);
    loss_defaults["scale_by_t2"] = loss->scale_by_t2 != 0;
    loss_defaults["soft_weight"] = double(loss->soft_weight);
    loss_defaults["hard_weight"] = double(loss->hard_weight);
    loss_defaults["ignore_index"] = loss->ignore_index;
    loss_defaults["reduction"] = name_of(reductions, loss->reduction);
    loss_defaults["tail"] = name_of(tails, loss->tail);
    m.attr("KD_LOSS_DEFAULTS") = loss_defaults;

    m.attr("HEADER_VERSION") = DISTILL_VERSION_STRING;
    m.attr("HEADER_ABI_VERSION") = DISTILL_ABI_VERSION;
    m.def(
        "library_version", [] { return std::string(distill_version()); },
        "The loaded libdistill's version, \"MAJOR.MINOR.PATCH\".");
    m.def(
        "library_abi_version", [] { return distill_abi_version(); },
        "The loaded libdistill's ABI version.");
    m.def(
        "cuda_device_count", [] { return distill::cuda_device_count(); },
        "Number of CUDA devices usable through the CUDA backend (0 without it).");
    m.def(
        "kd_loss", &kd_loss_native, py::arg("student"), py::arg("teacher"), py::arg("ids"),
        py::arg("logprobs"), py::arg("labels"), py::arg("loss"), py::arg("grad"),
        py::arg("divergence"), py::arg("beta"), py::arg("temperature"), py::arg("scale_by_t2"),
        py::arg("soft_weight"), py::arg("hard_weight"), py::arg("ignore_index"),
        py::arg("reduction"), py::arg("tail"), py::arg("device_type"), py::arg("device_id"),
        py::arg("stream"),
        "Low level: DLPack capsules or buffers in, outputs written in place. Use distill.kd_loss.");
    m.def("_last_call_pointers", &last_call_pointers,
          "Debug hook: the data pointers this thread's last kd_loss call handed to the library.");
    m.def(
        "_dlpack_data_pointer",
        [](py::handle capsule) {
            Borrowed b;
            b.acquire(capsule, "capsule", false);
            return reinterpret_cast<uintptr_t>(b.data());
        },
        "Debug hook: the data pointer of a DLPack capsule or buffer.");
    bind_students(m);
    bind_training(m);
    bind_teachers(m);
    bind_answers(m);
    bind_tokenizer(m);
    bind_text_dataset(m);
    bind_hf_folder(m);
    bind_language_model(m);
}
