// The string field "text" of one JSON line, read with nlohmann-json's SAX
// interface: only that string is kept, the rest of the object is checked
// for well-formedness and dropped (a DOM of every line would allocate each
// field and double the time of reading a JSONL corpus).
#pragma once

#include <string>
#include <string_view>

namespace distill::text {

// Sets `text` to the top-level "text" string of the JSON value `line` (the
// last one when the key repeats) and returns "". Otherwise returns what was
// found instead, for a message: "malformed JSON (<parser's message>)",
// "an array", "an object without \"text\"", "\"text\" as a number".
std::string read_text_field(std::string_view line, std::string & text);

}  // namespace distill::text
