// The C handle behind distill_teacher_record, shared by the capi sources.
#pragma once

#include <distill/distill.h>

#include "teachers/teacher_record.h"

struct distill_teacher_record {
    distill::teacher_record impl;
};

namespace distill::capi {
// The record behind a handle; throws invalid_argument naming `argument` for NULL.
const distill::teacher_record & unwrap(const distill_teacher_record * record,
                                       const char * argument = "record");
distill::teacher_record & unwrap(distill_teacher_record * record, const char * argument = "record");
}  // namespace distill::capi
