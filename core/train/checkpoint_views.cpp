#include "train/checkpoint_views.h"

#include "train/optimizer_config.h"

namespace distill {

std::vector<checkpoint_tensor_view> parameter_views(const std::vector<parameter_info> & table,
                                                    std::span<const float> values) {
    std::vector<checkpoint_tensor_view> views;
    views.reserve(table.size());
    for (const parameter_info & p : table)
        views.push_back({p.name, p.shape, values.subspan(size_t(p.offset), size_t(p.count))});
    return views;
}

void put_optimizer_views(checkpoint_views & views, const optimizer & opt,
                         const lr_schedule_config & schedule) {
    views.optimizer = {{"optimizer", to_json(opt.config())},
                       {"schedule", to_json(schedule)},
                       {"step", opt.step_count()}};
    views.optimizer_tensors.clear();
    for (const optimizer_state_buffer & b : opt.state())
        views.optimizer_tensors.push_back({b.name, {int64_t(b.values.size())}, b.values});
}

}  // namespace distill
