// libFuzzer target of the safetensors reader: any input either parses or is
// refused with distill::error; anything else (another exception, a crash,
// an ASan or UBSan report) is a bug. A file that parses must also survive a
// round trip: written again and re-read, it holds the same tensors and
// metadata, so the reader cannot accept something the writer cannot express.
#include "common/error.h"
#include "train/safetensors.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

namespace {

void require(bool condition, const char * what) {
    if (!condition) {
        std::fprintf(stderr, "fuzz_safetensors: invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    const auto bytes = std::as_bytes(std::span(data, size));
    distill::safetensors_contents contents;
    try {
        contents = distill::parse_safetensors(bytes, "fuzz input");
    } catch (const distill::error &) {
        return 0;
    }
    uint64_t covered = 0;
    for (const auto & tensor : contents.tensors) {
        require(tensor.data.data() >= bytes.data() &&
                    tensor.data.data() + tensor.data.size() <= bytes.data() + bytes.size(),
                "tensor data inside the input");
        covered += tensor.data.size();
        try {
            (void)distill::safetensors_to_float32(tensor, "fuzz input");
        } catch (const distill::error &) {  // an integer dtype
        }
    }
    require(covered <= size, "tensors cover at most the input");

    std::string again;
    try {
        again = distill::serialize_safetensors(contents.tensors, contents.metadata);
    } catch (const distill::error &) {
        require(false, "a parsed file serialises again");
    }
    const distill::safetensors_contents reread =
        distill::parse_safetensors(std::as_bytes(std::span(again)), "round trip");
    require(reread.metadata == contents.metadata, "metadata survives the round trip");
    require(reread.tensors.size() == contents.tensors.size(), "tensor count survives");
    for (const auto & tensor : contents.tensors) {
        bool found = false;
        for (const auto & other : reread.tensors) {
            if (other.name != tensor.name) continue;
            found = other.dtype == tensor.dtype && other.shape == tensor.shape &&
                    other.data.size() == tensor.data.size() &&
                    (tensor.data.empty() ||
                     std::memcmp(other.data.data(), tensor.data.data(), tensor.data.size()) == 0);
        }
        require(found, "each tensor survives the round trip");
    }
    return 0;
}
