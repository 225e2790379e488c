// distill.TeacherRecord: one teacher answer, read from Python; and the
// reverse, a Python answer dict written into a record.
#pragma once

#include <distill/distill.hpp>

#include <pybind11/pybind11.h>

#include <string>

namespace distill_python {

void bind_teacher_record(pybind11::module_ & m);

// A distill.TeacherRecord owning `record`.
pybind11::object wrap_record(distill::TeacherRecord record);
// The record inside a distill.TeacherRecord (InvalidArgumentError otherwise).
const distill::TeacherRecord & unwrap_record(pybind11::handle record);

// Writes a CallbackTeacher's answer (see its docs) into `record`; returns
// "" or what is wrong with the answer (then the record is a failure).
std::string fill_record(pybind11::handle answer, distill_teacher_record * record);

}  // namespace distill_python
