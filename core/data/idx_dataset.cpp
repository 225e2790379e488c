#include "data/idx_dataset.h"

#include "common/error.h"
#include "data/idx_file.h"

#include <algorithm>
#include <string>

namespace distill {

labelled_images load_idx_dataset(const std::filesystem::path & images_path,
                                 const std::filesystem::path & labels_path,
                                 std::optional<int64_t> limit) {
    if (limit && *limit < 1) {
        fail_invalid("limit: expected at least 1 example, got " + std::to_string(*limit));
    }
    const idx_file images = read_idx_file(images_path);
    if (images.dims.size() != 3) {
        fail_invalid(images_path.string() +
                     ": expected images of 3 IDX dimensions [N, H, W], got " +
                     std::to_string(images.dims.size()));
    }
    const idx_file labels = read_idx_file(labels_path);
    if (labels.dims.size() != 1) {
        fail_invalid(labels_path.string() + ": expected labels of 1 IDX dimension [N], got " +
                     std::to_string(labels.dims.size()));
    }
    if (labels.dims[0] != images.dims[0]) {
        fail_invalid(labels_path.string() + ": expected " + std::to_string(images.dims[0]) +
                     " labels, one per image of " + images_path.string() + ", got " +
                     std::to_string(labels.dims[0]));
    }

    labelled_images out;
    out.count = limit ? std::min(*limit, images.dims[0]) : images.dims[0];
    out.image_shape = {1, images.dims[1], images.dims[2]};
    out.num_classes = *std::max_element(labels.bytes.begin(), labels.bytes.end()) + int64_t(1);
    out.labels.assign(labels.bytes.begin(), labels.bytes.begin() + out.count);
    const size_t pixels = size_t(out.count * out.features());
    out.images.resize(pixels);
    for (size_t i = 0; i < pixels; ++i) out.images[i] = float(images.bytes[i]) / 255.0f;
    return out;
}

}  // namespace distill
