// distill._distill — the native half of the Python package.
//
// Built on the header-only C++ wrapper (distill.hpp) over the C ABI, never on
// core/ internals. Tensors arrive as DLPack capsules (from __dlpack__) or as
// buffer-protocol objects and are handed to the library in place: the
// DLTensor the library reads is the producer's own, its data pointer the
// array's memory. The GIL is released around the native call.
#include <distill/distill.hpp>

#include <pybind11/pybind11.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace py = pybind11;

namespace {

// --- exceptions --------------------------------------------------------------
// distill.Error and its subclasses; the argument errors are also ValueError,
// every other failure also RuntimeError.
PyObject * error_base = nullptr;
PyObject * error_classes[6] = {};  // indexed by distill_status

PyObject * new_error(const char * name, const char * doc, PyObject * bases) {
    PyObject * cls = PyErr_NewExceptionWithDoc(name, doc, bases, nullptr);
    if (cls == nullptr) throw py::error_already_set();
    return cls;
}

void create_error_classes(py::module_ & m) {
    error_base = new_error("distill.Error",
                           "A failure reported by libdistill; `status` is its distill_status.",
                           PyExc_Exception);
    m.add_object("Error", py::handle(error_base));
    struct spec {
        distill_status status;
        const char * name;
        const char * attr;
        PyObject * builtin;
        const char * doc;
    };
    const spec specs[] = {
        {DISTILL_STATUS_INVALID_ARGUMENT, "distill.InvalidArgumentError", "InvalidArgumentError",
         PyExc_ValueError, "An argument is missing, out of range, or of the wrong shape, dtype or device."},
        {DISTILL_STATUS_UNSUPPORTED, "distill.UnsupportedError", "UnsupportedError",
         PyExc_RuntimeError, "A valid request this build or machine cannot do (no CUDA backend, an undefined option combination)."},
        {DISTILL_STATUS_OUT_OF_MEMORY, "distill.OutOfMemoryError", "OutOfMemoryError",
         PyExc_RuntimeError, "The library ran out of host or device memory."},
        {DISTILL_STATUS_INTERNAL, "distill.InternalError", "InternalError", PyExc_RuntimeError,
         "A failure inside the library or a device runtime."},
        {DISTILL_STATUS_CANCELLED, "distill.CancelledError", "CancelledError", PyExc_RuntimeError,
         "The operation was cancelled."},
    };
    for (const spec & s : specs) {
        PyObject * bases = PyTuple_Pack(2, error_base, s.builtin);
        if (bases == nullptr) throw py::error_already_set();
        PyObject * cls = new_error(s.name, s.doc, bases);
        Py_DECREF(bases);
        error_classes[s.status] = cls;
        m.add_object(s.attr, py::handle(cls));
    }
}

// Raises the distill.Error subclass for `status` with `message`, and sets
// its `status` attribute.
[[noreturn]] void raise_error(distill_status status, const std::string & message) {
    PyObject * cls = (status > 0 && status < 6 && error_classes[status] != nullptr)
                         ? error_classes[status]
                         : error_classes[DISTILL_STATUS_INTERNAL];
    py::str text(message);
    py::object instance =
        py::reinterpret_steal<py::object>(PyObject_CallOneArg(cls, text.ptr()));
    if (!instance) throw py::error_already_set();
    if (PyObject_SetAttrString(instance.ptr(), "status", py::int_(status).ptr()) != 0)
        throw py::error_already_set();
    PyErr_SetObject(cls, instance.ptr());
    throw py::error_already_set();
}

[[noreturn]] void raise_argument(const std::string & message) {
    raise_error(DISTILL_STATUS_INVALID_ARGUMENT, message);
}

// --- tensors in ---------------------------------------------------------------
// One argument as the library sees it: a DLTensor borrowed from a DLPack
// capsule (kept alive by the caller's reference to the capsule) or built over
// a Py_buffer (released by the destructor).
class Borrowed {
public:
    Borrowed() = default;
    Borrowed(const Borrowed &) = delete;
    Borrowed & operator=(const Borrowed &) = delete;
    ~Borrowed() {
        if (has_buffer_) PyBuffer_Release(&buffer_);
    }

