// The real Fashion-MNIST files (Debian's dataset-fashion-mnist, or
// $DISTILL_FASHION_MNIST_DIR): shapes, the balanced label histogram the
// dataset is published with, and the pixel range.
#include "data/fashion_mnist.h"
#include "data/idx_dataset.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace {

void check_split(const distill::labelled_images & split, int64_t count) {
    CHECK(split.count == count);
    CHECK(split.num_classes == 10);
    CHECK(split.image_shape == std::array<int64_t, 3>{1, 28, 28});
    REQUIRE(split.images.size() == size_t(count * 784));
    REQUIRE(split.labels.size() == size_t(count));

    std::vector<int64_t> histogram(10, 0);
    for (int64_t label : split.labels) {
        if (label >= 0 && label < 10) ++histogram[size_t(label)];
    }
    CHECK(histogram == std::vector<int64_t>(10, count / 10));

    const auto [lowest, highest] = std::minmax_element(split.images.begin(), split.images.end());
    CHECK(*lowest == 0.0f);
    CHECK(*highest == 1.0f);
    // Mostly black background: the mean pixel of Fashion-MNIST is about 0.286.
    double sum = 0;
    for (float x : split.images) sum += x;
    CHECK(sum / double(split.images.size()) == doctest::Approx(0.286).epsilon(0.02));
}

}  // namespace

TEST_CASE("fashion-mnist: the real training and test splits load") {
    const distill::fashion_mnist_paths paths = distill::locate_fashion_mnist();
    check_split(distill::load_idx_dataset(paths.train_images, paths.train_labels), 60000);
    check_split(distill::load_idx_dataset(paths.test_images, paths.test_labels), 10000);
}

TEST_CASE("fashion-mnist: the class names") {
    const auto & names = distill::fashion_mnist_class_names();
    CHECK(names[0] == "T-shirt/top");
    CHECK(names[5] == "Sandal");
    CHECK(names[9] == "Ankle boot");
}
