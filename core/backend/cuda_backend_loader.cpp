#include "cuda_backend_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "common/error.h"

namespace distill {
namespace {

struct load_outcome {
    const distill_cuda_backend_v1 * table = nullptr;
    std::string failure;
};

// The directory holding the library this function lives in, with a '/'.
std::string own_directory() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&cuda_device_count), &info) == 0 ||
        info.dli_fname == nullptr)
        return {};
    const std::string path = info.dli_fname;
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

load_outcome load() {
    // The backend's SONAME carries the same major version as libdistill.
    const std::string file = "libdistill_cuda.so." DISTILL_VERSION_MAJOR_STRING;
    std::string tried;
    void * handle = nullptr;
    const char * override_path = std::getenv("DISTILL_CUDA_BACKEND");
    const std::string candidates[] = {
        override_path != nullptr ? std::string(override_path) : std::string(),
        own_directory() + file,
        file,
    };
    for (const std::string & candidate : candidates) {
        if (candidate.empty()) continue;
        handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle != nullptr) break;
        const char * why = dlerror();
        tried += "\n  " + candidate + ": " + (why != nullptr ? why : "not found");
    }
    if (handle == nullptr)
        return {nullptr,
                "the CUDA backend could not be loaded (was distill built with "
                "DISTILL_CUDA=ON?); tried:" +
                    tried};
    auto entry =
        reinterpret_cast<distill_cuda_backend_entry_fn>(dlsym(handle, DISTILL_CUDA_BACKEND_ENTRY));
    if (entry == nullptr)
        return {nullptr, "the CUDA backend library has no " DISTILL_CUDA_BACKEND_ENTRY " symbol"};
    const distill_cuda_backend_v1 * table = entry();
    if (table == nullptr || table->api_version != DISTILL_CUDA_BACKEND_API_VERSION)
        return {nullptr,
                "the CUDA backend was built for another version of libdistill "
                "(backend API " +
                    std::to_string(table != nullptr ? table->api_version : 0) + ", expected " +
                    std::to_string(DISTILL_CUDA_BACKEND_API_VERSION) + ")"};
    return {table, {}};  // the handle stays open for the life of the process
}

const load_outcome & outcome() {
    static const load_outcome cached = load();
    return cached;
}

}  // namespace

const distill_cuda_backend_v1 & cuda_backend() {
    const load_outcome & o = outcome();
    if (o.table == nullptr) fail_unsupported(o.failure);
    return *o.table;
}

int32_t cuda_device_count() {
    const load_outcome & o = outcome();
    if (o.table == nullptr) return 0;
    int32_t count = 0;
    char message[256] = {0};
    if (o.table->device_count(&count, message, sizeof message) != 0) return 0;
    return count;
}

}  // namespace distill
