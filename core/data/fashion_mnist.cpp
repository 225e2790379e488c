#include "data/fashion_mnist.h"

#include "common/error.h"
#include "common/file_error.h"

#include <cstdlib>
#include <string>

namespace distill {
namespace {

constexpr const char * default_directory = "/usr/share/datasets/fashion-mnist";
constexpr const char * directory_variable = "DISTILL_FASHION_MNIST_DIR";

// The gzip'ed file, else the uncompressed one, else empty (missing).
std::filesystem::path find_file(const std::filesystem::path & directory, const std::string & stem) {
    std::error_code ec;
    for (const std::string & name : {stem + ".gz", stem}) {
        const std::filesystem::path candidate = directory / name;
        if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
    }
    return {};
}

}  // namespace

fashion_mnist_paths locate_fashion_mnist() {
    const char * from_environment = std::getenv(directory_variable);
    if (from_environment != nullptr && *from_environment != '\0') {
        return locate_fashion_mnist_in(from_environment);
    }
    return locate_fashion_mnist_in(default_directory);
}

fashion_mnist_paths locate_fashion_mnist_in(const std::filesystem::path & directory) {
    fashion_mnist_paths paths;
    paths.directory = directory;
    std::string missing;
    const std::pair<std::filesystem::path *, const char *> files[] = {
        {&paths.train_images, "train-images-idx3-ubyte"},
        {&paths.train_labels, "train-labels-idx1-ubyte"},
        {&paths.test_images, "t10k-images-idx3-ubyte"},
        {&paths.test_labels, "t10k-labels-idx1-ubyte"},
    };
    for (const auto & [path, stem] : files) {
        *path = find_file(directory, stem);
        if (path->empty()) missing += std::string(missing.empty() ? "" : ", ") + stem + ".gz";
    }
    if (!missing.empty()) {
        throw error(status::not_found, "Fashion-MNIST: expected its four IDX files in " +
                                           directory.string() + ", got none for " + missing +
                                           ". Install the dataset with `apt-get install " +
                                           "dataset-fashion-mnist` (files land in " +
                                           default_directory + "), or set " + directory_variable +
                                           " to a directory holding them");
    }
    return paths;
}

const std::array<std::string_view, 10> & fashion_mnist_class_names() {
    static constexpr std::array<std::string_view, 10> names = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
    };
    return names;
}

}  // namespace distill
