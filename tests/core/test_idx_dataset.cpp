// load_idx_dataset and locate_fashion_mnist on small files written here:
// pixel scaling, limits, count and rank mismatches, missing dataset files.
#include "test_idx_support.h"

#include "common/error.h"
#include "data/fashion_mnist.h"
#include "data/idx_dataset.h"

#include <doctest/doctest.h>

#include <cstdlib>

using namespace idx_test;

namespace {

std::string load_error(const std::filesystem::path & images, const std::filesystem::path & labels,
                       std::optional<int64_t> limit = std::nullopt) {
    try {
        distill::load_idx_dataset(images, labels, limit);
    } catch (const distill::error & e) {
        CHECK(e.code() == distill::status::invalid_argument);
        return e.what();
    }
    FAIL("expected load_idx_dataset to refuse " << images << " and " << labels);
    return {};
}

}  // namespace

TEST_CASE("idx dataset: pixels scaled to [0, 1], labels kept, num_classes from the whole file") {
    temp_dir dir;
    // 3 images of 2 x 3 pixels; labels 1, 0, 4.
    write_raw(dir.file("images"), idx_bytes({3, 2, 3}, {0, 255, 51, 102, 1, 254,  //
                                                        10, 20, 30, 40, 50, 60,   //
                                                        255, 255, 0, 0, 128, 7}));
    write_gzip(dir.file("labels.gz"), idx_bytes({3}, {1, 0, 4}));

    const distill::labelled_images all =
        distill::load_idx_dataset(dir.file("images"), dir.file("labels.gz"));
    CHECK(all.count == 3);
    CHECK(all.num_classes == 5);
    CHECK(all.image_shape == std::array<int64_t, 3>{1, 2, 3});
    CHECK(all.features() == 6);
    CHECK(all.labels == std::vector<int64_t>{1, 0, 4});
    REQUIRE(all.images.size() == 18);
    CHECK(all.images[0] == 0.0f);
    CHECK(all.images[1] == 1.0f);
    CHECK(all.images[2] == 51.0f / 255.0f);
    CHECK(all.images[17] == 7.0f / 255.0f);

    // A limit keeps a prefix; the class count still comes from every label.
    const distill::labelled_images two =
        distill::load_idx_dataset(dir.file("images"), dir.file("labels.gz"), 2);
    CHECK(two.count == 2);
    CHECK(two.num_classes == 5);
    CHECK(two.labels == std::vector<int64_t>{1, 0});
    CHECK(two.images == std::vector<float>(all.images.begin(), all.images.begin() + 12));
    CHECK(distill::load_idx_dataset(dir.file("images"), dir.file("labels.gz"), 1000).count == 3);
    CHECK(load_error(dir.file("images"), dir.file("labels.gz"), 0) ==
          "limit: expected at least 1 example, got 0");
}

TEST_CASE("idx dataset: mismatched counts and ranks are refused") {
    temp_dir dir;
    write_raw(dir.file("images"), idx_bytes({3, 2, 2}, counting(12)));
    write_raw(dir.file("labels-2"), idx_bytes({2}, {0, 1}));
    write_raw(dir.file("labels-2d"), idx_bytes({3, 1}, {0, 1, 2}));
    write_raw(dir.file("images-2d"), idx_bytes({3, 4}, counting(12)));
    write_raw(dir.file("labels"), idx_bytes({3}, {0, 1, 2}));

    CHECK(load_error(dir.file("images"), dir.file("labels-2")) ==
          dir.file("labels-2").string() + ": expected 3 labels, one per image of " +
              dir.file("images").string() + ", got 2");
    CHECK(load_error(dir.file("images"), dir.file("labels-2d")) ==
          dir.file("labels-2d").string() + ": expected labels of 1 IDX dimension [N], got 2");
    CHECK(load_error(dir.file("images-2d"), dir.file("labels")) ==
          dir.file("images-2d").string() +
              ": expected images of 3 IDX dimensions [N, H, W], got 2");
}

TEST_CASE("fashion-mnist: missing files name the directory and how to install them") {
    temp_dir dir;
    std::string message;
    try {
        distill::locate_fashion_mnist_in(dir.path());
    } catch (const distill::error & e) {
        message = e.what();
    }
    CHECK(message == "Fashion-MNIST: expected its four IDX files in " + dir.path().string() +
                         ", got none for train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                         "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz. Install the "
                         "dataset with `apt-get install dataset-fashion-mnist` (files land in "
                         "/usr/share/datasets/fashion-mnist), or set DISTILL_FASHION_MNIST_DIR to "
                         "a directory holding them");
}

TEST_CASE("fashion-mnist: DISTILL_FASHION_MNIST_DIR is honoured, uncompressed files accepted") {
    temp_dir dir;
    for (const char * name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte",
                              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte.gz"}) {
        write_raw(dir.file(name), {});
    }
    const char * previous = std::getenv("DISTILL_FASHION_MNIST_DIR");
    const std::string saved = previous != nullptr ? previous : "";
    setenv("DISTILL_FASHION_MNIST_DIR", dir.path().c_str(), 1);
    const distill::fashion_mnist_paths paths = distill::locate_fashion_mnist();
    if (previous != nullptr) {
        setenv("DISTILL_FASHION_MNIST_DIR", saved.c_str(), 1);
    } else {
        unsetenv("DISTILL_FASHION_MNIST_DIR");
    }
    CHECK(paths.directory == dir.path());
    CHECK(paths.train_images == dir.file("train-images-idx3-ubyte.gz"));
    CHECK(paths.train_labels == dir.file("train-labels-idx1-ubyte"));
    CHECK(paths.test_images == dir.file("t10k-images-idx3-ubyte"));
    CHECK(paths.test_labels == dir.file("t10k-labels-idx1-ubyte.gz"));
}
