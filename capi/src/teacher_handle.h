// The distill_teacher handle: any core teacher behind one C type, so
// distill_teacher_query and friends work on every kind (callback, HTTP).
#pragma once

#include <memory>

#include "teachers/teacher.h"

struct distill_teacher {
    std::unique_ptr<distill::teacher> impl;
};
