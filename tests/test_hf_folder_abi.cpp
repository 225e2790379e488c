// distill_hf_folder_export / _import through the C ABI: the refusals of
// their arguments and of missing files, with their status and a message
// naming what was wrong. (The conversion itself: tests/core/test_hf_folder*.cpp
// and the CLI suite "cli hf".)
#include <distill/distill.h>

#include <doctest/doctest.h>

#include <string>

#include "temp_dir.h"

TEST_CASE("hf folder ABI: NULL or empty paths and missing files are refused") {
    test::temp_dir tmp("distill-hf-abi");
    const std::string dir = tmp.file("hf").string();
    const std::string model = tmp.file("model.safetensors").string();
    const auto message = [] { return std::string(distill_last_error_message()); };

    CHECK(distill_hf_folder_export(nullptr, nullptr, dir.c_str()) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("model_path") != std::string::npos);
    CHECK(distill_hf_folder_export(model.c_str(), nullptr, "") == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("dir") != std::string::npos);
    CHECK(distill_hf_folder_export(model.c_str(), nullptr, dir.c_str()) == DISTILL_STATUS_NOT_FOUND);
    CHECK(message().find("model.safetensors") != std::string::npos);

    CHECK(distill_hf_folder_import(dir.c_str(), nullptr, nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("model_path") != std::string::npos);
    CHECK(distill_hf_folder_import(nullptr, model.c_str(), nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_hf_folder_import(dir.c_str(), model.c_str(), "") == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("tokenizer_path") != std::string::npos);
    CHECK(distill_hf_folder_import(dir.c_str(), model.c_str(), nullptr) == DISTILL_STATUS_NOT_FOUND);
    CHECK(message().find("hf") != std::string::npos);
}
