// OpenAI Batch API files through the C ABI: the input file built from a
// request set (what is stored and repeats left out, the teacher's body on
// each line, the request key as custom_id), and an output file, written
// here in the Batch API's shape and out of order, read back into the store:
// successes normalised, failures as failure rows, unknown and malformed
// lines counted and told, never fatal.
#include "store_test_support.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

distill::Teacher batch_teacher() {
    distill_http_teacher_options options;
    distill::check(distill_http_teacher_options_init(&options));
    options.base_url = "http://127.0.0.1:9/v1";  // never contacted
    options.model = "gpt-4o-mini";
    return distill::Teacher::http(options);
}

std::string chat(const std::string & content, const std::string & id = "") {
    json request = {{"messages", {{{"role", "user"}, {"content", content}}}},
                    {"logprobs", true},
                    {"top_logprobs", 2}};
    if (!id.empty()) request["id"] = id;
    return request.dump();
}

std::vector<json> read_lines(const std::string & path) {
    std::ifstream in(path);
    std::vector<json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    return lines;
}

void write_text(const std::string & path, const std::string & text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

json completion(const std::string & text) {
    return {{"id", "chatcmpl-1"},
            {"model", "gpt-4o-mini-2024-07-18"},
            {"system_fingerprint", "fp_1"},
            {"choices",
             {{{"message", {{"role", "assistant"}, {"content", text}}},
               {"logprobs",
                {{"content",
                  {{{"token", text},
                    {"logprob", -0.25},
                    {"top_logprobs",
                     {{{"token", text}, {"logprob", -0.25}},
                      {{"token", "No"}, {"logprob", -2.0}}}}}}}}}}}},
            {"usage", {{"prompt_tokens", 9}, {"completion_tokens", 1}}}};
}

std::string output_line(const std::string & custom_id, const json & response,
                        const json & error = nullptr) {
    return json{
        {"id", "batch_req_1"}, {"custom_id", custom_id}, {"response", response}, {"error", error}}
        .dump();
}

}  // namespace

