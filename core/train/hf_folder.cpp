#include "train/hf_folder.h"

#include <fcntl.h>
#include <stdlib.h>  // mkdtemp
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/file_error.h"
#include "text/tokenizer_json.h"
#include "train/checkpoint.h"
#include "train/hf_config.h"
#include "train/safetensors.h"

namespace distill {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// --- export ----------------------------------------------------------------

// A fresh empty directory "<parent>/<name><tag>XXXXXX" beside the target, so
// that renames between it and the target stay on one file system.
fs::path make_sibling(const fs::path & dir, const char * tag) {
    std::string pattern = (dir.parent_path() / (dir.filename().string() + tag + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) fail_file("creating a folder beside", dir, errno);
    return pattern;
}

// Makes a rename inside `dir` durable (the files' own data is fsync'ed by
// write_file_atomically).
void sync_directory(const fs::path & dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail_file("opening the folder", dir, errno);
    const int result = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    if (result != 0 && saved != EINVAL) fail_file("syncing the folder", dir, saved);
}

void rename_or_fail(const fs::path & from, const fs::path & to) {
    if (::rename(from.c_str(), to.c_str()) != 0)
        fail_file("renaming '" + from.string() + "' to", to, errno);
}

// Whether `path` exists; a path that cannot be looked at (EACCES, ELOOP)
// is an error naming it, not a std::filesystem exception.
bool path_exists(const fs::path & path) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (error && error != std::errc::no_such_file_or_directory &&
        error != std::errc::not_a_directory)
        fail_file("looking at", path, error.value());
    return fs::exists(status);
}

bool is_folder(const fs::path & path) {
    std::error_code error;
    return fs::is_directory(path, error);
}

void remove_quietly(const fs::path & path) {
    std::error_code ignored;
    fs::remove_all(path, ignored);
}

void write_files(const lm::transformer & model, const tokenizer::bpe_tokenizer * tokenizer,
                 const fs::path & dir) {
    const std::span<const float> parameters = model.parameters();
    std::vector<safetensors_tensor> tensors;
    for (const parameter_info & p : model.parameter_table())
        tensors.push_back({p.name, safetensors_dtype::F32, p.shape,
                           std::as_bytes(parameters.subspan(size_t(p.offset), size_t(p.count)))});
    // transformers refuses a safetensors file whose metadata format is not
    // one of its frameworks; "pt" says the layout is PyTorch's.
    write_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
    if (tokenizer) {
        write_file_atomically(dir / "tokenizer.json", tokenizer::tokenizer_json(*tokenizer));
        const json tokenizer_config = {
            {"tokenizer_class", "PreTrainedTokenizerFast"},
            {"model_max_length", model.config().context},
            {"clean_up_tokenization_spaces", false},
        };
        write_file_atomically(dir / "tokenizer_config.json", tokenizer_config.dump(2) + "\n");
    }
    write_file_atomically(dir / "config.json", hf_config_json(model.config()).dump(2) + "\n");
}

// --- import ----------------------------------------------------------------

json read_config(const fs::path & path) {
    const std::string text = read_whole_file(path);
    try {
        return json::parse(text);
    } catch (const json::exception & e) {
        fail_corrupt(path.string() + ": expected a JSON object, got invalid JSON (" + e.what() + ")");
    }
}

// The weights file, or why there is none that this reader takes.
fs::path weights_path(const fs::path & dir) {
    const fs::path path = dir / "model.safetensors";
    if (path_exists(path)) return path;
    if (path_exists(dir / "model.safetensors.index.json"))
        fail_unsupported(dir.string() + ": the weights are sharded (model.safetensors.index.json); "
                         "expected one model.safetensors (save_pretrained with a "
                         "max_shard_size above the model's size)");
    if (path_exists(dir / "pytorch_model.bin"))
        fail_unsupported(dir.string() + ": the weights are a PyTorch pickle (pytorch_model.bin); "
                         "expected model.safetensors (save_pretrained(..., "
                         "safe_serialization=True))");
    fail_file("opening", path, ENOENT);
}

bool is_float_dtype(safetensors_dtype dtype) {
    return dtype == safetensors_dtype::F32 || dtype == safetensors_dtype::F16 ||
           dtype == safetensors_dtype::BF16 || dtype == safetensors_dtype::F64;
}

void load_weights(lm::transformer & model, const fs::path & path) {
    const safetensors_file file = safetensors_file::read(path);
    const std::string source = path.string();
    if (const auto it = file.metadata().find("format");
        it != file.metadata().end() && it->second != "pt" && it->second != checkpoint_format)
        fail_unsupported(source + ": __metadata__.format \"" + it->second +
                         "\" is not supported: expected \"pt\" (PyTorch's layout)");
    const auto & table = model.parameter_table();
    std::vector<bool> seen(table.size(), false);
    const safetensors_tensor * tied_head = nullptr;
    for (const safetensors_tensor & t : file.tensors()) {
        // Older transformers saved the rotary frequencies, a buffer computed
        // from rope_theta, not a weight.
        if (t.name.ends_with(".rotary_emb.inv_freq")) continue;
        if (!is_float_dtype(t.dtype))
            fail_unsupported(source + ": tensor '" + t.name + "' has dtype " +
                             std::string(safetensors_dtype_name(t.dtype)) +
                             ", expected F32, F16, BF16 or F64 (quantized weights are not "
                             "supported)");
        if (t.name == "lm_head.weight" && model.config().tie_embeddings) {
            tied_head = &t;
            continue;
        }
        const parameter_info * p = model.find(t.name);
        if (p == nullptr)
            fail_corrupt(source + ": tensor '" + t.name + "' is not a parameter of a Llama model "
                         "of config.json's shape (" + lm::to_json(model.config()).dump() + ")");
        if (t.shape != p->shape)
            fail_corrupt(source + ": tensor '" + t.name + "': expected shape " +
                         json(p->shape).dump() + " (from config.json), got " +
                         json(t.shape).dump());
        const std::vector<float> values = safetensors_to_float32(t, source);
        std::copy(values.begin(), values.end(), model.parameters().begin() + p->offset);
        seen[size_t(p - table.data())] = true;
    }
    for (size_t i = 0; i < seen.size(); ++i)
        if (!seen[i])
            fail_corrupt(source + ": tensor '" + table[i].name + "' is missing" +
                         (table[i].name == "lm_head.weight"
                              ? " (config.json has tie_word_embeddings false)"
                              : ""));
    if (tied_head) {
        const parameter_info & embed = *model.find("model.embed_tokens.weight");
        const std::vector<float> head = safetensors_to_float32(*tied_head, source);
        const auto begin = model.parameters().begin() + embed.offset;
        if (tied_head->shape != embed.shape || !std::equal(head.begin(), head.end(), begin))
            fail_corrupt(source + ": config.json has tie_word_embeddings true, but the file's "
                         "lm_head.weight differs from model.embed_tokens.weight");
    }
}

std::unique_ptr<tokenizer::bpe_tokenizer> load_tokenizer(const fs::path & path, int64_t vocab) {
    const std::string text = read_whole_file(path);
    std::unique_ptr<tokenizer::bpe_tokenizer> tokenizer;
    try {
        tokenizer = tokenizer::load_tokenizer_json(text);
    } catch (const error & e) {
        // A tokenizer of another family stays unsupported; a malformed one
        // is a damaged file.
        const std::string message = path.string() + ": " + e.what();
        if (e.code() == status::unsupported) fail_unsupported(message);
        fail_corrupt(message);
    }
    if (tokenizer->vocab_size() > vocab)
        fail_corrupt(path.string() + ": the tokenizer has ids up to " +
                     std::to_string(tokenizer->vocab_size() - 1) +
                     ", expected ids below config.json's vocab_size " + std::to_string(vocab));
    return tokenizer;
}

}  // namespace

