// A labelled image dataset from a pair of IDX files (MNIST layout): images
// [N, H, W] of unsigned bytes and labels [N] of class indices.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

namespace distill {

struct labelled_images {
    // [count, H*W] fp32, row-major: pixel byte x becomes x / 255, so every
    // value lies in [0, 1] (0 = background; Fashion-MNIST is white on black).
    std::vector<float> images;
    std::vector<int64_t> labels;           // [count], each in [0, num_classes)
    int64_t count = 0;                     // N
    int64_t num_classes = 0;               // max label in the whole label file + 1
    std::array<int64_t, 3> image_shape{};  // {1, H, W}: channels, height, width

    int64_t features() const { return image_shape[0] * image_shape[1] * image_shape[2]; }
};

// Reads both files (raw or gzip'ed, see read_idx_file) and checks that they
// describe the same N examples. With a limit, keeps only the first
// min(limit, N) examples (limit >= 1). num_classes is taken from every label
// in the file, not just the kept ones, so a short prefix keeps the dataset's
// class count. Throws distill::error naming the file and the mismatch:
// invalid_argument for two intact files that do not fit together (images
// of other dims, another count of labels), read_idx_file's errors else.
labelled_images load_idx_dataset(const std::filesystem::path & images_path,
                                 const std::filesystem::path & labels_path,
                                 std::optional<int64_t> limit = std::nullopt);

}  // namespace distill
