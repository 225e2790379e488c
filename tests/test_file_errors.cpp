// What each kind of file failure returns through the C ABI, so that a
// program can act on the code: NOT_FOUND (create it, or ask for another
// path), IO_ERROR (permissions, a directory given for a file), CORRUPT_FILE
// (damaged or of another kind: rebuild it), DISK_FULL (free space). A bad
// argument stays INVALID_ARGUMENT. Every message names the path.
#include <doctest/doctest.h>

#include <distill/distill.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "store_test_support.h"
#include "student_test_support.h"
#include "temp_dir.h"

namespace {

std::string last_error() { return distill_last_error_message(); }

void write_text(const std::filesystem::path & path, const std::string & text) {
    std::ofstream(path, std::ios::binary) << text;
}

// distill_store_open's status for `path`; out untouched on failure.
distill_status open_store(const std::string & path, bool read_only) {
    distill_store_options options;
    distill_store_options_init(&options);
    options.read_only = read_only ? 1 : 0;
    distill_store * out = nullptr;
    const distill_status status = distill_store_open(path.c_str(), &options, &out);
    if (status == DISTILL_STATUS_OK) distill_store_free(out);
    CHECK((status == DISTILL_STATUS_OK) == (out != nullptr));
    return status;
}

distill_status load_model(const std::filesystem::path & path) {
    distill_model * out = nullptr;
    const distill_status status = distill_model_load(path.c_str(), &out);
    distill_model_free(out);
    return status;
}

distill_status load_idx(const std::filesystem::path & images,
                        const std::filesystem::path & labels) {
    distill_dataset * out = nullptr;
    const distill_status status = distill_dataset_load_idx(images.c_str(), labels.c_str(), 0, &out);
    distill_dataset_free(out);
    return status;
}

// A valid IDX file of unsigned bytes with `dims` and zeroed data.
std::string idx_bytes(std::initializer_list<uint32_t> dims) {
    std::string bytes = {0, 0, 0x08, char(dims.size())};
    size_t count = 1;
    for (uint32_t d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(char((d >> shift) & 0xff));
        count *= d;
    }
    return bytes + std::string(count, '\0');
}

// chmod 000 does not stop root from reading: those cases need another user.
bool permissions_apply() { return ::geteuid() != 0; }

}  // namespace

TEST_CASE("file errors: a missing file is NOT_FOUND, naming the path and the reason") {
    test::temp_dir dir;
    const std::string missing = dir.file("missing.db").string();
    CHECK(open_store(missing, true) == DISTILL_STATUS_NOT_FOUND);
    CHECK(last_error() ==
          "opening the store for reading '" + missing + "' failed: No such file or directory");
    CHECK_FALSE(std::filesystem::exists(missing));

    // Created on demand, but not in a directory that does not exist.
    const std::string nowhere = dir.file("no/such/dir/run.db").string();
    CHECK(open_store(nowhere, false) == DISTILL_STATUS_NOT_FOUND);
    CHECK(last_error().find("'" + nowhere + "' failed: No such file or directory") !=
          std::string::npos);

    CHECK(load_model(dir.file("absent.safetensors")) == DISTILL_STATUS_NOT_FOUND);
    CHECK(last_error() == "opening '" + dir.file("absent.safetensors").string() +
                              "' failed: No such file or directory");

    CHECK(load_idx(dir.file("images"), dir.file("labels")) == DISTILL_STATUS_NOT_FOUND);
    CHECK(last_error() ==
          "opening '" + dir.file("images").string() + "' failed: No such file or directory");

    distill_dataset * data = nullptr;
    CHECK(distill_dataset_load_fashion_mnist("train", dir.path().c_str(), 0, &data) ==
          DISTILL_STATUS_NOT_FOUND);
    CHECK(data == nullptr);
    CHECK(last_error().find("Fashion-MNIST: expected its four IDX files in " +
                            dir.path().string()) == 0);
}

