// The Python objects' native state: each holds its distill.hpp object in a
// shared_ptr, so that NumPy views handed out keep the memory they show
// alive (their base holds another reference), and close() releases only the
// Python object's own reference. Using a closed object raises, never
// crashes.
#pragma once

#include <distill/distill.hpp>

#include <pybind11/pybind11.h>

#include <memory>
#include <string>

#include "common.h"

namespace distill_python {

// The shared_ptr inside, or InvalidArgumentError naming `what` when closed.
template <class T>
T & require_open(const std::shared_ptr<T> & handle, const char * what) {
    if (!handle) raise_argument(std::string(what) + ": this object is closed (close() was called)");
    return *handle;
}

// A pointer argument pybind11 may hand over as nullptr (for None).
template <class T>
T & require_given(T * object, const char * name, const char * expected) {
    if (object == nullptr)
        raise_argument(std::string(name) + ": expected " + expected + ", got None");
    return *object;
}

// Whether `model` is a transformer (config kind "transformer", distill.h
// section 15) rather than an MLP or CNN: the calls of each kind refuse the
// other, and the Python API names the method to use instead.
inline bool is_transformer(const distill::Model & model) {
    return model.config_json().find("\"kind\":\"transformer\"") != std::string::npos;
}

struct PyModel {
    std::shared_ptr<distill::Model> handle;
    distill::Model & get() const { return require_open(handle, "model"); }
};

struct PyTrainer {
    std::shared_ptr<distill::Trainer> handle;
    pybind11::object model;  // the distill.Model it trains, for Trainer.model
    bool transformer = false; // a transformer's trainer (step_tokens, fit_text, fit_stored)
    distill::Trainer & get() const { return require_open(handle, "trainer"); }
};

struct PyDataset {
    std::shared_ptr<distill::Dataset> handle;
    const distill::Dataset & get() const { return require_open(handle, "dataset"); }
    // The dataset to change in place. When NumPy views of it are alive
    // (they hold references to `handle`), the change goes to a copy that
    // replaces it, so that the views keep showing the old, still-valid
    // memory instead of freed memory.
    distill::Dataset & get_for_change();
};

struct PyStore {
    std::shared_ptr<distill::Store> handle;
    distill::Store & get() const { return require_open(handle, "store"); }
};

struct PyTokenizer {
    std::shared_ptr<distill::Tokenizer> handle;
    const distill::Tokenizer & get() const { return require_open(handle, "tokenizer"); }
};

// A token dataset file, mapped: window views hold `handle`, so the mapping
// outlives close() while one is alive (text_dataset.cpp).
struct PyTextDataset {
    std::shared_ptr<distill::TextDataset> handle;
    const distill::TextDataset & get() const { return require_open(handle, "text dataset"); }
};

// A Python callable answering a CallbackTeacher's requests.
struct CallbackState {
    pybind11::object fn;
};

struct PyTeacher {
    // Declared first, destroyed last: the teacher calls into it.
    std::unique_ptr<CallbackState> callback;
    std::shared_ptr<distill::Teacher> handle;
    distill::Teacher & get() const { return require_open(handle, "teacher"); }
};

// A capsule holding a reference to `owner`: the base of NumPy views.
template <class T>
pybind11::capsule keeper(const std::shared_ptr<T> & owner) {
    return pybind11::capsule(new std::shared_ptr<T>(owner),
                             [](void * p) { delete static_cast<std::shared_ptr<T> *>(p); });
}

// Dataset.ask_teacher (teachers.cpp: it runs Python teacher callbacks).
pybind11::dict dataset_ask_teacher(PyDataset & dataset, PyTeacher * teacher, PyStore * store,
                                   pybind11::object progress, int32_t batch_size);

// The progress callable for `progress`: True → a new distill._progress
// bar of class `bar_class`, False/None → None, a callable → itself.
pybind11::object progress_callable(pybind11::object progress, const char * bar_class);
// Calls progress.close() when it has one (a bar ending its line).
void close_progress(pybind11::handle progress);

}  // namespace distill_python
