#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/split_pattern.h"

#include <pcre2.h>

#include "common/error.h"

namespace distill::tokenizer {

const char * const gpt2_split_regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char * const llama3_split_regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct split_pattern::compiled {
    pcre2_code * code = nullptr;
    pcre2_match_data * match = nullptr;
    bool jit = false;
    ~compiled() {
        pcre2_match_data_free(match);
        pcre2_code_free(code);
    }
};

split_pattern::split_pattern(const std::string & pattern, bool literal, const std::string & what)
    : pattern_(pattern), literal_(literal), compiled_(std::make_unique<compiled>()) {
    if (pattern.empty()) fail_invalid(what + ": expected a non-empty pattern, got \"\"");
    uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
    if (literal) options |= PCRE2_LITERAL;
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    compiled_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                    options, &error_code, &error_offset, nullptr);
    if (compiled_->code == nullptr) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error_code, message, sizeof message);
        fail_invalid(what + ": the regex \"" + pattern + "\" does not compile (PCRE2 at offset " +
                     std::to_string(error_offset) + ": " +
                     reinterpret_cast<const char *>(message) + ")");
    }
    // JIT is an optimisation: without it (an unsupported CPU) match
    // interprets the same pattern.
    compiled_->jit = pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE) == 0;
    compiled_->match = pcre2_match_data_create_from_pattern(compiled_->code, nullptr);
    if (compiled_->match == nullptr) throw error(status::out_of_memory, "out of memory");
}

split_pattern::~split_pattern() = default;

void split_pattern::split_isolated(std::string_view text, span piece,
                                   std::vector<span> & out) const {
    // The subject is the piece alone (offsets below are relative to it), so
    // that lookarounds see no further, as tokenizers matches each piece on
    // its own.
    const auto * subject = reinterpret_cast<PCRE2_SPTR>(text.data() + piece.begin);
    const size_t base = piece.begin;
    const size_t end = piece.end - piece.begin;
    size_t position = 0;
    size_t gap_begin = 0;
    while (position < end) {
        // NOTEMPTY: an empty match would only add an empty piece.
        const int rc =
            compiled_->jit
                ? pcre2_jit_match(compiled_->code, subject, end, position, PCRE2_NOTEMPTY,
                                  compiled_->match, nullptr)
                : pcre2_match(compiled_->code, subject, end, position, PCRE2_NOTEMPTY,
                              compiled_->match, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(rc, message, sizeof message);
            throw error(status::internal, "split pattern \"" + pattern_ + "\": PCRE2 match failed (" +
                                              reinterpret_cast<const char *>(message) + ")");
        }
        const PCRE2_SIZE * ovector = pcre2_get_ovector_pointer(compiled_->match);
        const size_t match_begin = ovector[0], match_end = ovector[1];
        if (match_begin > gap_begin) out.push_back({base + gap_begin, base + match_begin});
        out.push_back({base + match_begin, base + match_end});
        position = gap_begin = match_end;
    }
    if (end > gap_begin) out.push_back({base + gap_begin, base + end});
}

}  // namespace distill::tokenizer
