#include "text/tokenizer_json.h"

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"

namespace distill::tokenizer {

namespace {

using nlohmann::json;
using ordered_json = nlohmann::ordered_json;

std::string type_name(const json & value) {
    if (value.is_object() && value.contains("type") && value["type"].is_string())
        return value["type"].get<std::string>();
    return value.dump();
}

const json & field(const json & object, const char * key, const std::string & what) {
    if (!object.is_object()) fail_invalid(what + ": expected an object, got " + object.dump());
    const auto it = object.find(key);
    if (it == object.end()) fail_invalid(what + "." + key + " is missing");
    return *it;
}

bool flag(const json & object, const char * key, bool fallback, const std::string & what) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return fallback;
    if (!it->is_boolean())
        fail_invalid(what + "." + key + ": expected true or false, got " + it->dump());
    return it->get<bool>();
}

std::string text(const json & value, const std::string & what) {
    if (!value.is_string()) fail_invalid(what + ": expected a string, got " + value.dump());
    return value.get<std::string>();
}

// The model's vocabulary by id, and its merges.
bpe_model read_model(const json & model) {
    const std::string type = model.is_object() && model.contains("type")
                                 ? text(model["type"], "model.type")
                                 : std::string("BPE");  // tokenizers reads an untagged BPE too
    if (type != "BPE")
        fail_unsupported("model type " + type + " is not supported: expected BPE");
    if (flag(model, "byte_fallback", false, "model"))
        fail_unsupported("model.byte_fallback true is not supported: expected false (a byte-level "
                         "BPE covers every byte with its alphabet)");
    for (const char * key : {"continuing_subword_prefix", "end_of_word_suffix"})
        if (model.contains(key) && !model[key].is_null() && model[key] != "")
            fail_unsupported(std::string("model.") + key + " " + model[key].dump() +
                             " is not supported: expected null");
    if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"] != 0)
        fail_unsupported("model.dropout " + model["dropout"].dump() +
                         " is not supported: expected null (deterministic encoding)");

    const json & vocab = field(model, "vocab", "model");
    if (!vocab.is_object())
        fail_invalid("model.vocab: expected an object of token: id, got " + type_name(vocab));
    std::vector<std::string> by_id;
    for (const auto & [token, id_value] : vocab.items()) {
        if (!id_value.is_number_integer() || id_value.get<int64_t>() < 0 ||
            id_value.get<int64_t>() >= INT32_MAX)
            fail_invalid("model.vocab[\"" + token + "\"]: expected an id in [0, 2^31 - 1), got " +
                         id_value.dump());
        if (token.empty()) fail_invalid("model.vocab: expected non-empty tokens, got \"\"");
        const size_t id = size_t(id_value.get<int64_t>());
        if (id >= by_id.size()) by_id.resize(id + 1);
        if (!by_id[id].empty())
            fail_invalid("model.vocab[\"" + token + "\"]: id " + std::to_string(id) +
                         " is already the id of \"" + by_id[id] + "\"");
        by_id[id] = token;
    }

    const json & merges_json = field(model, "merges", "model");
    if (!merges_json.is_array())
        fail_invalid("model.merges: expected an array, got " + type_name(merges_json));
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(merges_json.size());
    for (size_t i = 0; i < merges_json.size(); ++i) {
        const json & m = merges_json[i];
        const std::string name = "model.merges[" + std::to_string(i) + "]";
        if (m.is_string()) {
            const std::string & s = m.get_ref<const std::string &>();
            const size_t space = s.find(' ');
            if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
                fail_invalid(name + ": expected \"left right\" (one space), got " + m.dump());
            merges.emplace_back(s.substr(0, space), s.substr(space + 1));
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        } else {
            fail_invalid(name + ": expected \"left right\" or [\"left\", \"right\"], got " + m.dump());
        }
    }
    return bpe_model(std::move(by_id), merges, flag(model, "ignore_merges", false, "model"));
}

void read_byte_level(const json & step, const std::string & what, bool first, pre_tokenizer & pre) {
    const bool prefix = flag(step, "add_prefix_space", true, what);
    if (prefix && !first)
        fail_unsupported(what + ".add_prefix_space true after a Split is not supported: expected false");
    pre.add_prefix_space = prefix;
    if (flag(step, "use_regex", true, what))
        pre.splits.push_back(std::make_unique<split_pattern>(gpt2_split_regex, false, what));
}

void read_split(const json & step, const std::string & what, pre_tokenizer & pre) {
    const json & pattern = field(step, "pattern", what);
    const std::string behavior = text(field(step, "behavior", what), what + ".behavior");
    if (behavior != "Isolated")
        fail_unsupported(what + ".behavior " + behavior + " is not supported: expected Isolated");
    if (flag(step, "invert", false, what))
        fail_unsupported(what + ".invert true is not supported: expected false");
    if (pattern.is_object() && pattern.contains("Regex"))
        pre.splits.push_back(std::make_unique<split_pattern>(
            text(pattern["Regex"], what + ".pattern.Regex"), false, what + ".pattern.Regex"));
    else if (pattern.is_object() && pattern.contains("String"))
        pre.splits.push_back(std::make_unique<split_pattern>(
            text(pattern["String"], what + ".pattern.String"), true, what + ".pattern.String"));
    else
        fail_invalid(what + ".pattern: expected {\"Regex\": ...} or {\"String\": ...}, got " +
                     pattern.dump());
}

const char * const expected_pre_tokenizer =
    "expected ByteLevel, or a Sequence of Split pre-tokenizers ending in ByteLevel";

pre_tokenizer read_pre_tokenizer(const json & value) {
    pre_tokenizer pre;
    pre.json = value.dump();
    const std::string type = value.is_object() && value.contains("type") ? type_name(value) : "";
    if (type == "ByteLevel") {
        read_byte_level(value, "pre_tokenizer", true, pre);
        return pre;
    }
    if (type != "Sequence")
        fail_unsupported("pre_tokenizer " + (type.empty() ? value.dump() : type) +
                         " is not supported: " + expected_pre_tokenizer);
    const json & steps = field(value, "pretokenizers", "pre_tokenizer");
    if (!steps.is_array() || steps.empty())
        fail_invalid("pre_tokenizer.pretokenizers: expected a non-empty array, got " + steps.dump());
    for (size_t i = 0; i < steps.size(); ++i) {
        const std::string what = "pre_tokenizer.pretokenizers[" + std::to_string(i) + "]";
        const std::string step_type = type_name(steps[i]);
        const bool last = i + 1 == steps.size();
        if (step_type == "Split" && !last)
            read_split(steps[i], what, pre);
        else if (step_type == "ByteLevel" && last)
            read_byte_level(steps[i], what, i == 0, pre);
        else
            fail_unsupported(what + " " + step_type + " is not supported here: " +
                             expected_pre_tokenizer);
    }
    return pre;
}

added_vocabulary read_added_tokens(const json & root) {
    std::vector<added_token> tokens;
    const auto it = root.find("added_tokens");
    if (it == root.end() || it->is_null()) return added_vocabulary(std::move(tokens));
    if (!it->is_array()) fail_invalid("added_tokens: expected an array, got " + it->dump());
    for (size_t i = 0; i < it->size(); ++i) {
        const json & t = (*it)[i];
        const std::string what = "added_tokens[" + std::to_string(i) + "]";
        const json & id = field(t, "id", what);
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= INT32_MAX)
            fail_invalid(what + ".id: expected an id in [0, 2^31 - 1), got " + id.dump());
        if (flag(t, "single_word", false, what))
            fail_unsupported(what + ".single_word true is not supported: expected false");
        added_token token;
        token.id = int32_t(id.get<int64_t>());
        token.content = text(field(t, "content", what), what + ".content");
        token.special = flag(t, "special", false, what);
        token.lstrip = flag(t, "lstrip", false, what);
        token.rstrip = flag(t, "rstrip", false, what);
        token.normalized = flag(t, "normalized", false, what);
        tokens.push_back(std::move(token));
    }
    return added_vocabulary(std::move(tokens));
}

}  // namespace