TEST_CASE("batch: the input file holds one line per request still to ask") {
    store_test::temp_dir dir;
    distill::Teacher teacher = batch_teacher();
    distill::Store store(dir.file("run.db"));
    const std::vector<std::string> requests = {chat("q0", "first"), chat("q1"), chat("q2"),
                                               chat("q0", "first"), chat("q4")};
    distill::TeacherRecord stored = store_test::make_record(teacher.request_key(requests[4]), 4);
    store.put(stored);

    const std::string path = dir.file("batch_input.jsonl");
    const distill_batch_build_summary summary =
        distill::batch_build(teacher, &store, requests, path);
    CHECK(summary.requests == 5);
    CHECK(summary.written == 3);
    CHECK(summary.already_stored == 1);
    CHECK(summary.repeated == 1);
    const std::vector<json> lines = read_lines(path);
    REQUIRE(lines.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        CHECK(lines[i]["custom_id"] == teacher.request_key(requests[i]));
        CHECK(lines[i]["method"] == "POST");
        CHECK(lines[i]["url"] == "/v1/chat/completions");
        const json & body = lines[i]["body"];
        CHECK(body["model"] == "gpt-4o-mini");
        CHECK(body["top_logprobs"] == 2);
        CHECK(body["messages"][0]["content"] == "q" + std::to_string(i));
        CHECK_FALSE(body.contains("id"));  // the prompt set's id stays local
    }

    SUBCASE("without a store every unique request is written") {
        CHECK(distill::batch_build(teacher, nullptr, requests, path).written == 4);
    }
    SUBCASE("one batch has one endpoint") {
        const std::vector<std::string> mixed = {chat("q0"), json{{"input", "embed me"}}.dump()};
        CHECK(distill_batch_build(
                  teacher.get(), nullptr,
                  std::vector<const char *>{mixed[0].c_str(), mixed[1].c_str()}.data(), 2, nullptr,
                  path.c_str(), nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
        CHECK(std::string(distill_last_error_message()).find("requests[1]") != std::string::npos);
        const distill_batch_build_summary given =
            distill::batch_build(teacher, nullptr, mixed, path, "/v1/chat/completions");
        CHECK(given.written == 2);
        CHECK(read_lines(path)[1]["url"] == "/v1/chat/completions");
    }
    SUBCASE("a callback teacher cannot build a batch") {
        store_test::answer_counter counter;
        distill::Teacher callback =
            distill::Teacher::callback(store_test::count_and_answer, &counter, "echo");
        const char * one[] = {requests[0].c_str()};
        CHECK(distill_batch_build(callback.get(), nullptr, one, 1, nullptr, path.c_str(),
                                  nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    }
}

TEST_CASE("batch: an output file is matched by custom_id into the store") {
    store_test::temp_dir dir;
    distill::Teacher teacher = batch_teacher();
    distill::Store store(dir.file("run.db"));
    const std::vector<std::string> requests = {chat("q0"), chat("q1"), chat("q2"), chat("q3")};
    std::vector<std::string> keys;
    for (const std::string & r : requests) keys.push_back(teacher.request_key(r));
    store.put(store_test::make_record(keys[3], 3));  // a success a failure must not replace

    const std::string bad_request = json{
        {"error",
         {{"message", "top_logprobs too large"},
          {"type", "invalid_request_error"},
          {"code", "invalid_value"}}}}.dump();
    const std::string path = dir.file("batch_output.jsonl");
    write_text(path, output_line(keys[2], {{"status_code", 400},
                                           {"request_id", "req_2"},
                                           {"body", json::parse(bad_request)}}) +
                         "\n{not json\n\n" +  // lines 2 and 3
                         output_line(keys[0], {{"status_code", 200},
                                               {"request_id", "req_0"},
                                               {"body", completion("Yes")}}) +
                         "\n" +
                         output_line("nope", {{"status_code", 200}, {"body", completion("x")}}) +
                         "\n" + json{{"custom_id", 5}}.dump() + "\n" +
                         output_line(keys[1], nullptr,
                                     {{"code", "batch_expired"}, {"message", "not run in 24h"}}) +
                         "\n" + output_line(keys[3], nullptr, {{"code", "server_error"}}) + "\n" +
                         json{{"custom_id", keys[1]}}.dump() + "\n" +  // neither response nor error
                         output_line(keys[1], {{"status_code", 200}, {"body", "not an object"}}));

    std::map<int64_t, std::string> problems;
    const distill_batch_ingest_summary summary =
        distill::batch_ingest(teacher, store, requests, path,
                              [&](int64_t line, const std::string & why) { problems[line] = why; });
    CHECK(summary.lines == 9);
    CHECK(summary.succeeded == 1);
    CHECK(summary.failed == 3);
    CHECK(summary.already_stored == 1);
    CHECK(summary.unknown == 1);
    CHECK(summary.malformed == 3);
    REQUIRE(problems.size() == 4);
    CHECK(problems.count(2) == 1);
    CHECK(problems[5].find("nope") != std::string::npos);
    CHECK(problems.count(6) == 1);
    CHECK(problems.count(9) == 1);

    const std::optional<distill::TeacherRecord> answer = store.get(keys[0]);
    REQUIRE(answer);
    CHECK_FALSE(answer->failed());
    CHECK(answer->text() == "Yes");
    CHECK(answer->position_count() == 1);
    CHECK(answer->string(DISTILL_RECORD_PROVIDER) == "openai-batch");
    CHECK(answer->string(DISTILL_RECORD_MODEL) == "gpt-4o-mini-2024-07-18");
    CHECK(answer->string(DISTILL_RECORD_REQUEST_ID) == "req_0");
    CHECK(answer->integer(DISTILL_RECORD_COMPLETION_TOKENS) == 1);
    std::vector<int32_t> ids;
    std::vector<float> logprobs;
    answer->topk(0, ids, logprobs);
    CHECK(logprobs == std::vector<float>{-0.25f, -2.0f});

    // The last line for q1 (a body that is not a completion) replaced the expiry.
    const std::optional<distill::TeacherRecord> broken = store.get(keys[1]);
    REQUIRE(broken);
    CHECK(broken->failed());
    CHECK(broken->string(DISTILL_RECORD_ERROR_MESSAGE).find("not a JSON object") !=
          std::string::npos);
    const std::optional<distill::TeacherRecord> refused = store.get(keys[2]);
    REQUIRE(refused);
    CHECK(refused->integer(DISTILL_RECORD_ERROR_STATUS) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(refused->string(DISTILL_RECORD_ERROR_MESSAGE).find("top_logprobs too large") !=
          std::string::npos);
    CHECK_FALSE(store.get(keys[3])->failed());

    // The next batch asks again only what failed.
    const distill_batch_build_summary next =
        distill::batch_build(teacher, &store, requests, dir.file("again.jsonl"));
    CHECK(next.written == 2);
    CHECK(next.already_stored == 2);

    CHECK(distill_batch_ingest(teacher.get(), store.get(), nullptr, 0,
                               dir.file("missing.jsonl").c_str(), nullptr, nullptr,
                               nullptr) == DISTILL_STATUS_NOT_FOUND);
    CHECK(std::string(distill_last_error_message()) ==
          "opening '" + dir.file("missing.jsonl") + "' failed: No such file or directory");
}
