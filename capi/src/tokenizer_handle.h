// The handle behind distill_tokenizer, shared by the calls that take one
// (tokenizer.cpp, text_dataset.cpp).
#pragma once

#include <distill/distill.h>

#include <memory>

#include "text/tokenizer.h"

struct distill_tokenizer {
    std::unique_ptr<distill::tokenizer::bpe_tokenizer> tokenizer;
};