    // `writable`: the library writes it (an output).
    void acquire(py::handle object, const char * name, bool writable) {
        if (object.is_none()) return;
        if (PyCapsule_CheckExact(object.ptr())) {
            if (!PyCapsule_IsValid(object.ptr(), "dltensor"))
                raise_argument(std::string(name) +
                               ": expected an unconsumed DLPack capsule named 'dltensor'");
            auto * managed =
                static_cast<DLManagedTensor *>(PyCapsule_GetPointer(object.ptr(), "dltensor"));
            if (managed == nullptr) throw py::error_already_set();
            tensor_ = &managed->dl_tensor;
            return;
        }
        const int flags = PyBUF_STRIDES | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
        if (!PyObject_CheckBuffer(object.ptr()) ||
            PyObject_GetBuffer(object.ptr(), &buffer_, flags) != 0) {
            PyErr_Clear();
            throw py::type_error(std::string(name) +
                                 ": expected an array with __dlpack__ or the buffer protocol" +
                                 (writable ? " (writable)" : "") + ", got " +
                                 std::string(py::str(py::type::handle_of(object).attr("__name__"))));
        }
        has_buffer_ = true;
        own_.data = buffer_.buf;
        own_.device = {kDLCPU, 0};
        own_.ndim = buffer_.ndim;
        own_.dtype = dtype_of(buffer_.format, buffer_.itemsize, name);
        own_.byte_offset = 0;
        shape_.assign(buffer_.shape, buffer_.shape + buffer_.ndim);
        strides_.resize(buffer_.ndim);
        for (int i = 0; i < buffer_.ndim; ++i) {
            if (buffer_.strides[i] % buffer_.itemsize != 0)
                raise_argument(std::string(name) + ": strides that are not a multiple of the "
                                                   "element size are not supported");
            strides_[i] = buffer_.strides[i] / buffer_.itemsize;
        }
        own_.shape = shape_.data();
        own_.strides = strides_.data();
        tensor_ = &own_;
    }

    DLTensor * get() const noexcept { return tensor_; }
    void * data() const noexcept {
        return tensor_ == nullptr ? nullptr
                                  : static_cast<char *>(tensor_->data) + tensor_->byte_offset;
    }

private:
    static DLDataType dtype_of(const char * format, Py_ssize_t itemsize, const char * name) {
        std::string f = format == nullptr ? "B" : format;
        if (!f.empty() && (f[0] == '@' || f[0] == '=' || f[0] == '<' || f[0] == '!' || f[0] == '>'))
            f.erase(0, 1);
        const auto bits = static_cast<uint8_t>(itemsize * 8);
        if (f == "f" || f == "d" || f == "e") return {kDLFloat, bits, 1};
        if (f == "b" || f == "h" || f == "i" || f == "l" || f == "q" || f == "n")
            return {kDLInt, bits, 1};
        if (f == "B" || f == "H" || f == "I" || f == "L" || f == "Q" || f == "N" || f == "?")
            return {kDLUInt, bits, 1};
        raise_argument(std::string(name) + ": unsupported buffer format '" + f + "'");
    }

