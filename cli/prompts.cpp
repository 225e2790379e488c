#include "prompts.h"

#include "file_text.h"

#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace distill_cli {

std::vector<prompt_request> read_prompt_requests(const std::string & path,
                                                 const prompt_overrides & o) {
    std::istringstream in(read_file_text(path, "--prompts"));
    std::vector<prompt_request> requests;
    std::string line;
    for (long number = 1; std::getline(in, line); ++number) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = path + ":" + std::to_string(number) + ": ";
        nlohmann::json item;
        try {
            item = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception & e) {
            throw std::runtime_error(where + "malformed JSON (" + e.what() + ")");
        }
        if (!item.is_object()) throw std::runtime_error(where + "expected a JSON object");
        // The command line's options first, as defaults; then every field
        // of the line as written (it overrides them): all of it is sent and
        // keyed, fields we do not know included (a server's own extensions).
        nlohmann::json request = nlohmann::json::object();
        if (item.contains("messages")) {
            if (!item["messages"].is_array())
                throw std::runtime_error(where + "\"messages\" must be an array");
            if (o.top_logprobs >= 0) {
                request["logprobs"] = true;
                request["top_logprobs"] = o.top_logprobs;
            }
        } else if (item.contains("prompt")) {
            if (!item["prompt"].is_string())
                throw std::runtime_error(where + "\"prompt\" must be a string");
            if (o.top_logprobs >= 0) request["logprobs"] = o.top_logprobs;
        } else {
            throw std::runtime_error(where + "needs \"messages\" or \"prompt\"");
        }
        if (item.contains("stream") && item["stream"] != false)
            throw std::runtime_error(where +
                                     "\"stream\": expected false or absent (answers "
                                     "are read whole), got " +
                                     item["stream"].dump());
        if (o.max_tokens >= 0) request["max_tokens"] = o.max_tokens;
        if (o.temperature >= 0) request["temperature"] = o.temperature;
        for (const auto & [name, value] : item.items()) request[name] = value;
        requests.push_back({number, request.dump()});
    }
    return requests;
}

}  // namespace distill_cli
