// End-to-end test of the `distill` binary: argv[1] = its path, argv[2] = a
// scratch directory. Prints "N passed, M failed"; non-zero on failure.
#include "http_test_server.h"

#include <distill/distill.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>

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

// Runs `distill <args>` through the shell, stdout and stderr to files.
Result run(const std::string & args) {
    const auto out = dir / "stdout.txt", err = dir / "stderr.txt";
    const std::string command =
        "'" + binary + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
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
    expect(r.code == 0 && r.out.find("5 cached") != std::string::npos,
           "plain summary names the cached count: " + r.out);

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

    check_train_offline();

    std::cout << passed << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : 1;
}
