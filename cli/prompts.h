// Reading a prompts file (JSON Lines: {"messages": [...]} or {"prompt": "..."},
// optional "id") into the request bodies `distill query` and `distill batch`
// send — the same fields and overrides, hence the same request keys.
#pragma once

#include <string>
#include <vector>

namespace distill_cli {

// The per-request overrides of the command line; < 0 means "not given".
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
