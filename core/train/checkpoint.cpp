#include "train/checkpoint.h"

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/file_error.h"
#include "common/sha256.h"

#include <system_error>

namespace distill {
namespace {

constexpr const char * model_file = "model.safetensors";
constexpr const char * optimizer_file = "optimizer.safetensors";
constexpr const char * trainer_state_file = "trainer_state.json";
constexpr const char * best_model_file = "best_model.safetensors";
constexpr const char * manifest_file = "manifest.json";

// JSON text, refusing strings that are not UTF-8 (JSON cannot hold them).
std::string dump_json(const nlohmann::json & value, int indent, const char * what) {
    try {
        return value.dump(indent);
    } catch (const nlohmann::json::exception & e) {
        fail_invalid(std::string(what) + ": expected JSON with UTF-8 strings, got " + e.what());
    }
}

std::string serialize_tensors(std::span<const checkpoint_tensor_view> tensors,
                              const std::string & metadata_key, const nlohmann::json & value,
                              const char * what) {
    std::vector<safetensors_tensor> entries;
    entries.reserve(tensors.size());
    for (const checkpoint_tensor_view & tensor : tensors) {
        const uint64_t count = safetensors_element_count(
            tensor.shape, std::string(what) + " tensor '" + tensor.name + "'");
        if (count != tensor.values.size())
            fail_invalid(std::string(what) + " tensor '" + tensor.name + "': expected " +
                         std::to_string(count) + " values for its shape, got " +
                         std::to_string(tensor.values.size()));
        entries.push_back(
            {tensor.name, safetensors_dtype::F32, tensor.shape, std::as_bytes(tensor.values)});
    }
    return serialize_safetensors(
        entries, {{"format", checkpoint_format}, {metadata_key, dump_json(value, -1, what)}});
}

std::vector<checkpoint_tensor_view> views_of(const std::vector<checkpoint_tensor> & tensors) {
    std::vector<checkpoint_tensor_view> views;
    views.reserve(tensors.size());
    for (const checkpoint_tensor & tensor : tensors)
        views.push_back({tensor.name, tensor.shape, tensor.values});
    return views;
}

std::string file_error_prefix(const std::filesystem::path & directory, const char * file) {
    return "checkpoint '" + directory.string() + "': " + file;
}

// Reads `file` and checks it against its manifest entry.
std::string read_checked(const std::filesystem::path & directory, const nlohmann::json & files,
                         const char * file) {
    const std::string where = file_error_prefix(directory, file);
    if (!files.contains(file) || !files[file].is_object() || !files[file].contains("sha256") ||
        !files[file]["sha256"].is_string())
        fail_corrupt(where + ": expected an entry with a sha256 in manifest.json, found none");
    // A file the manifest lists is part of the checkpoint: without it the
    // checkpoint is damaged (corrupt_file), not absent.
    std::error_code ignored;
    if (!std::filesystem::exists(directory / file, ignored))
        fail_corrupt(where + ": expected the file listed in manifest.json, found none");
    std::string bytes = read_whole_file(directory / file);
    const std::string expected = files[file]["sha256"].get<std::string>();
    const std::string actual = sha256_hex(bytes);
    if (actual != expected)
        fail_corrupt(where + ": expected sha256 " + expected + " (manifest.json), got " + actual +
                     " (" + std::to_string(bytes.size()) +
                     " bytes): the file was changed or the save was interrupted");
    return bytes;
}

nlohmann::json parse_json(const std::string & text, const std::string & where) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception & e) {
        fail_corrupt(where + ": expected JSON, got invalid JSON (" + e.what() + ")");
    }
}

// The JSON held as a string under `key` of a checkpoint file's metadata.
nlohmann::json metadata_json(const safetensors_file & file, const std::string & key,
                             const std::string & where) {
    const auto format = file.metadata().find("format");
    if (format == file.metadata().end() || format->second != checkpoint_format)
        fail_corrupt(where + ": expected metadata format '" + std::string(checkpoint_format) +
                     "', got " +
                     (format == file.metadata().end() ? "none" : "'" + format->second + "'"));
    const auto value = file.metadata().find(key);
    if (value == file.metadata().end())
        fail_corrupt(where + ": expected a '" + key + "' entry in the metadata, found none");
    return parse_json(value->second, where + " metadata '" + key + "'");
}

std::vector<checkpoint_tensor> float32_tensors(const safetensors_file & file, bool only_f32) {
    std::vector<checkpoint_tensor> tensors;
    tensors.reserve(file.tensors().size());
    for (const safetensors_tensor & tensor : file.tensors()) {
        if (only_f32 && tensor.dtype != safetensors_dtype::F32)
            fail_corrupt("'" + file.source() + "': tensor '" + tensor.name +
                         "': expected dtype F32 in a checkpoint, got " +
                         std::string(safetensors_dtype_name(tensor.dtype)));
        tensors.push_back(
            {tensor.name, tensor.shape, safetensors_to_float32(tensor, file.source())});
    }
    return tensors;
}

}  // namespace

