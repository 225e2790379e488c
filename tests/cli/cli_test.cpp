// End-to-end test of the `distill` binary: argv[1] = its path, argv[2] = a
// scratch directory. Prints "N passed, M failed"; non-zero on failure.
#include "http_test_server.h"

#include <distill/distill.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

int passed = 0, failed = 0;

void expect(bool ok, const std::string & what) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::cerr << "FAILED: " << what << "\n";
    }
}

struct Result {
    int code = -1;
    std::string out, err;
};

std::string slurp(const std::filesystem::path & path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::filesystem::path dir;
std::string binary;

// Runs `distill <args>` through the shell, stdout and stderr to files;
// `env` ("NAME=value ...") goes before the command. A run that does not end
// within a minute is killed (exit 124): a hang fails its test, not the suite.
Result run(const std::string & args, const std::string & env = "") {
    const auto out = dir / "stdout.txt", err = dir / "stderr.txt";
    const std::string command = env + " timeout 60 '" + binary + "' " + args + " >'" +
                                out.string() + "' 2>'" + err.string() + "'";
    const int status = std::system(command.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    std::cerr << "$ distill " << args << "  -> " << r.code << "\n" << r.err;
    return r;
}

void write(const std::filesystem::path & path, const std::string & text) {
    std::ofstream(path) << text;
}

// An IDX file: magic (type ubyte, `dims` dimensions), sizes big-endian, bytes.
void write_idx(const std::filesystem::path & path, std::vector<int32_t> sizes,
               const std::vector<uint8_t> & bytes) {
    std::ofstream out(path, std::ios::binary);
    const auto be32 = [&](uint32_t v) {
        const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
        out.write(b, 4);
    };
    be32(0x0800u | uint32_t(sizes.size()));
    for (int32_t size : sizes) be32(uint32_t(size));
    out.write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
}

// A key that occurs inside "[redacted]" (e) or in our own words (x): the
// failed request's message comes out whole and the command returns.
void check_short_keys() {
    const auto one = dir / "one.jsonl";
    write(one, "{\"prompt\": \"hi\"}\n");
    const std::string url = "http://127.0.0.1:" + std::to_string(http_test::closed_port()) + "/v1";
    for (const char * key : {"e", "x", "EMPTY"}) {
        const Result r =
            run("query --teacher " + url + " --model m --prompts '" + one.string() + "' --store '" +
                    (dir / "k.db").string() + "' --api-key-env K --max-retries 0",
                std::string("K=") + key);
        expect(
            r.code == 1 &&
                r.err.find("connection to " + url + "/completions failed") != std::string::npos &&
                r.err.find("max_retries = 0") != std::string::npos,
            std::string("K=") + key +
                ": a refused connection returns, its message whole: " + r.err);
    }
}

// A prompt too long for the server's context fails alone: the others are
// collected and the rerun asks only it.
void check_one_rejected_prompt() {
    http_test::server server;
    std::atomic<bool> reject{true};
    server.http.Post("/v1/completions", [&](const httplib::Request & q, httplib::Response & r) {
        if (reject && q.body.find("long prompt") != std::string::npos) {
            r.status = 400;
            r.set_content(R"({"error": {"message": "maximum context length is 8 tokens",
                "type": "invalid_request_error", "code": "context_length_exceeded"}})",
                          "application/json");
            return;
        }
        r.set_content(R"({"id": "c", "choices": [{"text": "ok"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1}})",
                      "application/json");
    });
    server.start();
    const auto prompts = dir / "one_long.jsonl";
    std::string text;
    for (int i = 0; i < 6; ++i)
        text += std::string("{\"prompt\": \"") +
                (i == 1 ? "long prompt" : "p" + std::to_string(i)) + "\"}\n";
    write(prompts, text);
    const std::string query = "query --teacher " + server.url() + " --model m --prompts '" +
                              prompts.string() + "' --store '" + (dir / "long.db").string() +
                              "' --concurrency 1 --json";
    Result r = run(query);
    try {
        const auto j = nlohmann::json::parse(r.out);
        expect(r.code == 1 && j.at("asked") == 6 && j.at("succeeded") == 5 && j.at("failed") == 1 &&
                   r.err.find(":2 failed: HTTP 400") != std::string::npos &&
                   r.err.find("context_length_exceeded") != std::string::npos,
               "one prompt too long: the others are collected, it is named: " + r.out + r.err);
    } catch (const std::exception & e) {
        expect(false, std::string("one prompt too long: the summary is JSON: ") + e.what());
    }
    reject = false;
    r = run(query);
    expect(r.code == 0 && server.requests.load() == 7,
           "the rerun asks only the failed prompt: " + std::to_string(server.requests.load()));
    r = run("query --help");
    expect(r.out.find("--keep-going") != std::string::npos, "query --help shows --keep-going");
}

