// `distill train`, `predict`, `eval` and `demo` end to end: training offline
// from a store of teacher answers, and every argument refused before work.
#include "cli_runner.h"

#include <distill/distill.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

using cli_test::Result;
using cli_test::run;
using cli_test::write;
using cli_test::write_idx;

namespace {

// `rows` random 4x4 images with labels i % 3, as IDX files in `dir`; the
// --data argument that names them ("idx:IMAGES,LABELS").
std::string random_idx_data(const std::filesystem::path & dir, int rows, unsigned seed) {
    constexpr int side = 4;
    std::mt19937 random(seed);
    std::vector<uint8_t> pixels(static_cast<size_t>(rows * side * side)),
        labels(static_cast<size_t>(rows));
    for (uint8_t & p : pixels) p = uint8_t(random());
    for (int i = 0; i < rows; ++i) labels[size_t(i)] = uint8_t(i % 3);
    const auto images_path = dir / "images.idx", labels_path = dir / "labels.idx";
    write_idx(images_path, {rows, side, side}, pixels);
    write_idx(labels_path, {rows}, labels);
    return "idx:" + images_path.string() + "," + labels_path.string();
}

}  // namespace

TEST_SUITE_BEGIN("cli train");

// distill train --teacher-store: a run that asked a teacher through a store,
// then runs that read its answers offline, the teacher file gone.
TEST_CASE("train --teacher-store trains offline, the teacher gone") {
    const auto dir = cli_test::scratch("train-offline");
    const std::string data = random_idx_data(dir, 64, 7);
    const auto teacher_path = dir / "teacher.safetensors";
    distill::Model::create(R"({"kind": "mlp", "inputs": 16, "hidden": [8], "outputs": 3})", 3)
        .save(teacher_path.string());
    const auto answers = dir / "answers.db";
    const std::string student =
        "train --config '{\"kind\": \"mlp\", \"inputs\": 16, \"outputs\": 3}' --epochs 2 "
        "--json --data '";

    // Asks about the first 48 examples only, storing the answers.
    Result r = run(student + data + ":48' --teacher '" + teacher_path.string() + "' --store '" +
                   answers.string() + "'");
    CHECK_MESSAGE((r.code == 0), ("train --teacher --store exits 0"));
    std::filesystem::remove(teacher_path);

    r = run(student + data + ":48' --teacher-store '" + answers.string() + "'");
    CHECK_MESSAGE((r.code == 0), ("train --teacher-store exits 0 without the teacher: " + r.err));
    try {
        CHECK_MESSAGE((nlohmann::json::parse(r.out).at("steps").get<int>() > 0),
                      ("train --teacher-store trains: " + r.out));
    } catch (const std::exception & e) {
        FAIL_CHECK((std::string("train --teacher-store --json prints JSON: ") + e.what()));
    }
    r = run(student + data + ":48' --teacher-store '" + answers.string() + "' --validation '" +
            data + "'");
    CHECK_MESSAGE(
        (r.code == 0 && r.err.find("--validation has no teacher targets") != std::string::npos &&
         r.err.find("for 48 of these 64 examples") != std::string::npos),
        ("a validation set without stored answers trains on, saying so: " + r.err));

    r = run(student + data + "' --teacher-store '" + answers.string() + "'");
    CHECK_MESSAGE(
        (r.code == 1 && r.err.find("found answers from teacher") != std::string::npos &&
         r.err.find("for 48 of these 64 examples; 16 are missing, the first is example 48") !=
             std::string::npos),
        ("missing answers exit 1 with the counts: " + r.err));
    r = run(student + data + ":48' --teacher-store '" + answers.string() +
            "' --teacher-identity '{\"kind\": \"model\", \"name\": \"other\"}'");
    CHECK_MESSAGE(
        (r.code == 1 &&
         r.err.find("--teacher-store: --teacher-identity: store '") != std::string::npos &&
         r.err.find("it answers them from: {\"kind\":\"model\"") != std::string::npos),
        ("an unknown --teacher-identity exits 1 naming the stored one: " + r.err));
    r = run(student + data + ":48' --teacher-store '" + answers.string() +
            "' --teacher-parameters '{\"temperature\": 1.0, \"top_k\": 0}'");
    CHECK_MESSAGE((r.code == 0), ("--teacher-parameters as stored exits 0: " + r.err));

    // Usage: --teacher-store replaces --teacher; the identity needs a store.
    r = run(student + data + "' --teacher-store x.db --teacher y");
    CHECK_MESSAGE((r.code == 2), ("--teacher-store with --teacher exits 2"));
    r = run(student + data + "' --teacher-identity '{}'");
    CHECK_MESSAGE((r.code == 2), ("--teacher-identity without --teacher-store exits 2"));
    // --device: a bad name is refused naming the option; cuda without a GPU
    // (or without the CUDA backend) is a clear failure, never a crash.
    r = run(student + data + ":48' --teacher-store '" + answers.string() + "' --device tpu");
    CHECK_MESSAGE(
        (r.code == 1 && r.err.find("--device: expected cpu, cuda or cuda:N") != std::string::npos),
        ("--device tpu exits 1 naming --device: " + r.err));
    r = run(student + data + ":48' --teacher-store '" + answers.string() + "' --device cpu");
    CHECK_MESSAGE((r.code == 0), ("--device cpu trains: " + r.err));
    int32_t gpus = 0;
    distill::check(distill_cuda_device_count(&gpus));
    if (gpus == 0) {
        r = run(student + data + ":48' --teacher-store '" + answers.string() + "' --device cuda");
        CHECK_MESSAGE((r.code == 1 && r.err.find("distill train: ") != std::string::npos),
                      ("--device cuda without a GPU exits 1 with a message: " + r.err));
    }
    r = run("train --help");
    CHECK_MESSAGE((r.code == 0 && r.out.find("--device") != std::string::npos &&
                   r.out.find("--teacher-store") != std::string::npos &&
                   r.out.find("--teacher-identity") != std::string::npos),
                  ("train --help shows --teacher-store and --teacher-identity"));
}

