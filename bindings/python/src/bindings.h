// The parts of the native module, each adding its classes and functions.
#pragma once

#include <pybind11/pybind11.h>

namespace distill_python {

// Model, Dataset (students.cpp).
void bind_students(pybind11::module_ & m);
// Trainer, evaluate (training.cpp).
void bind_training(pybind11::module_ & m);
// TeacherRecord, Store, the teachers and collect (teachers.cpp).
void bind_teachers(pybind11::module_ & m);
// The example wire format of the ABI: request features, classification answers (answers.cpp).
void bind_answers(pybind11::module_ & m);
// Tokenizer (tokenizer.cpp).
void bind_tokenizer(pybind11::module_ & m);
// tokenize_files, TextDataset (text_dataset.cpp).
void bind_text_dataset(pybind11::module_ & m);
// export_hf_folder, import_hf_folder (hf_folder.cpp).
void bind_hf_folder(pybind11::module_ & m);
// Model.lm_logits, Trainer.step_tokens / fit_text / fit_stored, evaluate_lm(_stored)
// (language_model.cpp; after bind_students and bind_training, whose classes it extends).
void bind_language_model(pybind11::module_ & m);

}  // namespace distill_python