void export_hf_folder(const lm::transformer & model, const tokenizer::bpe_tokenizer * tokenizer,
                      const fs::path & dir_in) {
    if (dir_in.empty()) fail_invalid("export_hf_folder: expected a folder path, got an empty one");
    if (tokenizer && tokenizer->vocab_size() > model.config().vocab)
        fail_invalid("export_hf_folder: the tokenizer has " +
                     std::to_string(tokenizer->vocab_size()) + " ids, expected at most the "
                     "model's vocab (" + std::to_string(model.config().vocab) + ")");
    // "out/" names the folder "out", not an empty name inside it.
    const fs::path dir = dir_in.has_filename() ? dir_in : dir_in.parent_path();
    if (path_exists(dir) && !is_folder(dir))
        fail_invalid("export_hf_folder: '" + dir.string() + "' exists and is not a folder");
    const fs::path parent = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
    std::error_code created;
    fs::create_directories(parent, created);
    if (created) fail_file("creating the folder", parent, created.value());

    const fs::path partial = make_sibling(dir, ".partial-");
    fs::path old;         // where an earlier folder was moved aside
    bool swapped = false;  // the new folder is in place
    try {
        write_files(model, tokenizer, partial);
        sync_directory(partial);
        if (path_exists(dir)) {
            old = make_sibling(dir, ".old-");
            rename_or_fail(dir, old);  // onto an empty folder: allowed by rename(2)
        }
        rename_or_fail(partial, dir);
        swapped = true;
        sync_directory(parent);
    } catch (...) {
        if (!swapped) {
            remove_quietly(partial);
            // The earlier folder back under its name (should that fail too,
            // it stays beside it as <dir>.old-XXXXXX, never deleted).
            if (!old.empty()) ::rename(old.c_str(), dir.c_str());
        } else if (!old.empty()) {
            remove_quietly(old);
        }
        throw;
    }
    if (!old.empty()) remove_quietly(old);
}

hf_folder_contents import_hf_folder(const fs::path & dir, bool read_tokenizer) {
    if (dir.empty()) fail_invalid("import_hf_folder: expected a folder path, got an empty one");
    if (!path_exists(dir)) fail_file("opening the model folder", dir, ENOENT);
    if (!is_folder(dir)) fail_file("opening the model folder", dir, ENOTDIR);
    const fs::path config_path = dir / "config.json";
    const lm::transformer_config config =
        parse_hf_config(read_config(config_path), config_path.string());
    const fs::path weights = weights_path(dir);
    hf_folder_contents contents;
    contents.model = std::make_shared<lm::transformer>(config, 0);
    load_weights(*contents.model, weights);
    if (const fs::path tokenizer = dir / "tokenizer.json"; read_tokenizer && path_exists(tokenizer))
        contents.tokenizer = load_tokenizer(tokenizer, config.vocab);
    return contents;
}

}  // namespace distill
