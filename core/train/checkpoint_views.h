// The parts of a checkpoint (train/checkpoint.h) that every trainer writes
// the same way: a model's parameters by its parameter table, and the
// optimizer with its schedule and state. Views into the trainer's own
// buffers, valid while they are.
#pragma once

#include <span>
#include <vector>

#include "students/model.h"
#include "train/checkpoint.h"
#include "train/lr_schedule.h"
#include "train/optimizer.h"

namespace distill {

// One view per entry of `table` into values[offset, offset + count), with
// its name and shape.
std::vector<checkpoint_tensor_view> parameter_views(const std::vector<parameter_info> & table,
                                                    std::span<const float> values);

// views.optimizer = {"optimizer", "schedule", "step"} and
// views.optimizer_tensors = one view per state buffer of `opt`.
void put_optimizer_views(checkpoint_views & views, const optimizer & opt,
                         const lr_schedule_config & schedule);

}  // namespace distill