// Every field of a prompt line reaches the server and is part of the key;
// the command line's options are defaults a line overrides.
void check_request_fields() {
    http_test::server server;
    std::mutex mutex;
    std::vector<nlohmann::json> bodies;
    const auto answer = [&](const httplib::Request & q, httplib::Response & r) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            bodies.push_back(nlohmann::json::parse(q.body));
        }
        r.set_content(R"({"id": "c", "choices": [{"text": "ok", "message": {"content": "ok"}}]})",
                      "application/json");
    };
    server.http.Post("/v1/completions", answer);
    server.http.Post("/v1/chat/completions", answer);
    server.start();
    const nlohmann::json fields = {{"max_tokens", 2},
                                   {"temperature", 0},
                                   {"top_p", 0.5},
                                   {"seed", 7},
                                   {"stop", {"\n", "END"}},
                                   {"logprobs", 3},
                                   {"n", 1},
                                   {"presence_penalty", 0.25},
                                   {"frequency_penalty", -0.5},
                                   {"echo", true},
                                   {"top_k", 40},
                                   {"logit_bias", {{"50256", -100}}},
                                   {"user", "distill-test"}};
    nlohmann::json line = fields;
    line["prompt"] = "fields";
    nlohmann::json chat = {{"messages", {{{"role", "user"}, {"content", "fields"}}}},
                           {"top_logprobs", 4},
                           {"seed", 9}};
    const auto prompts = dir / "fields.jsonl";
    write(prompts, line.dump() + "\n" + chat.dump() + "\n{\"prompt\": \"fields\"}\n");
    const std::string query = "query --teacher " + server.url() + " --model m --prompts '" +
                              prompts.string() + "' --store '" + (dir / "fields.db").string() +
                              "' --concurrency 1 --max-tokens 8 --top-logprobs 2 --json";
    Result r = run(query);
    expect(r.code == 0 && bodies.size() == 3, "three requests with fields asked: " + r.err);
    if (bodies.size() != 3) return;
    bool all_sent = true;
    for (const auto & [name, value] : fields.items())
        if (bodies[0].value(name, nlohmann::json()) != value) {
            all_sent = false;
            expect(false, "the line's " + name + " is sent as written: " + bodies[0].dump());
        }
    expect(all_sent && bodies[0].at("prompt") == "fields" && bodies[0].at("model") == "m",
           "a completion line's fields all reach the server: " + bodies[0].dump());
    expect(bodies[1].at("top_logprobs") == 4 && bodies[1].at("logprobs") == true &&
               bodies[1].at("seed") == 9 && bodies[1].at("max_tokens") == 8,
           "a chat line overrides --top-logprobs, keeps --max-tokens: " + bodies[1].dump());
    expect(bodies[2].at("max_tokens") == 8 && bodies[2].at("logprobs") == 2 &&
               !bodies[2].contains("seed"),
           "a bare line gets the command line's defaults: " + bodies[2].dump());
    // Three different keys: the fields are part of it (the rerun asks nothing).
    r = run("store stats --store '" + (dir / "fields.db").string() + "' --json");
    try {
        expect(nlohmann::json::parse(r.out).at("records") == 3,
               "the line's fields change its key: " + r.out);
    } catch (const std::exception & e) {
        expect(false, std::string("store stats prints JSON: ") + e.what());
    }
    r = run(query);
    expect(r.code == 0 && bodies.size() == 3, "the rerun asks nothing");

    write(prompts, "{\"prompt\": \"x\", \"stream\": true}\n");
    r = run(query);
    expect(r.code == 1 && r.err.find(":1: \"stream\"") != std::string::npos && bodies.size() == 3,
           "a streaming line is refused, naming the line and field: " + r.err);
}

