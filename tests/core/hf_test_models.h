// Students and tokenizers for the Hugging Face folder tests
// (test_hf_folder*.cpp): a transformer with random weights whose norms are
// away from 1 (so a norm lost on the way would show in the logits), and a
// small byte-level BPE trained here.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string_view>
#include <vector>

#include "lm/transformer.h"
#include "text/bpe_trainer.h"

namespace test {

inline distill::lm::transformer random_student(const distill::lm::transformer_config & config,
                                               uint64_t seed) {
    distill::lm::transformer model(config, seed);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> noise(0.0f, 0.2f);
    for (const distill::parameter_info & p : model.parameter_table())
        if (p.shape.size() == 1)
            for (int64_t i = 0; i < p.count; ++i) model.parameters()[size_t(p.offset + i)] = 1 + noise(rng);
    return model;
}

// 256 byte tokens, "<|endoftext|>" (id 0) and merges up to `vocab` ids.
inline std::unique_ptr<distill::tokenizer::bpe_tokenizer> small_tokenizer(int32_t vocab) {
    const std::vector<std::string_view> corpus(
        20, "the quick brown fox jumps over the lazy dog; hello world, hello there\n"
            "def f(x):\n    return x + 1\ncaf\xc3\xa9 na\xc3\xafve");
    distill::tokenizer::bpe_training_options options;
    options.vocab_size = vocab;
    options.special_tokens = {"<|endoftext|>"};
    return distill::tokenizer::train_bpe(corpus, options);
}

}  // namespace test
