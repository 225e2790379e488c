// progress.hpp — progress of long calls (asking a teacher about a dataset,
// training) reported to a host-language listener.
#pragma once

#include "core.hpp"

#include <functional>
#include <optional>

namespace distill_swig {

/// Which phase a Progress reports.
enum class ProgressEvent {
    ask = 0,        ///< Dataset.askTeacher, after each batch
    step = 1,      ///< training, every few steps
    epoch_end = 2 ///< training, after each epoch's validation
};
#ifndef SWIG
static_assert(static_cast<int>(ProgressEvent::ask) == DISTILL_PROGRESS_ASK);
static_assert(static_cast<int>(ProgressEvent::step) == DISTILL_PROGRESS_STEP);
static_assert(static_cast<int>(ProgressEvent::epoch_end) == DISTILL_PROGRESS_EPOCH_END);
#endif

/// Progress of a long call (see distill_progress).
struct Progress {
    ProgressEvent event;
    int64_t done;           ///< units done in this phase (examples or steps)
    int64_t total;          ///< units in this phase
    int64_t epoch;          ///< 1-based epoch (training), 0 otherwise
    int64_t epochs;         ///< epochs planned (training), 0 otherwise
    double loss;            ///< mean training loss of the epoch so far; NaN if none
    double val_accuracy;    ///< EPOCH_END with a validation set; NaN otherwise
    double val_agreement;   ///< EPOCH_END: validation agreement with the teacher; NaN if none
    double elapsed_seconds; ///< since the call began
    int64_t asked;          ///< ASK: examples the teacher answered so far
    int64_t from_store;     ///< ASK: examples found in the store
};

/// What a host-language listener implements; the bindings derive from it
/// (a SWIG director) to call a Java or C# ProgressListener.
class ProgressListenerNative {
public:
    virtual ~ProgressListenerNative() = default;
    /// Returns false to stop the call (it then raises CANCELLED, with the
    /// work done so far kept).
    virtual bool on_progress(Progress * progress) = 0;
    /// For the bridge, when the host listener threw: the call stops and
    /// raises this description instead of CANCELLED.
    void fail(const std::string & description) { failure_ = description; }

#ifndef SWIG
    // distill.hpp's progress function over `listener` (empty when null).
    static std::function<bool(const distill_progress &)> function(
        ProgressListenerNative * listener) {
        if (listener == nullptr) return {};
        return [listener](const distill_progress & p) { return listener->report(p); };
    }
#endif

private:
    // One report: false stops the call; a failure is thrown (distill.hpp
    // carries it across the library call, which then raises it).
    bool report(const distill_progress & p) {
        CallbackScope scope;
        bool go_on = false;
        try {
            // Owned by the host from here on: it may keep it.
            auto * progress = new Progress{static_cast<ProgressEvent>(p.event),
                                           p.done,
                                           p.total,
                                           p.epoch,
                                           p.epochs,
                                           p.loss,
                                           p.val_accuracy,
                                           p.val_agreement,
                                           p.elapsed_seconds,
                                           p.asked,
                                           p.from_store};
            go_on = on_progress(progress);
        } catch (const std::exception & e) {
            fail(e.what());
        } catch (...) {
            fail("an unknown exception");
        }
        if (failure_) {
            const std::string description = std::exchange(failure_, std::nullopt).value();
            throw Error(DISTILL_STATUS_CANCELLED,
                        "CANCELLED: the progress listener threw " + description);
        }
        return go_on;
    }

    std::optional<std::string> failure_;
};

}  // namespace distill_swig