// --top-logprobs 50 on a chat server that takes 20: probed from 50, clamped
// to 20, said once on stderr.
void check_top_logprobs_clamp() {
    http_test::server server;
    server.http.Post("/v1/chat/completions", [](const httplib::Request & q, httplib::Response & r) {
        const int k = nlohmann::json::parse(q.body).value("top_logprobs", 0);
        if (k > 20) {
            r.status = 400;
            r.set_content(R"({"error": {"message": "top_logprobs must be <= 20"}})",
                          "application/json");
            return;
        }
        r.set_content(R"({"id": "c", "choices": [{"message": {"content": "ok"}}]})",
                      "application/json");
    });
    server.start();
    const auto prompts = dir / "clamp.jsonl";
    write(prompts,
          "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n"
          "{\"messages\": [{\"role\": \"user\", \"content\": \"b\"}]}\n");
    const Result r =
        run("query --teacher " + server.url() + " --model m --prompts '" + prompts.string() +
            "' --store '" + (dir / "clamp.db").string() + "' --top-logprobs 50");
    const std::string notice =
        "takes at most 20 top_logprobs on chat: requests asking 50 were sent 20";
    const size_t at = r.err.find(notice);
    expect(r.code == 0 && server.requests.load() == 4 && at != std::string::npos &&
               r.err.find(notice, at + 1) == std::string::npos,
           "a clamp of --top-logprobs is said once: " + r.err);
}