std::unique_ptr<bpe_tokenizer> load_tokenizer_json(std::string_view text_view) {
    json root;
    try {
        root = json::parse(text_view);
    } catch (const json::parse_error & e) {
        fail_invalid(std::string("tokenizer.json: not valid JSON (") + e.what() + ")");
    }
    if (!root.is_object())
        fail_invalid("tokenizer.json: expected an object at the top, got " + root.dump().substr(0, 80));
    bpe_model model = read_model(field(root, "model", "tokenizer.json"));

    if (const auto it = root.find("normalizer"); it != root.end() && !it->is_null()) {
        const bool empty_sequence = type_name(*it) == "Sequence" && it->contains("normalizers") &&
                                    (*it)["normalizers"].is_array() && (*it)["normalizers"].empty();
        if (!empty_sequence)
            fail_unsupported("normalizer " + type_name(*it) + " is not supported: expected null");
    }
    const auto pre_it = root.find("pre_tokenizer");
    pre_tokenizer pre = read_pre_tokenizer(pre_it == root.end() ? json() : *pre_it);
    const auto decoder = root.find("decoder");
    if (decoder == root.end() || type_name(*decoder) != "ByteLevel")
        fail_unsupported("decoder " + (decoder == root.end() ? std::string("(missing)")
                                                             : type_name(*decoder)) +
                         " is not supported: expected ByteLevel");
    const auto post = root.find("post_processor");
    return std::make_unique<bpe_tokenizer>(std::move(model), read_added_tokens(root), std::move(pre),
                                           post == root.end() ? "null" : post->dump());
}