// Work thrown away or silently changed: every argument is checked before
// any work, a checkpoint of another run is refused saying what differs, and
// NaN weights are an error for predict as for eval.
TEST_CASE("bad arguments and foreign checkpoints are refused up front") {
    const auto dir = cli_test::scratch("refused-up-front");
    const std::string data = random_idx_data(dir, 48, 11);
    const std::string config = "'{\"kind\": \"mlp\", \"inputs\": 16, \"outputs\": 3}'";
    const std::string train = "train --config " + config + " --data '" + data + "' ";

    // --out in a missing directory: refused before the first epoch.
    Result r = run(train + "--epochs 3 --out /nonexistent-dir/x.safetensors");
    CHECK_MESSAGE((r.code == 1 &&
                   r.err.find("--out: cannot write '/nonexistent-dir/x.safetensors': expected its "
                              "directory '/nonexistent-dir' to exist") != std::string::npos &&
                   r.err.find("epoch 1/") == std::string::npos),
                  ("train --out in a missing directory is refused before training: " + r.err));
    r = run(train + "--out '" + dir.string() + "'");
    CHECK_MESSAGE(
        (r.code == 1 && r.err.find("expected a file path; it is a directory") != std::string::npos),
        ("train --out naming a directory is refused: " + r.err));

    // A bad loss with --teacher: refused before the teacher is asked (no store made).
    const auto teacher_path = dir / "up-front-teacher.safetensors";
    distill::Model::create(R"({"kind": "mlp", "inputs": 16, "hidden": [8], "outputs": 3})", 3)
        .save(teacher_path.string());
    const auto never = dir / "never.db";
    r = run(train + "--teacher '" + teacher_path.string() + "' --store '" + never.string() +
            "' --temperature 0");
    CHECK_MESSAGE(
        (r.code == 1 &&
         r.err.find("--temperature: expected a finite value > 0, got 0") != std::string::npos &&
         r.err.find("asking the teacher") == std::string::npos && !std::filesystem::exists(never)),
        ("--temperature 0 is refused before the teacher is asked: " + r.err));

    // A checkpoint of another loss, other data or another config is refused.
    const auto answers = dir / "up-front-answers.db";
    const auto checkpoint = dir / "up-front-run";
    const std::string distil = "--teacher '" + teacher_path.string() + "' --store '" +
                               answers.string() + "' --checkpoint '" + checkpoint.string() + "' ";
    r = run(train + distil + "--epochs 1 --temperature 2");
    CHECK_MESSAGE((r.code == 0), ("a checkpointed run exits 0: " + r.err));
    r = run(train + distil + "--epochs 2 --temperature 3");
    CHECK_MESSAGE((r.code == 1 &&
                   r.err.find("it was made with other loss options (loss.temperature = 2.0 there, "
                              "3.0 here)") != std::string::npos),
                  ("a checkpoint of another temperature is refused, saying so: " + r.err));
    r = run("train --config " + config + " --data '" + data + ":40' " + distil +
            "--epochs 2 --temperature 2");
    CHECK_MESSAGE(
        (r.code == 1 && r.err.find("it was made with other training data (") != std::string::npos &&
         r.err.find("rows = 48 there, 40 here") != std::string::npos),
        ("a checkpoint of other data is refused, saying so: " + r.err));
    r =
        run("train --config '{\"kind\": \"mlp\", \"inputs\": 16, \"hidden\": [4], "
            "\"outputs\": 3}' --data '" +
            data + "' " + distil + "--epochs 2 --temperature 2");
    CHECK_MESSAGE((r.code == 1 && r.err.find("--checkpoint: '" + checkpoint.string() +
                                             "' holds a model of config") != std::string::npos),
                  ("a checkpoint of another config is refused, saying so: " + r.err));
    r = run(train + distil + "--epochs 2 --temperature 2");
    CHECK_MESSAGE((r.code == 0 && r.err.find("resuming from") != std::string::npos),
                  ("the same run resumes: " + r.err));

    // NaN weights: predict refuses them as eval does.
    distill::Model spoiled =
        distill::Model::create(R"({"kind": "mlp", "inputs": 16, "hidden": [8], "outputs": 3})", 4);
    static_cast<float *>(spoiled.parameter(0).data)[0] = std::nanf("");
    const auto spoiled_path = dir / "spoiled.safetensors";
    spoiled.save(spoiled_path.string());
    for (const char * verb : {"predict", "eval"}) {
        r = run(std::string(verb) + " --model '" + spoiled_path.string() + "' --data '" + data +
                "'");
        CHECK_MESSAGE(
            (r.code == 1 &&
             r.err.find("outputs: expected finite values, got nan at row 0, output 0 (the "
                        "model's weight 'layers.0.weight' holds nan at element 0)") !=
                 std::string::npos &&
             r.out.empty()),
            (std::string(verb) + " refuses a model with NaN weights: " + r.err));
    }

    // Help: each verb's own words.
    r = run("predict --help");
    CHECK_MESSAGE((r.code == 0 && r.out.find("Where the model predicts") != std::string::npos &&
                   r.out.find("evaluation stays") == std::string::npos &&
                   r.out.find("CPU threads") != std::string::npos),
                  ("predict --help describes its own --device and --threads: " + r.out));
    r = run("eval --help");
    CHECK_MESSAGE((r.code == 0 && r.out.find("CPU threads") != std::string::npos),
                  ("eval --help describes --threads: " + r.out));
    r = run("train --help");
    CHECK_MESSAGE(
        (r.code == 0 && r.out.find("Seed of the student's initialisation") != std::string::npos),
        ("train --help describes --seed: " + r.out));

    // distill demo: a file as --out, or too many --labels, refused before any work.
    const auto file = dir / "a-file";
    write(file, "x");
    const auto demo_cache = dir / "demo-cache-never";
    r = run("demo --quick --out '" + file.string() + "' --cache-dir '" + demo_cache.string() + "'");
    CHECK_MESSAGE((r.code == 1 &&
                   r.err.find("--out: cannot write '" + file.string() +
                              "': expected a directory; it is a file") != std::string::npos &&
                   !std::filesystem::exists(demo_cache)),
                  ("demo --out on a file is refused up front: " + r.err));
    r = run("demo --quick --labels 5000 --cache-dir '" + demo_cache.string() + "'");
    CHECK_MESSAGE((r.code == 1 &&
                   r.err.find("--labels: expected at most 3500 with --quick (half of the 7000 "
                              "training images outside the validation split), got 5000") !=
                       std::string::npos &&
                   !std::filesystem::exists(demo_cache)),
                  ("demo --quick --labels 5000 is refused up front: " + r.err));
}

TEST_SUITE_END();