TEST_CASE("file errors: a missing or incomplete checkpoint") {
    test::temp_dir dir;
    const distill::Context cpu;
    distill::Model model = distill::Model::create(test::small_mlp, 3);
    distill_kd_loss_options loss;
    distill::check(distill_kd_loss_options_init(&loss));
    distill_trainer_options options;
    distill::check(distill_trainer_options_init(&options));
    options.optimizer_json = R"({"kind": "sgd", "lr": 0.1})";
    options.loss = &loss;
    distill::Trainer trainer(cpu, model, options);

    const std::filesystem::path absent = dir.file("no-checkpoint");
    CHECK(distill_trainer_resume(trainer.get(), absent.c_str()) == DISTILL_STATUS_NOT_FOUND);
    CHECK(last_error() ==
          "directory: expected a checkpoint directory, got '" + absent.string() + "' (not found)");

    // A directory without a manifest holds no checkpoint.
    std::filesystem::create_directory(dir.file("empty"));
    CHECK(distill_trainer_resume(trainer.get(), dir.file("empty").c_str()) ==
          DISTILL_STATUS_NOT_FOUND);
    CHECK(last_error().find("expected manifest.json, found none") != std::string::npos);

    // A file where the directory should be.
    write_text(dir.file("plain"), "not a directory");
    CHECK(distill_trainer_resume(trainer.get(), dir.file("plain").c_str()) ==
          DISTILL_STATUS_IO_ERROR);
    CHECK(last_error().find("(not a directory)") != std::string::npos);

    // A saved checkpoint, then damaged: a file changed, then a file gone.
    const std::filesystem::path saved = dir.file("saved");
    CHECK(distill_trainer_save(trainer.get(), saved.c_str()) == DISTILL_STATUS_OK);
    CHECK(distill_trainer_resume(trainer.get(), saved.c_str()) == DISTILL_STATUS_OK);
    write_text(saved / "trainer_state.json", "{}\n");
    CHECK(distill_trainer_resume(trainer.get(), saved.c_str()) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(last_error().find("checkpoint '" + saved.string() +
                            "': trainer_state.json: expected sha256 ") == 0);
    std::filesystem::remove(saved / "optimizer.safetensors");
    CHECK(load_model(saved) == DISTILL_STATUS_CORRUPT_FILE);  // the checkpoint is read whole
    CHECK(distill_trainer_resume(trainer.get(), saved.c_str()) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(last_error() == "checkpoint '" + saved.string() +
                              "': optimizer.safetensors: expected the file listed in "
                              "manifest.json, found none");
}

TEST_CASE("file errors: a directory where a file is expected is IO_ERROR") {
    test::temp_dir dir;
    const std::string path = dir.path().string();
    for (bool read_only : {false, true}) {
        CHECK(open_store(path, read_only) == DISTILL_STATUS_IO_ERROR);
        CHECK(last_error() ==
              "path: expected a distill store file, got '" + path + "', which is a directory");
    }
    write_text(dir.file("labels"), idx_bytes({2}));
    CHECK(load_idx(dir.path(), dir.file("labels")) == DISTILL_STATUS_IO_ERROR);
    CHECK(last_error() == "opening '" + path + "' failed: Is a directory");

    distill::Model model = distill::Model::create(test::small_mlp, 3);
    std::filesystem::create_directory(dir.file("taken"));
    std::filesystem::create_directory(dir.file("taken") / "child");
    CHECK(distill_model_save(model.get(), dir.file("taken").c_str()) == DISTILL_STATUS_IO_ERROR);
    CHECK(last_error().find("' failed: Is a directory") != std::string::npos);
}

TEST_CASE("file errors: damaged files and files of another kind are CORRUPT_FILE") {
    test::temp_dir dir;
    // A text file given as a store.
    const std::string notes = dir.file("notes.txt").string();
    write_text(notes, "these are my notes, not a database\n");
    for (bool read_only : {false, true}) {
        CHECK(open_store(notes, read_only) == DISTILL_STATUS_CORRUPT_FILE);
        CHECK(last_error() == "path: expected a distill store, got '" + notes +
                                  "', which is not an intact SQLite database (file is not a "
                                  "database)");
    }

    // A truncated safetensors file.
    distill::Model model = distill::Model::create(test::small_mlp, 3);
    const auto weights = dir.file("model.safetensors");
    model.save(weights.string());
    CHECK(load_model(weights) == DISTILL_STATUS_OK);
    std::filesystem::resize_file(weights, std::filesystem::file_size(weights) - 5);
    CHECK(load_model(weights) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(last_error().find("safetensors file '" + weights.string() + "': ") == 0);
    std::filesystem::resize_file(weights, 3);
    CHECK(load_model(weights) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(last_error() == "safetensors file '" + weights.string() +
                              "': expected at least 8 bytes (the header size), got 3 bytes");

    // A truncated IDX file, and one that is not IDX at all.
    std::string images = idx_bytes({2, 3, 3});
    images.resize(images.size() - 4);
    write_text(dir.file("images"), images);
    write_text(dir.file("labels"), idx_bytes({2}));
    CHECK(load_idx(dir.file("images"), dir.file("labels")) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(last_error().find(dir.file("images").string() + ": truncated IDX file") == 0);
    write_text(dir.file("images"), "PK\x03\x04 a zip archive");
    CHECK(load_idx(dir.file("images"), dir.file("labels")) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(last_error().find(": not an IDX file") != std::string::npos);

    // Intact files that do not fit together are a bad argument, not damage.
    write_text(dir.file("images"), idx_bytes({2, 3, 3}));
    write_text(dir.file("labels"), idx_bytes({3}));
    CHECK(load_idx(dir.file("images"), dir.file("labels")) == DISTILL_STATUS_INVALID_ARGUMENT);
}

TEST_CASE("file errors: a full disk is DISK_FULL (/dev/full)") {
    if (!std::filesystem::exists("/dev/full")) {
        MESSAGE("skipped: no /dev/full on this system");
        return;
    }
    test::temp_dir dir;
    distill::Store store(dir.file("run.db").string());
    store.put(store_test::make_record(store_test::key_of(1), 1, 4, 2));
    CHECK(distill_store_export_jsonl(store.get(), "/dev/full") == DISTILL_STATUS_DISK_FULL);
    CHECK(last_error() == "writing '/dev/full' failed: No space left on device");

    distill::Model model = distill::Model::create(test::small_mlp, 3);
    CHECK(distill_model_save(model.get(), "/dev/full") == DISTILL_STATUS_DISK_FULL);
    CHECK(last_error() == "writing '/dev/full' failed: No space left on device");
    // Written in place: the device is still a device, not a file renamed over it.
    CHECK(std::filesystem::is_character_file("/dev/full"));
}

TEST_CASE("file errors: an unreadable file is IO_ERROR") {
    if (!permissions_apply()) {
        MESSAGE("skipped: running as root, where chmod 000 does not stop reads");
        return;
    }
    test::temp_dir dir;
    const std::string store_path = dir.file("run.db").string();
    { distill::Store store(store_path); }
    const auto weights = dir.file("model.safetensors");
    distill::Model::create(test::small_mlp, 3).save(weights.string());
    for (const std::filesystem::path & p : {std::filesystem::path(store_path), weights})
        REQUIRE(::chmod(p.c_str(), 0) == 0);
    CHECK(open_store(store_path, true) == DISTILL_STATUS_IO_ERROR);
    CHECK(last_error() ==
          "opening the store for reading '" + store_path + "' failed: Permission denied");
    CHECK(load_model(weights) == DISTILL_STATUS_IO_ERROR);
    CHECK(last_error() == "opening '" + weights.string() + "' failed: Permission denied");
    // Readable but not writable: opening it to write says so at once.
    REQUIRE(::chmod(store_path.c_str(), 0444) == 0);
    CHECK(open_store(store_path, true) == DISTILL_STATUS_OK);
    CHECK(open_store(store_path, false) == DISTILL_STATUS_IO_ERROR);
    CHECK(last_error() ==
          "opening the store for writing '" + store_path + "' failed: Permission denied");
}

TEST_CASE("file errors: a bad argument stays INVALID_ARGUMENT") {
    distill_store * store = nullptr;
    CHECK(distill_store_open(nullptr, nullptr, &store) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error() == "path: expected the store's file name, got NULL");
    distill_model * model = nullptr;
    CHECK(distill_model_load(nullptr, &model) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_status_name(DISTILL_STATUS_NOT_FOUND)) == "NOT_FOUND");
    CHECK(std::string(distill_status_name(DISTILL_STATUS_IO_ERROR)) == "IO_ERROR");
    CHECK(std::string(distill_status_name(DISTILL_STATUS_CORRUPT_FILE)) == "CORRUPT_FILE");
    CHECK(std::string(distill_status_name(DISTILL_STATUS_DISK_FULL)) == "DISK_FULL");
}