    DLTensor * tensor_ = nullptr;
    DLTensor own_{};
    Py_buffer buffer_{};
    bool has_buffer_ = false;
    std::vector<int64_t> shape_, strides_;
};

// --- contexts -------------------------------------------------------------------
// Contexts are immutable and thread-safe; one per (device type, device, stream),
// created on first use and kept for the life of the process.
// Never destroyed: freeing a CUDA context during interpreter shutdown could
// race the CUDA runtime's own teardown.
std::mutex contexts_mutex;
auto * contexts =
    new std::map<std::tuple<int, int, uintptr_t>, std::unique_ptr<distill::Context>>();

const distill::Context & context_for(int device_type, int device_id, uintptr_t stream) {
    std::lock_guard<std::mutex> lock(contexts_mutex);
    auto & slot = (*contexts)[{device_type, device_id, stream}];
    if (!slot) {
        distill::ContextOptions options =
            device_type == DISTILL_DEVICE_CUDA
                ? distill::ContextOptions::cuda(device_id, reinterpret_cast<void *>(stream))
                : distill::ContextOptions::cpu();
        slot = std::make_unique<distill::Context>(options);
    }
    return *slot;
}

// The data pointers of this thread's last native call, for the zero-copy
// tests (a fixed array: no allocation on the hot path).
constexpr const char * pointer_names[] = {"student_logits", "teacher_logits", "teacher_topk_ids",
                                          "teacher_topk_logprobs", "labels", "loss", "grad"};
thread_local uintptr_t last_pointers[7] = {};

py::dict last_call_pointers() {
    py::dict out;
    for (int i = 0; i < 7; ++i)
        if (last_pointers[i] != 0) out[pointer_names[i]] = last_pointers[i];
    return out;
}

void kd_loss_native(py::handle student, py::handle teacher, py::handle ids, py::handle logprobs,
                    py::handle labels, py::handle loss, py::handle grad, int divergence,
                    float beta, float temperature, bool scale_by_t2, float soft_weight,
                    float hard_weight, int64_t ignore_index, int reduction, int tail,
                    int device_type, int device_id, uintptr_t stream) {
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
    distill_status status = DISTILL_STATUS_OK;
    std::string message;
    {
        py::gil_scoped_release release;
        try {
            const distill::Context & context = context_for(device_type, device_id, stream);
            if (topk)
                status = distill_kd_loss_topk(context.get(), &options.get(), s.get(), i.get(),
                                              l.get(), y.get(), out_loss.get(), out_grad.get());
            else
                status = distill_kd_loss(context.get(), &options.get(), s.get(), t.get(), y.get(),
                                         out_loss.get(), out_grad.get());
            if (status != DISTILL_STATUS_OK) message = distill_last_error_message();
        } catch (const distill::Exception & e) {
            status = e.status();
            message = e.what();
        }
    }
    if (status != DISTILL_STATUS_OK) {
        const std::string prefix = std::string(distill_status_name(status)) + ": ";
        if (message.compare(0, prefix.size(), prefix) != 0) message = prefix + message;
        raise_error(status, message);
    }
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

    m.attr("HEADER_VERSION") = DISTILL_VERSION_STRING;
    m.attr("HEADER_ABI_VERSION") = DISTILL_ABI_VERSION;
    m.def("library_version", [] { return std::string(distill_version()); },
          "The loaded libdistill's version, \"MAJOR.MINOR.PATCH\".");
    m.def("library_abi_version", [] { return distill_abi_version(); },
          "The loaded libdistill's ABI version.");
    m.def("cuda_device_count", [] { return distill::cuda_device_count(); },
          "Number of CUDA devices usable through the CUDA backend (0 without it).");
    m.def("kd_loss", &kd_loss_native, py::arg("student"), py::arg("teacher"), py::arg("ids"),
          py::arg("logprobs"), py::arg("labels"), py::arg("loss"), py::arg("grad"),
          py::arg("divergence"), py::arg("beta"), py::arg("temperature"), py::arg("scale_by_t2"),
          py::arg("soft_weight"), py::arg("hard_weight"), py::arg("ignore_index"),
          py::arg("reduction"), py::arg("tail"), py::arg("device_type"), py::arg("device_id"),
          py::arg("stream"),
          "Low level: DLPack capsules or buffers in, outputs written in place. Use distill.kd_loss.");
    m.def("_last_call_pointers", &last_call_pointers,
          "Debug hook: the data pointers this thread's last kd_loss call handed to the library.");
    m.def("_dlpack_data_pointer", [](py::handle capsule) {
        Borrowed b;
        b.acquire(capsule, "capsule", false);
        return reinterpret_cast<uintptr_t>(b.data());
    }, "Debug hook: the data pointer of a DLPack capsule or buffer.");
}