// The words of distill query and batch build: a 401 without a key says so,
// llama.cpp's names, progress lines on multiples, no cost without prices,
// a store that does not exist yet.
void check_messages() {
    http_test::server server;
    server.http.Post("/v1/completions", [](const httplib::Request & q, httplib::Response & r) {
        if (!q.has_header("Authorization")) {
            r.status = 401;
            r.set_content(R"({"error": {"message": "Missing bearer authentication in header"}})",
                          "application/json");
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        r.set_content(R"({"id": "c", "choices": [{"text": "ok"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1}})",
                      "application/json");
    });
    server.start();
    const auto prompts = dir / "forty.jsonl";
    std::string text;
    for (int i = 0; i < 40; ++i) text += "{\"prompt\": \"q" + std::to_string(i) + "\"}\n";
    write(prompts, text);
    const std::string query = "query --teacher " + server.url() + " --model m --prompts '" +
                              prompts.string() + "' --concurrency 1 --store ";

    Result r = run(query + "'" + (dir / "nokey.db").string() + "'");
    expect(r.code == 1 && server.requests.load() == 1 &&
               r.err.find("no API key was sent") != std::string::npos &&
               r.err.find("--api-key-env") != std::string::npos &&
               r.err.find("--keep-going") == std::string::npos,
           "a 401 without a key says that none was sent and how to send one: " + r.err);
    r = run(query + "'" + (dir / "nokey.db").string() + "' --keep-going --json");
    expect(r.code == 1 && server.requests.load() == 41 &&
               r.out.find("\"failed\":40") != std::string::npos,
           "--keep-going asks every prompt after a 401: " + r.out);

    const auto numbers = [](const std::string & err) {
        std::vector<int> done;
        std::istringstream lines(err);
        for (std::string line; std::getline(lines, line);)
            if (line.find(" done (") != std::string::npos) done.push_back(std::stoi(line));
        return done;
    };
    setenv("K", "k", 1);
    for (const char * dialect : {"llamacpp", "llama.cpp"}) {
        const std::string store = (dir / (std::string("d-") + dialect + ".db")).string();
        r = run(query + "'" + store + "' --api-key-env K --progress-every 10 --dialect " + dialect);
        expect(r.code == 0, std::string("--dialect ") + dialect + " is taken: " + r.err);
        const std::vector<int> done = numbers(r.err);
        bool on_multiples = done.size() == 4;
        for (size_t k = 0; k < done.size(); ++k)
            on_multiples = on_multiples && done[k] >= 10 * int(k + 1) && done[k] < 10 * int(k + 2);
        expect(on_multiples, "--progress-every 10: a line past each multiple of 10: " + r.err);
        expect(r.out.find("40 from the store") == std::string::npos &&
                   r.out.find("40 asked, 0 from the store") != std::string::npos &&
                   r.out.find("$") == std::string::npos && r.err.find("$") == std::string::npos,
               "the summary says from the store, and no cost without prices: " + r.out);
    }
    unsetenv("K");

    const auto fresh = dir / "not-yet.db";
    r = run("batch build --prompts '" + prompts.string() + "' --model m --out '" +
            (dir / "batch.jsonl").string() + "' --store '" + fresh.string() + "'");
    expect(r.code == 0 && r.out.find("40 written") != std::string::npos &&
               r.err.find("does not exist yet") != std::string::npos &&
               !std::filesystem::exists(fresh),
           "batch build with a store not made yet leaves out nothing: " + r.out + r.err);
}

// distill train --teacher-store: a run that asked a teacher through a store,
// then runs that read its answers offline, the teacher file gone.
void check_train_offline() {
    constexpr int rows = 64, side = 4;
    std::mt19937 random(7);
    std::vector<uint8_t> pixels(rows * side * side), labels(rows);
    for (uint8_t & p : pixels) p = uint8_t(random());
    for (int i = 0; i < rows; ++i) labels[size_t(i)] = uint8_t(i % 3);
    const auto images_path = dir / "images.idx", labels_path = dir / "labels.idx";
    write_idx(images_path, {rows, side, side}, pixels);
    write_idx(labels_path, {rows}, labels);
    const std::string data = "idx:" + images_path.string() + "," + labels_path.string();
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
    expect(r.code == 0, "train --teacher --store exits 0");
    std::filesystem::remove(teacher_path);

    r = run(student + data + ":48' --teacher-store '" + answers.string() + "'");
    expect(r.code == 0, "train --teacher-store exits 0 without the teacher: " + r.err);
    try {
        expect(nlohmann::json::parse(r.out).at("steps").get<int>() > 0,
               "train --teacher-store trains: " + r.out);
    } catch (const std::exception & e) {
        expect(false, std::string("train --teacher-store --json prints JSON: ") + e.what());
    }
    r = run(student + data + ":48' --teacher-store '" + answers.string() + "' --validation '" +
            data + "'");
    expect(r.code == 0 && r.err.find("--validation has no teacher targets") != std::string::npos &&
               r.err.find("for 48 of these 64 examples") != std::string::npos,
           "a validation set without stored answers trains on, saying so: " + r.err);

    r = run(student + data + "' --teacher-store '" + answers.string() + "'");
    expect(r.code == 1 && r.err.find("found answers from teacher") != std::string::npos &&
               r.err.find("for 48 of these 64 examples; 16 are missing, the first is example 48") !=
                   std::string::npos,
           "missing answers exit 1 with the counts: " + r.err);
    r = run(student + data + ":48' --teacher-store '" + answers.string() +
            "' --teacher-identity '{\"kind\": \"model\", \"name\": \"other\"}'");
    expect(r.code == 1 &&
               r.err.find("--teacher-store: --teacher-identity: store '") != std::string::npos &&
               r.err.find("it answers them from: {\"kind\":\"model\"") != std::string::npos,
           "an unknown --teacher-identity exits 1 naming the stored one: " + r.err);
    r = run(student + data + ":48' --teacher-store '" + answers.string() +
            "' --teacher-parameters '{\"temperature\": 1.0, \"top_k\": 0}'");
    expect(r.code == 0, "--teacher-parameters as stored exits 0: " + r.err);

    // Usage: --teacher-store replaces --teacher; the identity needs a store.
    r = run(student + data + "' --teacher-store x.db --teacher y");
    expect(r.code == 2, "--teacher-store with --teacher exits 2");
    r = run(student + data + "' --teacher-identity '{}'");
    expect(r.code == 2, "--teacher-identity without --teacher-store exits 2");
    // --device: a bad name is refused naming the option; cuda without a GPU
    // (or without the CUDA backend) is a clear failure, never a crash.
    r = run(student + data + ":48' --teacher-store '" + answers.string() + "' --device tpu");
    expect(r.code == 1 && r.err.find("--device: expected cpu, cuda or cuda:N") != std::string::npos,
           "--device tpu exits 1 naming --device: " + r.err);
    r = run(student + data + ":48' --teacher-store '" + answers.string() + "' --device cpu");
    expect(r.code == 0, "--device cpu trains: " + r.err);
    int32_t gpus = 0;
    distill::check(distill_cuda_device_count(&gpus));
    if (gpus == 0) {
        r = run(student + data + ":48' --teacher-store '" + answers.string() + "' --device cuda");
        expect(r.code == 1 && r.err.find("distill train: ") != std::string::npos,
               "--device cuda without a GPU exits 1 with a message: " + r.err);
    }
    r = run("train --help");
    expect(r.code == 0 && r.out.find("--device") != std::string::npos &&
               r.out.find("--teacher-store") != std::string::npos &&
               r.out.find("--teacher-identity") != std::string::npos,
           "train --help shows --teacher-store and --teacher-identity");
}

// Work thrown away or silently changed: every argument is checked before
// any work, a checkpoint of another run is refused saying what differs, and
// NaN weights are an error for predict as for eval.
void check_refused_up_front() {
    constexpr int rows = 48, side = 4;
    std::mt19937 random(11);
    std::vector<uint8_t> pixels(rows * side * side), labels(rows);
    for (uint8_t & p : pixels) p = uint8_t(random());
    for (int i = 0; i < rows; ++i) labels[size_t(i)] = uint8_t(i % 3);
    const auto images_path = dir / "up-front-images.idx", labels_path = dir / "up-front-labels.idx";
    write_idx(images_path, {rows, side, side}, pixels);
    write_idx(labels_path, {rows}, labels);
    const std::string data = "idx:" + images_path.string() + "," + labels_path.string();
    const std::string config = "'{\"kind\": \"mlp\", \"inputs\": 16, \"outputs\": 3}'";
    const std::string train = "train --config " + config + " --data '" + data + "' ";

    // --out in a missing directory: refused before the first epoch.
    Result r = run(train + "--epochs 3 --out /nonexistent-dir/x.safetensors");
    expect(r.code == 1 &&
               r.err.find("--out: cannot write '/nonexistent-dir/x.safetensors': expected its "
                          "directory '/nonexistent-dir' to exist") != std::string::npos &&
               r.err.find("epoch 1/") == std::string::npos,
           "train --out in a missing directory is refused before training: " + r.err);
    r = run(train + "--out '" + dir.string() + "'");
    expect(
        r.code == 1 && r.err.find("expected a file path; it is a directory") != std::string::npos,
        "train --out naming a directory is refused: " + r.err);

    // A bad loss with --teacher: refused before the teacher is asked (no store made).
    const auto teacher_path = dir / "up-front-teacher.safetensors";
    distill::Model::create(R"({"kind": "mlp", "inputs": 16, "hidden": [8], "outputs": 3})", 3)
        .save(teacher_path.string());
    const auto never = dir / "never.db";
    r = run(train + "--teacher '" + teacher_path.string() + "' --store '" + never.string() +
            "' --temperature 0");
    expect(
        r.code == 1 &&
            r.err.find("--temperature: expected a finite value > 0, got 0") != std::string::npos &&
            r.err.find("asking the teacher") == std::string::npos &&
            !std::filesystem::exists(never),
        "--temperature 0 is refused before the teacher is asked: " + r.err);

    // A checkpoint of another loss, other data or another config is refused.
    const auto answers = dir / "up-front-answers.db";
    const auto checkpoint = dir / "up-front-run";
    const std::string distil = "--teacher '" + teacher_path.string() + "' --store '" +
                               answers.string() + "' --checkpoint '" + checkpoint.string() + "' ";
    r = run(train + distil + "--epochs 1 --temperature 2");
    expect(r.code == 0, "a checkpointed run exits 0: " + r.err);
    r = run(train + distil + "--epochs 2 --temperature 3");
    expect(r.code == 1 &&
               r.err.find("it was made with other loss options (loss.temperature = 2.0 there, "
                          "3.0 here)") != std::string::npos,
           "a checkpoint of another temperature is refused, saying so: " + r.err);
    r = run("train --config " + config + " --data '" + data + ":40' " + distil +
            "--epochs 2 --temperature 2");
    expect(r.code == 1 &&
               r.err.find("it was made with other training data (") != std::string::npos &&
               r.err.find("rows = 48 there, 40 here") != std::string::npos,
           "a checkpoint of other data is refused, saying so: " + r.err);
    r =
        run("train --config '{\"kind\": \"mlp\", \"inputs\": 16, \"hidden\": [4], "
            "\"outputs\": 3}' --data '" +
            data + "' " + distil + "--epochs 2 --temperature 2");
    expect(r.code == 1 && r.err.find("--checkpoint: '" + checkpoint.string() +
                                     "' holds a model of config") != std::string::npos,
           "a checkpoint of another config is refused, saying so: " + r.err);
    r = run(train + distil + "--epochs 2 --temperature 2");
    expect(r.code == 0 && r.err.find("resuming from") != std::string::npos,
           "the same run resumes: " + r.err);

    // NaN weights: predict refuses them as eval does.
    distill::Model spoiled =
        distill::Model::create(R"({"kind": "mlp", "inputs": 16, "hidden": [8], "outputs": 3})", 4);
    static_cast<float *>(spoiled.parameter(0).data)[0] = std::nanf("");
    const auto spoiled_path = dir / "spoiled.safetensors";
    spoiled.save(spoiled_path.string());
    for (const char * verb : {"predict", "eval"}) {
        r = run(std::string(verb) + " --model '" + spoiled_path.string() + "' --data '" + data +
                "'");
        expect(r.code == 1 &&
                   r.err.find("outputs: expected finite values, got nan at row 0, output 0 (the "
                              "model's weight 'layers.0.weight' holds nan at element 0)") !=
                       std::string::npos &&
                   r.out.empty(),
               std::string(verb) + " refuses a model with NaN weights: " + r.err);
    }

    // Help: each verb's own words.
    r = run("predict --help");
    expect(r.code == 0 && r.out.find("Where the model predicts") != std::string::npos &&
               r.out.find("evaluation stays") == std::string::npos &&
               r.out.find("CPU threads") != std::string::npos,
           "predict --help describes its own --device and --threads: " + r.out);
    r = run("eval --help");
    expect(r.code == 0 && r.out.find("CPU threads") != std::string::npos,
           "eval --help describes --threads: " + r.out);
    r = run("train --help");
    expect(r.code == 0 && r.out.find("Seed of the student's initialisation") != std::string::npos,
           "train --help describes --seed: " + r.out);

    // distill demo: a file as --out, or too many --labels, refused before any work.
    const auto file = dir / "a-file";
    write(file, "x");
    const auto demo_cache = dir / "demo-cache-never";
    r = run("demo --quick --out '" + file.string() + "' --cache-dir '" + demo_cache.string() + "'");
    expect(r.code == 1 &&
               r.err.find("--out: cannot write '" + file.string() +
                          "': expected a directory; it is a file") != std::string::npos &&
               !std::filesystem::exists(demo_cache),
           "demo --out on a file is refused up front: " + r.err);
    r = run("demo --quick --labels 5000 --cache-dir '" + demo_cache.string() + "'");
    expect(r.code == 1 &&
               r.err.find("--labels: expected at most 3500 with --quick (half of the 7000 "
                          "training images outside the validation split), got 5000") !=
                   std::string::npos &&
               !std::filesystem::exists(demo_cache),
           "demo --quick --labels 5000 is refused up front: " + r.err);
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 3) {
        std::cerr << "usage: distill_cli_test DISTILL_BINARY SCRATCH_DIR\n";
        return 2;
    }
    binary = argv[1];
    dir = argv[2];
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);

    http_test::server server;
    const auto answer = [](const httplib::Request &, httplib::Response & r) {
        r.set_content(R"({"id": "c-1", "model": "teacher-1", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": "ok"},
            "logprobs": {"content": [{"token": "ok", "logprob": -0.1,
                "top_logprobs": [{"token": "ok", "logprob": -0.1}, {"token": "no", "logprob": -2.5}]}]},
            "finish_reason": "length"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})",
                      "application/json");
    };
    server.http.Post("/v1/chat/completions", answer);
    server.http.Post("/v1/completions", [](const httplib::Request &, httplib::Response & r) {
        r.set_content(R"({"id": "c-2", "model": "teacher-1", "choices": [{"text": "ok",
            "logprobs": {"tokens": ["ok"], "token_logprobs": [-0.1],
                         "top_logprobs": [{"ok": -0.1, "no": -2.5}], "text_offset": [0]},
            "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}})",
                      "application/json");
    });
    server.start();

    const auto prompts = dir / "prompts.jsonl";
    write(prompts,
          "{\"messages\": [{\"role\": \"user\", \"content\": \"one\"}], \"id\": \"p1\"}\n"
          "{\"messages\": [{\"role\": \"user\", \"content\": \"two\"}]}\n"
          "\n"
          "{\"prompt\": \"three\"}\n"
          "{\"prompt\": \"four\", \"id\": 4}\n"
          "{\"messages\": [{\"role\": \"system\", \"content\": \"s\"}, "
          "{\"role\": \"user\", \"content\": \"five\"}]}\n");
    const auto store = dir / "run.db";
    const std::string query = "query --teacher " + server.url() + " --model teacher-1 --prompts '" +
                              prompts.string() + "' --store '" + store.string() +
                              "' --top-logprobs 2 --max-tokens 8 --temperature 0 --json";

    // First run: all 5 asked.
    Result r = run(query);
    expect(r.code == 0, "query exits 0");
    expect(server.requests.load() == 5,
           "server got 5 requests, got " + std::to_string(server.requests.load()));
    try {
        const auto j = nlohmann::json::parse(r.out);
        expect(j.at("asked") == 5 && j.at("cached") == 0 && j.at("failed") == 0,
               "summary: 5 asked, 0 cached: " + r.out);
        expect(j.at("completion_tokens") == 5, "summary counts tokens: " + r.out);
    } catch (const std::exception & e) {
        expect(false, std::string("query --json prints JSON: ") + e.what() + ": " + r.out);
    }

    // Rerun: nothing asked, all cached.
    r = run(query);
    expect(r.code == 0, "rerun exits 0");
    expect(server.requests.load() == 5, "rerun asks nothing");
    try {
        const auto j = nlohmann::json::parse(r.out);
        expect(j.at("asked") == 0 && j.at("cached") == 5, "rerun: 0 asked, 5 cached: " + r.out);
    } catch (const std::exception & e) {
        expect(false, std::string("rerun --json prints JSON: ") + e.what());
    }

    // Human summary without --json.
    r = run(query.substr(0, query.size() - 7));
    expect(r.code == 0 && r.out.find("5 from the store") != std::string::npos,
           "plain summary names the count from the store: " + r.out);

    // store stats.
    r = run("store stats --store '" + store.string() + "' --json");
    expect(r.code == 0, "store stats exits 0");
    try {
        const auto j = nlohmann::json::parse(r.out);
        expect(j.at("records") == 5 && j.at("failures") == 0, "stats: 5 records: " + r.out);
        expect(j.at("finish_reasons").at("length") == 3 && j.at("finish_reasons").at("stop") == 2,
               "stats: 3 chat answers truncated, 2 completions stopped: " + r.out);
    } catch (const std::exception & e) {
        expect(false, std::string("stats --json prints JSON: ") + e.what());
    }
    r = run("store stats --store '" + store.string() + "'");
    expect(r.code == 0 && r.out.find("truncated  3 answers") != std::string::npos,
           "plain stats shows the truncated answers: " + r.out);
    r = run("store stats --store '" + dir.string() + "'");
    expect(r.code == 1 && r.err.find("which is a directory") != std::string::npos,
           "stats on a directory says so: " + r.err);

    // store export.
    const auto exported = dir / "export.jsonl";
    r = run("store export --store '" + store.string() + "' --out '" + exported.string() + "'");
    expect(r.code == 0, "store export exits 0");
    {
        std::ifstream in(exported);
        std::string line;
        int lines = 0, parsed = 0;
        while (std::getline(in, line)) {
            ++lines;
            try {
                const auto j = nlohmann::json::parse(line);
                if (j.at("text") == "ok") ++parsed;
            } catch (const std::exception &) {
            }
        }
        expect(lines == 5 && parsed == 5, "export: 5 parseable lines, got " +
                                              std::to_string(parsed) + "/" + std::to_string(lines));
    }
    // The read-only commands left no -wal / -shm beside the store.
    for (const char * suffix : {"-wal", "-shm"})
        expect(!std::filesystem::exists(store.string() + suffix),
               std::string("stats and export leave no ") + suffix + " file");

    // Malformed prompts: exit 1, line number named, nothing asked.
    const auto bad = dir / "bad.jsonl";
    write(bad, "{\"prompt\": \"fine\"}\n{\"prompt\": \"broken\"\n");
    r = run("query --teacher " + server.url() + " --model teacher-1 --prompts '" + bad.string() +
            "' --store '" + store.string() + "'");
    expect(r.code == 1, "malformed prompts exit 1");
    expect(r.err.find(":2:") != std::string::npos, "malformed prompts name line 2: " + r.err);
    expect(server.requests.load() == 5, "malformed prompts ask nothing");

    // Missing prompts file: exit 1.
    r = run("query --teacher " + server.url() + " --model teacher-1 --prompts '" +
            (dir / "missing.jsonl").string() + "' --store '" + store.string() + "'");
    expect(r.code == 1, "missing prompts file exits 1");

    // Bad usage: exit 2.
    r = run(query + " --no-such-flag");
    expect(r.code == 2 && r.err.find("no-such-flag") != std::string::npos,
           "unknown flag exits 2 and names it");
    expect(run("no-such-verb").code == 2, "unknown verb exits 2");
    expect(run("query --teacher x --model m --prompts p --store s --dialect nope").code == 2,
           "bad --dialect exits 2");

    // The server answers "teacher-1" whatever is asked: asking for another
    // model is warned about after the summary, and counted by store stats.
    {
        const auto fallback_store = dir / "fallback.db";
        r = run("query --teacher " + server.url() + " --model no-such-model --prompts '" +
                prompts.string() + "' --store '" + fallback_store.string() + "'");
        expect(r.code == 0 && r.err.find("warning: 5 answers in the store name another model") !=
                                  std::string::npos,
               "an answer from another model is warned about: " + r.err);
        r = run("store stats --store '" + fallback_store.string() + "' --json");
        expect(r.code == 0 && r.out.find("\"other_model\":5") != std::string::npos,
               "store stats counts the answers of another model: " + r.out);
        r = run(query);
        expect(r.code == 0 && r.err.find("another model") == std::string::npos,
               "no warning when the model asked for answered: " + r.err);
    }

    // --help and --version exit 0.
    for (const char * verb : {"", "query ", "store ", "store stats ", "store export "}) {
        r = run(std::string(verb) + "--help");
        expect(r.code == 0 && r.out.find("Usage") != std::string::npos,
               std::string("'") + verb + "--help' exits 0 with usage");
    }
    r = run("--version");
    expect(r.code == 0 && r.out.find(distill_version()) != std::string::npos,
           "--version prints the library version: " + r.out);

    // Ctrl-C: the current request finishes and is stored, the summary is
    // printed, exit 130; the rerun asks only the rest (no request twice).
    {
        http_test::server slow;
        slow.http.Post("/v1/completions", [](const httplib::Request &, httplib::Response & res) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            res.set_content(R"({"id": "s", "choices": [{"text": "ok"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1}})",
                            "application/json");
        });
        slow.start();
        const auto many = dir / "many.jsonl";
        std::string text;
        for (int i = 0; i < 20; ++i) text += "{\"prompt\": \"p" + std::to_string(i) + "\"}\n";
        write(many, text);
        const auto slow_store = dir / "slow.db";
        const std::string url = slow.url(), prompts_path = many.string(),
                          store_path = slow_store.string(), out = (dir / "int.out").string();
        const pid_t child = ::fork();
        if (child == 0) {
            const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(fd, 1);
            ::execl(binary.c_str(), binary.c_str(), "query", "--teacher", url.c_str(), "--model",
                    "m", "--prompts", prompts_path.c_str(), "--store", store_path.c_str(), "--json",
                    static_cast<char *>(nullptr));
            ::_exit(127);
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (slow.requests.load() < 3 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ::kill(child, SIGINT);
        int status = 0;
        ::waitpid(child, &status, 0);
        const int asked_before = slow.requests.load();
        expect(WIFEXITED(status) && WEXITSTATUS(status) == 130, "Ctrl-C exits 130");
        expect(asked_before < 20,
               "Ctrl-C stops early (" + std::to_string(asked_before) + " asked)");
        try {
            const auto j = nlohmann::json::parse(slurp(out));
            expect(j.at("interrupted") == true && j.at("asked") == asked_before,
                   "Ctrl-C prints the summary: " + j.dump());
        } catch (const std::exception & e) {
            expect(false, std::string("Ctrl-C summary is JSON: ") + e.what());
        }
        r = run("query --teacher " + url + " --model m --prompts '" + prompts_path + "' --store '" +
                store_path + "' --json");
        expect(r.code == 0, "rerun after Ctrl-C exits 0");
        expect(slow.requests.load() == 20,
               "rerun after Ctrl-C asks only the rest: " + std::to_string(slow.requests.load()));
    }

    check_short_keys();
    check_one_rejected_prompt();
    check_request_fields();
    check_top_logprobs_clamp();
    check_messages();
    check_train_offline();
    check_refused_up_front();

    std::cout << passed << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : 1;
}
