// What the token dataset tests share: a byte-level BPE trained by the
// project on real English text (Debian's fortunes), the fortune files
// themselves, and a way to catch a distill::error's status and message.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/atomic_file.h"
#include "common/error.h"
#include "text/bpe_trainer.h"
#include "text/tokenizer.h"

namespace test {

inline const std::filesystem::path fortunes_dir = "/usr/share/games/fortunes";

// Small fortune files (a few kB to 30 kB each), one document each.
inline std::vector<std::filesystem::path> fortune_files() {
    std::vector<std::filesystem::path> paths;
    for (const char * name : {"pratchett", "translate-me", "paradoxum", "pets", "goedel", "magic",
                              "disclaimer", "news", "debian", "medicine", "linuxcookie",
                              "riddles", "love", "fortunes", "kids", "startrek"})
        paths.push_back(fortunes_dir / name);
    return paths;
}

// A 512-token BPE (with <|endoftext|> and <|pad|> as ids 0 and 1) trained
// once on the first fortune files.
inline const distill::tokenizer::bpe_tokenizer & fortune_tokenizer() {
    static const std::unique_ptr<distill::tokenizer::bpe_tokenizer> tokenizer = [] {
        std::string text;
        for (const char * name : {"fortunes", "riddles", "love"})
            text += distill::read_whole_file(fortunes_dir / name);
        distill::tokenizer::bpe_training_options options;
        options.vocab_size = 512;
        options.special_tokens = {"<|endoftext|>", "<|pad|>"};
        return distill::tokenizer::train_bpe({text}, options);
    }();
    return *tokenizer;
}

// The message of what `f` throws, checking its status.
template <class F>
std::string error_of(F && f, distill::status expected) {
    try {
        f();
    } catch (const distill::error & e) {
        CHECK(int(e.code()) == int(expected));
        return e.what();
    }
    FAIL("expected a distill::error");
    return {};
}

}  // namespace test
