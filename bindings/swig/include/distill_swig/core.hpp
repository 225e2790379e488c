// core.hpp — the base of the classes SWIG turns into the Java and C#
// bindings (distill.i): errors, array views, the library's identity, the
// context and the distillation loss on plain arrays.
//
// Why a layer of C++ between distill.h and SWIG: handles become classes
// whose copies share one reference-counted handle (so a child can keep its
// parent alive whatever order the garbage collector finalises them in),
// statuses become exceptions, and shapes are checked against the arrays'
// lengths before a pointer reaches the library. Everything here is over
// the C ABI only; nothing reaches core/.
#pragma once

#include <distill/distill.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace distill_swig {

/// A failed call: the library's status (distill_status) and message. The
/// bindings raise it as DistillException.
class Error : public std::runtime_error {
public:
    Error(int32_t status, const std::string & message)
        : std::runtime_error(message), status_(status) {}
    int32_t status() const noexcept { return status_; }

private:
    int32_t status_;
};

#ifndef SWIG
// A callback (teacher, progress) that failed in the host language throws
// Error inside the library call; distill.hpp keeps it (the library sees
// CANCELLED) and rethrows it once that call returns.

// What a binding's host needs around each callback into it (Java: a frame
// of local references per upcall, or a long call making thousands of
// upcalls would pile them up). Set once, when the binding loads.
struct CallbackHooks {
    void * (*enter)() = nullptr;
    void (*leave)(void * token) = nullptr;
};
inline CallbackHooks callback_hooks;

class CallbackScope {
public:
    CallbackScope() : token_(callback_hooks.enter ? callback_hooks.enter() : nullptr) {}
    ~CallbackScope() {
        if (callback_hooks.leave) callback_hooks.leave(token_);
    }
    CallbackScope(const CallbackScope &) = delete;
    CallbackScope & operator=(const CallbackScope &) = delete;

private:
    void * token_;
};

// Runs a distill.hpp call: its distill::Exception becomes Error (what the
// bindings raise, with the same "STATUS: message"); a callback's Error
// carried across the call passes as it is.
template <class F> auto call(F && f) -> decltype(f()) {
    try {
        return f();
    } catch (const distill::Exception & e) {
        throw Error(e.status(), e.what());
    }
}

// The message for a method called on a closed object of `type` (SWIG's
// "distill_swig::Model"): "Model: used after close()".
inline std::string used_after(std::string type, const char * release) {
    if (type.rfind("distill_swig::", 0) == 0) type.erase(0, 14);
    return type + ": used after " + release;
}

// Refuses a null (or closed: its proxy passes null) handle argument.
template <class T> T & require(T * object, const char * name) {
    if (object == nullptr)
        throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                    std::string(name) + ": expected an open object, got null or a closed one");
    return *object;
}

// A distill.hpp object (Context, Store, Teacher, ...) shared by every copy
// of its wrapper, released with the last copy.
template <class W> class shared_handle {
public:
    shared_handle() = default;
    explicit shared_handle(W && object) : owner_(std::make_shared<W>(std::move(object))) {}
    auto get() const noexcept -> decltype(std::declval<W &>().get()) {
        return owner_ ? owner_->get() : nullptr;
    }
    W & operator*() const noexcept { return *owner_; }
    // What a dependent object keeps alive (a model teacher's model).
    operator std::shared_ptr<const void>() const { return owner_; }

private:
    std::shared_ptr<W> owner_;
};
// Shares a distill.hpp object made by `make` (its failure raised as Error).
template <class F> auto share(F && make) {
    using W = decltype(make());
    return call([&] { return shared_handle<W>(make()); });
}
#endif

/// A host array seen in place (Java float[] pinned or a direct buffer; C#
/// float[] pinned): never copied, never kept past the call. data is null for
/// a null array.
struct FloatArray {
    float * data = nullptr;
    int64_t length = 0;
};
struct LongArray {
    int64_t * data = nullptr;
    int64_t length = 0;
};
struct IntArray {
    int32_t * data = nullptr;
    int64_t length = 0;
};
/// Bytes: text as UTF-8 (or any bytes), Java byte[] / C# byte[] pinned.
struct ByteArray {
    char * data = nullptr;
    int64_t length = 0;
};

