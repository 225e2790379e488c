// Shared by the collection-job tests: a chat server that answers each
// prompt with a text derived from it, and request sets.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_test_server.h"

namespace collect_test {

// {"messages": [{"role": "user", "content": "prompt <i>"}]} for i in [0, count).
inline std::vector<std::string> chat_requests(int count, const std::string & extra = "") {
    std::vector<std::string> requests;
    for (int i = 0; i < count; ++i)
        requests.push_back(R"({"messages": [{"role": "user", "content": "prompt )" +
                           std::to_string(i) + "\"}]" + extra + "}");
    return requests;
}

// The user message's content of a chat request body ("" when absent).
inline std::string prompt_of(const httplib::Request & request) {
    const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.contains("messages")) return "";
    return body["messages"].back().value("content", "");
}

// An OpenAI chat answer "answer to <prompt>" with fixed usage: 10 prompt
// tokens (4 of them cached), 5 completion tokens.
inline void answer(const httplib::Request & request, httplib::Response & response) {
    const nlohmann::json body = {
        {"id", "c"},
        {"model", "teacher-1"},
        {"choices",
         {{{"index", 0}, {"message", {{"content", "answer to " + prompt_of(request)}}}}}},
        {"usage",
         {{"prompt_tokens", 10},
          {"completion_tokens", 5},
          {"prompt_tokens_details", {{"cached_tokens", 4}}}}}};
    response.set_content(body.dump(), http_test::json_type);
}

}  // namespace collect_test
