// Where Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017) lives on this machine,
// and the names of its 10 classes. Debian's dataset-fashion-mnist installs
// the four gzip'ed IDX files under /usr/share/datasets/fashion-mnist.
#pragma once

#include <array>
#include <filesystem>
#include <string_view>

namespace distill {

struct fashion_mnist_paths {
    std::filesystem::path directory;
    std::filesystem::path train_images;  // 60000 x 28 x 28
    std::filesystem::path train_labels;  // 60000
    std::filesystem::path test_images;   // 10000 x 28 x 28
    std::filesystem::path test_labels;   // 10000
};

// The directory named by $DISTILL_FASHION_MNIST_DIR when set and not empty,
// else /usr/share/datasets/fashion-mnist; see locate_fashion_mnist_in.
fashion_mnist_paths locate_fashion_mnist();

// The four files in `directory`: each as <name>.gz, or as the uncompressed
// <name> when only that exists (e.g. train-images-idx3-ubyte). Throws
// not_found listing the missing files and how to install them.
fashion_mnist_paths locate_fashion_mnist_in(const std::filesystem::path & directory);

// Class names by label: 0 = "T-shirt/top" ... 9 = "Ankle boot".
const std::array<std::string_view, 10> & fashion_mnist_class_names();

}  // namespace distill
