// A teacher that answers many requests at once faster than one by one: an
// in-process model runs one batched forward pass instead of B single ones.
// Callers that hold many requests (distill_dataset_ask_teacher) look for
// this interface; every other teacher is asked one request at a time.
#pragma once

#include <span>

#include "teachers/teacher.h"

namespace distill {

class batch_teacher : public teacher {
public:
    // records[i] answers requests[i] (same sizes), as ask() would.
    virtual void ask_batch(std::span<const nlohmann::json> requests,
                           std::span<teacher_record> records) = 0;
};

}  // namespace distill
