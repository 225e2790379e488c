// distill.Error, borrowed tensors, contexts and the callback bridge (common.h).
#include "common.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

namespace distill_python {

namespace {

// distill.Error and its subclasses; the argument errors (and damaged files,
// formerly argument errors) are also ValueError, the file errors also the
// OSError a Python program already catches (FileNotFoundError for a missing
// file), every other failure also RuntimeError.
PyObject * error_base = nullptr;
constexpr distill_status last_known_status = DISTILL_STATUS_DISK_FULL;
PyObject * error_classes[last_known_status + 1] = {};  // indexed by distill_status

PyObject * new_error(const char * name, const char * doc, PyObject * bases) {
    PyObject * cls = PyErr_NewExceptionWithDoc(name, doc, bases, nullptr);
    if (cls == nullptr) throw py::error_already_set();
    return cls;
}

DLDataType dtype_of(const char * format, Py_ssize_t itemsize, const char * name) {
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

std::string type_name(py::handle object) {
    return py::str(py::type::handle_of(object).attr("__name__"));
}

}  // namespace

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
         PyExc_ValueError,
         "An argument is missing, out of range, or of the wrong shape, dtype or device."},
        {DISTILL_STATUS_UNSUPPORTED, "distill.UnsupportedError", "UnsupportedError",
         PyExc_RuntimeError,
         "A valid request this build or machine cannot do (no CUDA backend, an undefined option "
         "combination)."},
        {DISTILL_STATUS_OUT_OF_MEMORY, "distill.OutOfMemoryError", "OutOfMemoryError",
         PyExc_RuntimeError, "The library ran out of host or device memory."},
        {DISTILL_STATUS_INTERNAL, "distill.InternalError", "InternalError", PyExc_RuntimeError,
         "A failure inside the library or a device runtime."},
        {DISTILL_STATUS_CANCELLED, "distill.CancelledError", "CancelledError", PyExc_RuntimeError,
         "The operation was cancelled."},
        {DISTILL_STATUS_NOT_FOUND, "distill.NotFoundError", "NotFoundError",
         PyExc_FileNotFoundError, "A file or directory the call was given does not exist."},
        {DISTILL_STATUS_IO_ERROR, "distill.FileIOError", "FileIOError", PyExc_OSError,
         "A file exists but cannot be read or written: permission denied, a device I/O error, a "
         "directory where a file was expected."},
        {DISTILL_STATUS_CORRUPT_FILE, "distill.CorruptFileError", "CorruptFileError",
         PyExc_ValueError,
         "A file's contents are damaged, truncated, or of another kind (not a distill store, "
         "checkpoint, safetensors or IDX file)."},
        {DISTILL_STATUS_DISK_FULL, "distill.DiskFullError", "DiskFullError", PyExc_OSError,
         "No space left on the device or in the quota; the file is as it was before the call."},
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

void raise_error(distill_status status, std::string message) {
    PyObject * cls = (status > 0 && status <= last_known_status && error_classes[status] != nullptr)
                         ? error_classes[status]
                         : error_classes[DISTILL_STATUS_INTERNAL];
    const std::string prefix = std::string(distill_status_name(status)) + ": ";
    if (message.compare(0, prefix.size(), prefix) != 0) message = prefix + message;
    py::str text(message);
    py::object instance = py::reinterpret_steal<py::object>(PyObject_CallOneArg(cls, text.ptr()));
    if (!instance) throw py::error_already_set();
    if (PyObject_SetAttrString(instance.ptr(), "status", py::int_(status).ptr()) != 0)
        throw py::error_already_set();
    // The errno an OSError handler tests (`e.errno == errno.ENOSPC`).
    const int error_number = status == DISTILL_STATUS_NOT_FOUND   ? ENOENT
                             : status == DISTILL_STATUS_DISK_FULL ? ENOSPC
                                                                  : 0;
    if (error_number != 0 &&
        PyObject_SetAttrString(instance.ptr(), "errno", py::int_(error_number).ptr()) != 0)
        throw py::error_already_set();
    PyErr_SetObject(cls, instance.ptr());
    throw py::error_already_set();
}

void raise_argument(const std::string & message) {
    raise_error(DISTILL_STATUS_INVALID_ARGUMENT, message);
}

// --- tensors in -------------------------------------------------------------------

Borrowed::~Borrowed() {
    if (has_buffer_) PyBuffer_Release(&buffer_);
}

void Borrowed::acquire_capsule(py::handle capsule, const char * name) {
    if (!PyCapsule_IsValid(capsule.ptr(), "dltensor"))
        raise_argument(std::string(name) +
                       ": expected an unconsumed DLPack capsule named 'dltensor'");
    auto * managed =
        static_cast<DLManagedTensor *>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
    if (managed == nullptr) throw py::error_already_set();
    tensor_ = &managed->dl_tensor;
}

void Borrowed::acquire(py::handle object, const char * name, bool writable) {
    if (object.is_none()) return;
    if (PyCapsule_CheckExact(object.ptr())) {
        acquire_capsule(object, name);
        return;
    }
    if (!PyObject_CheckBuffer(object.ptr()) && py::hasattr(object, "__dlpack__")) {
        // A torch tensor: torch refuses __dlpack__ on one that requires grad.
        py::object source = py::reinterpret_borrow<py::object>(object);
        if (py::hasattr(source, "requires_grad") && source.attr("requires_grad").cast<bool>())
            source = source.attr("detach")();
        capsule_ = source.attr("__dlpack__")();
        acquire_capsule(capsule_, name);
        return;
    }
    const int flags = PyBUF_STRIDES | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (!PyObject_CheckBuffer(object.ptr()) ||
        PyObject_GetBuffer(object.ptr(), &buffer_, flags) != 0) {
        PyErr_Clear();
        throw py::type_error(std::string(name) +
                             ": expected an array with __dlpack__ or the buffer protocol" +
                             (writable ? " (writable)" : "") + ", got " + type_name(object));
    }
    has_buffer_ = true;
    own_.data = buffer_.buf;
    own_.device = {kDLCPU, 0};
    own_.ndim = buffer_.ndim;
    own_.dtype = dtype_of(buffer_.format, buffer_.itemsize, name);
    own_.byte_offset = 0;
    shape_.assign(buffer_.shape, buffer_.shape + buffer_.ndim);
    strides_.resize(size_t(buffer_.ndim));
    for (int i = 0; i < buffer_.ndim; ++i) {
        if (buffer_.strides[i] % buffer_.itemsize != 0)
            raise_argument(std::string(name) +
                           ": strides that are not a multiple of the "
                           "element size are not supported");
        strides_[size_t(i)] = buffer_.strides[i] / buffer_.itemsize;
    }
    own_.shape = shape_.data();
    own_.strides = strides_.data();
    tensor_ = &own_;
}

// --- contexts -----------------------------------------------------------------------
// Contexts are immutable and thread-safe. Never destroyed: freeing a CUDA
// context during interpreter shutdown could race the CUDA runtime's own
// teardown.

const distill::Context & context_for(int device_type, int device_id, uintptr_t stream) {
    static std::mutex contexts_mutex;
    static auto * contexts =
        new std::map<std::tuple<int, int, uintptr_t>, std::unique_ptr<distill::Context>>();
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

const distill::Context & device_context(const std::string & device) {
    if (device == "cpu") return cpu_context();
    if (device == "cuda") return context_for(DISTILL_DEVICE_CUDA, 0, 0);
    const std::string prefix = "cuda:";
    const std::string number = device.substr(std::min(device.size(), prefix.size()));
    if (device.rfind(prefix, 0) == 0 && !number.empty() && number.size() <= 4 &&
        std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return context_for(DISTILL_DEVICE_CUDA, std::stoi(number), 0);
    raise_argument("device: expected \"cpu\", \"cuda\" or \"cuda:N\", got \"" + device + "\"");
}

// --- JSON -----------------------------------------------------------------------------

std::string json_text(py::handle value, const char * name) {
    if (py::isinstance<py::str>(value)) return value.cast<std::string>();
    try {
        return py::module_::import("json").attr("dumps")(value).cast<std::string>();
    } catch (py::error_already_set & e) {
        raise_argument(std::string(name) +
                       ": expected a JSON string or a JSON-serialisable "
                       "object, got " +
                       type_name(value) + " (" + e.what() + ")");
    }
}

py::object json_value(const std::string & text) {
    return py::module_::import("json").attr("loads")(text);
}

std::string path_text(py::handle value, const char * name) {
    const py::module_ os = py::module_::import("os");
    if (!PyUnicode_Check(value.ptr()) && !PyBytes_Check(value.ptr()) &&
        !py::hasattr(value, "__fspath__"))
        raise_argument(std::string(name) + ": expected a path (str or os.PathLike), got " +
                       py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>());
    return os.attr("fsdecode")(os.attr("fspath")(value)).cast<std::string>();
}

}  // namespace distill_python
