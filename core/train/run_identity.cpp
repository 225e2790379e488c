#include "train/run_identity.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "common/error.h"

namespace distill {
namespace {

// A 64-bit digest of `bytes` (words mixed as in splitmix64, then folded):
// identity of data, not a defence against forgery.
uint64_t digest_bytes(const void * data, size_t bytes, uint64_t h) {
    const auto * p = static_cast<const unsigned char *>(data);
    const auto mix = [](uint64_t z) {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    };
    size_t at = 0;
    for (; at + 8 <= bytes; at += 8) {
        uint64_t word;
        std::memcpy(&word, p + at, 8);
        h = mix(h ^ word) + 0x9e3779b97f4a7c15ull;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, p + at, bytes - at);
    return mix(h ^ tail ^ (uint64_t(bytes) << 56));
}

template <class T>
nlohmann::json digest_or_null(const std::vector<T> & values, uint64_t h = 0) {
    if (values.empty() && h == 0) return nullptr;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  (unsigned long long)digest_bytes(values.data(), values.size() * sizeof(T), h));
    return hex;
}

}  // namespace

nlohmann::json loss_identity(const kd_loss_options & loss, float max_grad_norm) {
    return {{"loss",
             {{"divergence", loss.divergence},
              {"beta", loss.beta},
              {"temperature", loss.temperature},
              {"scale_by_t2", loss.scale_by_t2},
              {"soft_weight", loss.soft_weight},
              {"hard_weight", loss.hard_weight},
              {"ignore_index", loss.ignore_index},
              {"reduction", loss.reduction},
              {"tail", loss.tail}}},
            {"max_grad_norm", max_grad_norm}};
}

nlohmann::json data_identity(const example_set & set) {
    nlohmann::json teacher = nullptr;
    if (set.has_teacher_logits()) teacher = digest_or_null(set.teacher_logits, 1);
    if (set.has_teacher_topk()) {
        const uint64_t ids = digest_bytes(set.teacher_topk_ids.data(),
                                          set.teacher_topk_ids.size() * sizeof(int32_t), 2);
        teacher = digest_or_null(set.teacher_topk_logprobs, ids);
    }
    return {{"rows", set.rows},
            {"features", set.features},
            {"inputs", digest_or_null(set.inputs)},
            {"labels", digest_or_null(set.labels)},
            {"teacher", teacher}};
}

void require_same_identity(const nlohmann::json & recorded, const nlohmann::json & current,
                           const std::string & source, const std::string & what,
                           const std::string & remedy) {
    std::string differences;
    // Flattened one level: {"loss": {...}} compares loss.temperature etc.
    const auto compare = [&](const nlohmann::json & a, const nlohmann::json & b,
                             const std::string & prefix) {
        for (const auto & [key, value] : a.items()) {
            if (!b.contains(key) || b[key] == value) continue;
            differences += (differences.empty() ? "" : "; ") + prefix + key + " = " + value.dump() +
                           " there, " + b[key].dump() + " here";
        }
    };
    for (const auto & [key, value] : recorded.items()) {
        if (!current.contains(key)) continue;
        if (value.is_object() && current[key].is_object())
            compare(value, current[key], key + ".");
        else if (value != current[key])
            differences += (differences.empty() ? "" : "; ") + key + " = " + value.dump() +
                           " there, " + current[key].dump() + " here";
    }
    if (!differences.empty())
        fail_invalid(source + ": it was made with other " + what + " (" + differences + "); " +
                     remedy);
}

}  // namespace distill
