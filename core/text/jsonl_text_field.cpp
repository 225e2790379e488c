#include "text/jsonl_text_field.h"

#include <nlohmann/json.hpp>

namespace distill::text {

namespace {

using json = nlohmann::json;

// Follows the events of one value: `depth` 1 is inside the top-level
// object, where a key "text" makes the next value the one kept.
class text_field_reader : public nlohmann::json_sax<json> {
public:
    explicit text_field_reader(std::string & text) : text_(text) {}

    std::string top_kind;    // set when the top-level value is not an object
    std::string text_kind;   // what "text" was, when not a string
    bool found = false;
    std::string syntax_error;  // the parser's message, when the line is not JSON

    bool null() override { return value("null"); }
    bool boolean(bool) override { return value("a boolean"); }
    bool number_integer(number_integer_t) override { return value("a number"); }
    bool number_unsigned(number_unsigned_t) override { return value("a number"); }
    bool number_float(number_float_t, const string_t &) override { return value("a number"); }
    bool binary(binary_t &) override { return value("binary"); }
    bool string(string_t & s) override {
        if (depth_ == 1 && in_text_) {
            text_.swap(s);
            found = true;
            text_kind.clear();
            in_text_ = false;
            return true;
        }
        return value("a string");
    }
    bool start_object(std::size_t) override {
        if (depth_ == 0) ++depth_;
        else open("an object");
        return true;
    }
    bool end_object() override {
        --depth_;
        return true;
    }
    bool start_array(std::size_t) override {
        if (depth_ == 0) {
            top_kind = "an array";
            return false;  // the answer is known; stop reading
        }
        open("an array");
        return true;
    }
    bool end_array() override {
        --depth_;
        return true;
    }
    bool key(string_t & k) override {
        if (depth_ == 1) in_text_ = k == "text";
        return true;
    }
    bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception & e) override {
        syntax_error = e.what();
        return false;
    }

private:
    // A scalar value at some depth.
    bool value(const char * kind) {
        if (depth_ == 0) {
            top_kind = kind;
            return false;
        }
        if (depth_ == 1 && in_text_) {
            text_kind = kind;
            found = false;
            in_text_ = false;
        }
        return true;
    }
    // An object or array opening below the top level.
    void open(const char * kind) {
        if (depth_ == 1 && in_text_) {
            text_kind = kind;
            found = false;
            in_text_ = false;
        }
        ++depth_;
    }

    std::string & text_;
    int depth_ = 0;
    bool in_text_ = false;
};

}  // namespace

std::string read_text_field(std::string_view line, std::string & text) {
    text_field_reader reader(text);
    json::sax_parse(line.begin(), line.end(), &reader);
    if (!reader.syntax_error.empty()) return "malformed JSON (" + reader.syntax_error + ")";
    if (!reader.top_kind.empty()) return reader.top_kind;
    if (!reader.text_kind.empty()) return "\"text\" as " + reader.text_kind;
    if (!reader.found) return "an object without \"text\"";
    return "";
}

}  // namespace distill::text