std::unique_ptr<bpe_tokenizer> load_tokenizer_file(const std::string & path) {
    return load_tokenizer_json(read_whole_file(path));
}

std::string tokenizer_json(const bpe_tokenizer & tokenizer) {
    ordered_json root;
    root["version"] = "1.0";
    root["truncation"] = nullptr;
    root["padding"] = nullptr;
    ordered_json added = ordered_json::array();
    for (const added_token & t : tokenizer.added().tokens())
        added.push_back({{"id", t.id},
                         {"content", t.content},
                         {"single_word", false},
                         {"lstrip", t.lstrip},
                         {"rstrip", t.rstrip},
                         {"normalized", t.normalized},
                         {"special", t.special}});
    root["added_tokens"] = added;
    root["normalizer"] = nullptr;
    root["pre_tokenizer"] = ordered_json::parse(tokenizer.pre().json);
    root["post_processor"] = ordered_json::parse(tokenizer.post_processor_json());
    root["decoder"] = {{"type", "ByteLevel"},
                       {"add_prefix_space", true},
                       {"trim_offsets", true},
                       {"use_regex", true}};
    const bpe_model & model = tokenizer.model();
    ordered_json vocab = ordered_json::object();
    for (int32_t id = 0; id < model.size(); ++id)
        if (!model.token(id).empty()) vocab[model.token(id)] = id;
    ordered_json merges = ordered_json::array();
    for (const auto & [left, right] : model.merges()) merges.push_back({left, right});
    root["model"] = {{"type", "BPE"},
                     {"dropout", nullptr},
                     {"unk_token", nullptr},
                     {"continuing_subword_prefix", nullptr},
                     {"end_of_word_suffix", nullptr},
                     {"fuse_unk", false},
                     {"byte_fallback", false},
                     {"ignore_merges", model.ignore_merges()},
                     {"vocab", std::move(vocab)},
                     {"merges", std::move(merges)}};
    return root.dump(2);
}

void save_tokenizer_file(const bpe_tokenizer & tokenizer, const std::string & path) {
    write_file_atomically(path, tokenizer_json(tokenizer));
}

pre_tokenizer make_pre_tokenizer(const std::string & split) {
    if (split.empty())
        fail_invalid("split: expected \"gpt2\", \"llama3\" or a regex, got \"\"");
    ordered_json byte_level = {{"type", "ByteLevel"},
                               {"add_prefix_space", false},
                               {"trim_offsets", true},
                               {"use_regex", split == "gpt2"}};
    ordered_json value;
    if (split == "gpt2") {
        value = byte_level;
    } else {
        const std::string regex = split == "llama3" ? llama3_split_regex : split;
        value = {{"type", "Sequence"},
                 {"pretokenizers",
                  {{{"type", "Split"},
                    {"pattern", {{"Regex", regex}}},
                    {"behavior", "Isolated"},
                    {"invert", false}},
                   byte_level}}};
    }
    return read_pre_tokenizer(json::parse(value.dump()));
}

}  // namespace distill::tokenizer
