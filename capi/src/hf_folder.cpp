// distill_hf_folder_*: core/train/hf_folder.h over the C ABI, file to file
// (a transformer model file of core/train/transformer_file.h on our side),
// so that no front end needs a transformer handle to convert.
#include <cerrno>
#include <string>

#include "api_guard.h"
#include "common/file_error.h"
#include "text/tokenizer_json.h"
#include "train/hf_folder.h"
#include "train/transformer_file.h"

using distill::capi::guarded;
using distill::capi::require_pointer;

namespace {

void require_path(const char * path, const char * name, const char * what) {
    require_pointer(path, name, what);
    if (*path == '\0') distill::fail_invalid(std::string(name) + ": expected " + what + ", got \"\"");
}

}  // namespace

extern "C" {

distill_status distill_hf_folder_export(const char * model_path, const char * tokenizer_path,
                                        const char * dir) {
    return guarded([&] {
        require_path(model_path, "model_path", "a transformer model file");
        require_path(dir, "dir", "the folder to write");
        const auto model = distill::load_transformer_weights(model_path);
        std::unique_ptr<distill::tokenizer::bpe_tokenizer> tokenizer;
        if (tokenizer_path != nullptr) {
            require_path(tokenizer_path, "tokenizer_path", "a tokenizer.json file, or NULL");
            tokenizer = distill::tokenizer::load_tokenizer_file(tokenizer_path);
        }
        distill::export_hf_folder(*model, tokenizer.get(), dir);
    });
}

distill_status distill_hf_folder_import(const char * dir, const char * model_path,
                                        const char * tokenizer_path) {
    return guarded([&] {
        require_path(dir, "dir", "a Hugging Face model folder");
        require_path(model_path, "model_path", "the model file to write");
        if (tokenizer_path != nullptr)
            require_path(tokenizer_path, "tokenizer_path", "the tokenizer.json to write, or NULL");
        const distill::hf_folder_contents contents = distill::import_hf_folder(dir, tokenizer_path != nullptr);
        if (tokenizer_path != nullptr && contents.tokenizer == nullptr)
            distill::fail_file("reading the tokenizer of", std::string(dir) + "/tokenizer.json",
                               ENOENT);
        distill::save_transformer_weights(model_path, *contents.model);
        if (tokenizer_path != nullptr)
            distill::tokenizer::save_tokenizer_file(*contents.tokenizer, tokenizer_path);
    });
}

}  // extern "C"