#ifndef SWIG
// A contiguous CPU DLTensor over a host array; the shape lives in the view.
struct TensorView {
    DLTensor tensor{};
    int64_t shape[2] = {0, 0};

    TensorView(void * data, DLDataType dtype, int64_t rows, int64_t columns, int ndim) {
        shape[0] = rows;
        shape[1] = columns;
        tensor.data = data;
        tensor.device = {kDLCPU, 0};
        tensor.ndim = ndim;
        tensor.dtype = dtype;
        tensor.shape = shape;
    }
    // Neither copied nor moved: tensor.shape points into the view itself.
    TensorView(const TensorView &) = delete;
    TensorView & operator=(const TensorView &) = delete;
};

inline constexpr DLDataType float32{kDLFloat, 32, 1};
inline constexpr DLDataType int64{kDLInt, 64, 1};
inline constexpr DLDataType int32{kDLInt, 32, 1};

// A contiguous CPU DLTensor of three dimensions over a host array ([B, T, V]
// logits, [B, T, K] top-k targets); the shape lives in the view.
struct TensorView3 {
    DLTensor tensor{};
    int64_t shape[3] = {0, 0, 0};

    TensorView3(void * data, DLDataType dtype, int64_t a, int64_t b, int64_t c) {
        shape[0] = a;
        shape[1] = b;
        shape[2] = c;
        tensor.data = data;
        tensor.device = {kDLCPU, 0};
        tensor.ndim = 3;
        tensor.dtype = dtype;
        tensor.shape = shape;
    }
    TensorView3(const TensorView3 &) = delete;
    TensorView3 & operator=(const TensorView3 &) = delete;
};

// The number of columns of an array holding `rows` rows, or an error naming
// the argument when its length is not a positive multiple of rows.
inline int64_t columns_of(int64_t length, int64_t rows, const char * name) {
    if (rows < 1 || length < rows || length % rows != 0)
        throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                    std::string(name) + ": expected a length that is a positive multiple of rows = " +
                        std::to_string(rows) + ", got " + std::to_string(length));
    return length / rows;
}

// Refuses a null array (a missing argument, not an empty one).
template <class A> A & require_array(A & array, const char * name) {
    if (array.data == nullptr)
        throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                    std::string(name) + ": expected an array, got null");
    return array;
}

// Refuses an array whose length is not exactly `expected`.
inline void expect_length(int64_t length, int64_t expected, const char * name) {
    if (length != expected)
        throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                    std::string(name) + ": expected length " + std::to_string(expected) +
                        ", got " + std::to_string(length));
}

// The tokens [rows, T] of a token call: T from the array's length.
inline int64_t positions_of(IntArray & tokens, int64_t rows) {
    return columns_of(require_array(tokens, "tokens").length, rows, "tokens");
}

// Refuses an array of [rows, T, depth] values whose length is another,
// naming the three numbers ("... (2 rows of 10 positions of 300 logits)").
inline void expect_positions(int64_t length, int64_t rows, int64_t T, int64_t depth,
                             const char * name, const char * what) {
    if (length != rows * T * depth)
        throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                    std::string(name) + ": expected length " + std::to_string(rows * T * depth) +
                        " (" + std::to_string(rows) + " rows of " + std::to_string(T) +
                        " positions of " + std::to_string(depth) + " " + what + "), got " +
                        std::to_string(length));
}
#endif

/// The library's identity, to check that the native library matches.
class Library {
public:
    /// The library's version, "MAJOR.MINOR.PATCH".
    static std::string version() { return distill_version(); }
    /// The library's ABI version (4 or more for these bindings).
    static int64_t abi_version() { return distill_abi_version(); }
    /// CUDA devices usable through the CUDA backend; 0 without one (not an error).
    static int32_t cuda_device_count() { return call([] { return distill::cuda_device_count(); }); }
};

/// Where and how work runs. Immutable: one context may serve any number of
/// threads at once.
class Context {
public:
    /// A CPU context; num_threads 0 = all cores.
    explicit Context(int32_t num_threads = 0) { create(DISTILL_DEVICE_CPU, 0, num_threads); }

