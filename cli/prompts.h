// Reading a prompts file (JSON Lines: {"messages": [...]} or {"prompt": "..."},
// optional "id", any other request field) into the request bodies `distill
// query` and `distill batch` send — the same fields and defaults, hence the
// same request keys. Every field of a line is sent as written and is part of
// its key ("id" is keyed but stays local); the command line's options are
// defaults that a line's own fields override.
#pragma once

#include <string>
#include <vector>

namespace distill_cli {

// The per-request defaults of the command line; < 0 means "not given".
struct prompt_overrides {
    int top_logprobs = -1;
    int max_tokens = -1;
    double temperature = -1.0;
};

struct prompt_request {
    long line;         // in the prompts file, for messages
    std::string json;  // the request sent (and keyed)
};

// Throws std::runtime_error naming the file and line of what is wrong.
std::vector<prompt_request> read_prompt_requests(const std::string & path,
                                                 const prompt_overrides & overrides);

}  // namespace distill_cli
