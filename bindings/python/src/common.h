// Shared pieces of the native module: distill.Error and its subclasses,
// tensors borrowed from Python objects, the process's contexts, and the
// bridge that lets Python callbacks run under a native call.
#pragma once

#include <distill/distill.hpp>

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace distill_python {

namespace py = pybind11;

// Creates distill.Error and its subclasses on `m` (once, at import).
void create_error_classes(py::module_ & m);

// Raises the distill.Error subclass of `status` with `message` (prefixed
// with the status name when it is not already) and its `status` attribute.
[[noreturn]] void raise_error(distill_status status, std::string message);
[[noreturn]] void raise_argument(const std::string & message);

// Runs f(); distill.hpp's distill::Exception becomes distill.Error.
template <class F>
auto translated(F && f) -> decltype(f()) {
    try {
        return f();
    } catch (const distill::Exception & e) {
        raise_error(e.status(), e.what());
    }
}

// One tensor argument as the library sees it: a DLTensor borrowed from a
// DLPack capsule or from an object with __dlpack__ (a torch tensor; the
// capsule is kept for the life of this object), or built over a Py_buffer
// (a NumPy array; released by the destructor). Never a copy.
class Borrowed {
public:
    Borrowed() = default;
    Borrowed(const Borrowed &) = delete;
    Borrowed & operator=(const Borrowed &) = delete;
    ~Borrowed();

    // `writable`: the library writes it (an output). None leaves it empty.
    void acquire(py::handle object, const char * name, bool writable);

    DLTensor * get() const noexcept { return tensor_; }
    void * data() const noexcept {
        return tensor_ == nullptr ? nullptr
                                  : static_cast<char *>(tensor_->data) + tensor_->byte_offset;
    }

private:
    void acquire_capsule(py::handle capsule, const char * name);

    DLTensor * tensor_ = nullptr;
    DLTensor own_{};
    Py_buffer buffer_{};
    bool has_buffer_ = false;
    py::object capsule_;  // from __dlpack__, owned here
    std::vector<int64_t> shape_, strides_;
};

// The context for (device type, device, stream), created on first use and
// kept for the life of the process.
const distill::Context & context_for(int device_type, int device_id, uintptr_t stream);
inline const distill::Context & cpu_context() { return context_for(DISTILL_DEVICE_CPU, 0, 0); }
// The context for a device argument of the students' API: "cpu", "cuda"
// (device 0) or "cuda:N", on the device's default stream.
const distill::Context & device_context(const std::string & device);

// Runs Python code inside a library callback (a progress function, a
// callback teacher). The library calls back on the thread that called it,
// which released the GIL: the GIL is taken for the call, and Ctrl-C is
// noticed through PyErr_CheckSignals on every callback. A Python exception
// cannot cross the C ABI: distill.hpp keeps it (the library sees CANCELLED)
// and rethrows it once the call returns, where pybind11 raises it again.
template <class Body>
distill_status in_python(Body && body) noexcept {
    return distill::detail::guarded([&]() -> distill_status {
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        return body();
    });
}

// Runs a distill.hpp call with the GIL released; its failure is raised as
// the distill.Error subclass, a callback's exception as itself.
template <class F>
auto released(F && f) -> decltype(f()) {
    return translated([&]() -> decltype(f()) {
        py::gil_scoped_release release;
        return f();
    });
}

// The JSON text of a request: a str as is, anything else json.dumps'ed.
std::string json_text(py::handle value, const char * name);
// A path argument: str, bytes or os.PathLike (os.fsdecode(os.fspath(v))),
// else InvalidArgumentError naming `name` and the type got.
std::string path_text(py::handle value, const char * name);

// json.loads(text).
py::object json_value(const std::string & text);

}  // namespace distill_python