    /// A CUDA context on device_id; UNSUPPORTED without the CUDA backend or a GPU.
    static Context cuda(int32_t device_id) {
        Context context(0);
        context.create(DISTILL_DEVICE_CUDA, device_id, 0);
        return context;
    }

#ifndef SWIG
    const distill_context * get() const { return handle_.get(); }
    const distill::Context & native() const { return *handle_; }
    shared_handle<distill::Context> shared() const { return handle_; }
#endif

private:
    void create(int32_t device_type, int32_t device_id, int32_t num_threads) {
        distill::ContextOptions options;
        options->device_type = device_type;
        options->device_id = device_id;
        options->num_threads = num_threads;
        handle_ = share([&] { return distill::Context(options); });
    }

    shared_handle<distill::Context> handle_;
};

/// Which divergence between the teacher's and the student's distributions.
enum class Divergence {
    forward_kl = 0,
    reverse_kl = 1,
    jsd = 2,
    tvd = 3
};
#ifndef SWIG
// Enum values are plain numbers (C# copies initialisers verbatim), checked
// against the C ABI's here and after every enum below.
static_assert(static_cast<int>(Divergence::forward_kl) == DISTILL_DIVERGENCE_FORWARD_KL);
static_assert(static_cast<int>(Divergence::reverse_kl) == DISTILL_DIVERGENCE_REVERSE_KL);
static_assert(static_cast<int>(Divergence::jsd) == DISTILL_DIVERGENCE_JSD);
static_assert(static_cast<int>(Divergence::tvd) == DISTILL_DIVERGENCE_TVD);
#endif

/// How row losses are reduced: mean over non-ignored rows, sum, or none.
enum class Reduction {
    batchmean = 0,
    sum = 1,
    none = 2
};
#ifndef SWIG
static_assert(static_cast<int>(Reduction::batchmean) == DISTILL_REDUCTION_BATCHMEAN);
static_assert(static_cast<int>(Reduction::sum) == DISTILL_REDUCTION_SUM);
static_assert(static_cast<int>(Reduction::none) == DISTILL_REDUCTION_NONE);
#endif

/// Top-k teachers: drop the mass outside the top-k and renormalise, or keep
/// it as one extra bucket.
enum class Tail { renormalize = 0, bucket = 1 };
#ifndef SWIG
static_assert(static_cast<int>(Tail::renormalize) == DISTILL_TAIL_RENORMALIZE);
static_assert(static_cast<int>(Tail::bucket) == DISTILL_TAIL_BUCKET);
#endif

/// The loss family's options, with the library's defaults: forward KL,
/// T = 1 with the T² scaling, soft weight 1, hard weight 0, ignore index
/// -100, batchmean, renormalised top-k tail.
struct LossOptions {
    Divergence divergence;
    float beta;          ///< JSD mixing weight in [0, 1]
    float temperature;   ///< T > 0: divides student and teacher logits
    bool scale_by_t2;    ///< soft loss × T²
    float soft_weight;   ///< weight of the divergence, ≥ 0
    float hard_weight;   ///< weight of the cross-entropy with labels, ≥ 0
    int64_t ignore_index;///< label value of rows that contribute nothing
    Reduction reduction;
    Tail tail;

    LossOptions() {
        const distill_kd_loss_options defaults = distill::KdLossOptions().get();
        divergence = static_cast<Divergence>(defaults.divergence);
        beta = defaults.beta;
        temperature = defaults.temperature;
        scale_by_t2 = defaults.scale_by_t2 != 0;
        soft_weight = defaults.soft_weight;
        hard_weight = defaults.hard_weight;
        ignore_index = defaults.ignore_index;
        reduction = static_cast<Reduction>(defaults.reduction);
        tail = static_cast<Tail>(defaults.tail);
    }

#ifndef SWIG
    distill::KdLossOptions to_options() const {
        distill::KdLossOptions options;
        options->divergence = static_cast<int32_t>(divergence);
        options->beta = beta;
        options->temperature = temperature;
        options->scale_by_t2 = scale_by_t2 ? 1 : 0;
        options->soft_weight = soft_weight;
        options->hard_weight = hard_weight;
        options->ignore_index = ignore_index;
        options->reduction = static_cast<int32_t>(reduction);
        options->tail = static_cast<int32_t>(tail);
        return options;
    }
#endif
};

}  // namespace distill_swig