void save_checkpoint(const std::filesystem::path & directory, const checkpoint_views & views) {
    std::error_code error_code;
    std::filesystem::create_directories(directory, error_code);
    if (error_code) fail_file("creating the checkpoint directory", directory, error_code.value());
    // Serialise everything first: a bad tensor is refused before any file
    // of an earlier checkpoint is touched.
    const std::string model =
        serialize_tensors(views.model_tensors, "config", views.model_config, "model");
    const std::string optimizer =
        serialize_tensors(views.optimizer_tensors, "optimizer", views.optimizer, "optimizer");
    const std::string trainer_state = dump_json(views.trainer_state, 2, "trainer_state") + "\n";
    const bool has_best = !views.best_model_tensors.empty();
    const std::string best_model =
        has_best ? serialize_tensors(views.best_model_tensors, "config", views.model_config,
                                     "best model")
                 : std::string();

    std::filesystem::remove(directory / manifest_file, error_code);
    if (error_code)
        fail_file("removing the old manifest of", directory / manifest_file, error_code.value());

    nlohmann::json files = nlohmann::json::object();
    for (const auto & [name, bytes] :
         {std::pair{model_file, &model}, std::pair{optimizer_file, &optimizer},
          std::pair{trainer_state_file, &trainer_state}}) {
        write_file_atomically(directory / name, *bytes);
        files[name] = {{"sha256", sha256_hex(*bytes)}, {"bytes", bytes->size()}};
    }
    if (has_best) {
        write_file_atomically(directory / best_model_file, best_model);
        files[best_model_file] = {{"sha256", sha256_hex(best_model)},
                                  {"bytes", best_model.size()}};
    } else {
        // An earlier save's best weights are not this checkpoint's.
        std::filesystem::remove(directory / best_model_file, error_code);
    }
    const nlohmann::json manifest = {{"format", checkpoint_format}, {"files", files}};
    write_file_atomically(directory / manifest_file, manifest.dump(2) + "\n");
}

void save_checkpoint(const std::filesystem::path & directory,
                     const checkpoint_contents & contents) {
    save_checkpoint(directory,
                    checkpoint_views{contents.model_config, views_of(contents.model_tensors),
                                     contents.optimizer, views_of(contents.optimizer_tensors),
                                     contents.trainer_state,
                                     views_of(contents.best_model_tensors)});
}

checkpoint_contents load_checkpoint(const std::filesystem::path & directory) {
    std::error_code ignored;
    if (!std::filesystem::is_directory(directory, ignored)) {
        const bool exists = std::filesystem::exists(directory, ignored);
        throw error(exists ? status::io_error : status::not_found,
                    "directory: expected a checkpoint directory, got '" + directory.string() +
                        "' (" + (exists ? "not a directory" : "not found") + ")");
    }
    if (!std::filesystem::exists(directory / manifest_file, ignored))
        throw error(status::not_found,
                    "checkpoint '" + directory.string() +
                        "': expected manifest.json, found none (not a checkpoint, or its save "
                        "did not finish)");
    const std::string manifest_where = file_error_prefix(directory, manifest_file);
    const nlohmann::json manifest =
        parse_json(read_whole_file(directory / manifest_file), manifest_where);
    if (!manifest.is_object() || !manifest.contains("format") ||
        manifest["format"] != checkpoint_format || !manifest.contains("files") ||
        !manifest["files"].is_object())
        fail_corrupt(manifest_where + ": expected {\"format\": \"" +
                     std::string(checkpoint_format) + "\", \"files\": {...}}, got " +
                     manifest.dump().substr(0, 200));
    const nlohmann::json & files = manifest["files"];

    checkpoint_contents contents;
    {
        const safetensors_file model = safetensors_file::from_bytes(
            read_checked(directory, files, model_file), (directory / model_file).string());
        contents.model_config =
            metadata_json(model, "config", file_error_prefix(directory, model_file));
        contents.model_tensors = float32_tensors(model, true);
    }
    {
        const safetensors_file optimizer = safetensors_file::from_bytes(
            read_checked(directory, files, optimizer_file), (directory / optimizer_file).string());
        contents.optimizer =
            metadata_json(optimizer, "optimizer", file_error_prefix(directory, optimizer_file));
        contents.optimizer_tensors = float32_tensors(optimizer, true);
    }
    contents.trainer_state = parse_json(read_checked(directory, files, trainer_state_file),
                                        file_error_prefix(directory, trainer_state_file));
    if (files.contains(best_model_file)) {
        const safetensors_file best = safetensors_file::from_bytes(
            read_checked(directory, files, best_model_file),
            (directory / best_model_file).string());
        const nlohmann::json config =
            metadata_json(best, "config", file_error_prefix(directory, best_model_file));
        if (config != contents.model_config)
            fail_corrupt(file_error_prefix(directory, best_model_file) +
                         ": expected the model config of model.safetensors, got " +
                         config.dump().substr(0, 200));
        contents.best_model_tensors = float32_tensors(best, true);
    }
    return contents;
}

model_weights load_model_safetensors(const std::filesystem::path & path) {
    const safetensors_file file = safetensors_file::read(path);
    model_weights weights;
    const auto config = file.metadata().find("config");
    if (config != file.metadata().end())
        weights.config = parse_json(config->second, path.string() + " metadata 'config'");
    weights.tensors = float32_tensors(file, false);
    return weights;
}

}  // namespace distill
