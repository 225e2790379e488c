// The canonical request key: same question, same key, however spelled;
// a different teacher, request or parameter, a different key.
#include "store_test_support.h"

#include "common/sha256.h"

using store_test::answer_counter;
using store_test::count_and_answer;

TEST_CASE("teacher: request key is SHA-256 of the canonical JSON (known answer)") {
    answer_counter counter;
    distill::Teacher teacher =
        distill::Teacher::callback(count_and_answer, &counter, "t", "m", R"({"temperature": 0.5})");
    const std::string key =
        teacher.request_key(R"({"n": 1, "messages": [{"role": "user", "content": "hi"}]})");
    // Computed independently (Python hashlib over the literal below).
    CHECK(key == "e47763d6ed52aece5a3f7679fa0066a36705de26e6541581bc2e7134314e08bc");
    CHECK(key ==
          distill::sha256_hex(
              R"({"parameters":{"temperature":0.5},"request":{"messages":[{"content":"hi",)"
              R"("role":"user"}],"n":1},"teacher":{"kind":"callback","model":"m","name":"t"}})"));
    CHECK(counter.calls == 0);  // a key never asks the teacher
}

TEST_CASE("teacher: request key ignores key order and whitespace, not content") {
    answer_counter counter;
    distill::Teacher teacher = distill::Teacher::callback(count_and_answer, &counter, "t", "m");
    const std::string key = teacher.request_key(R"({"a": 1, "b": {"x": [1, 2], "y": "z"}})");
    CHECK(key == teacher.request_key("{ \"b\" : {\"y\":\"z\",\n \"x\":[1,2]}, \"a\":1 }"));
    CHECK(key != teacher.request_key(R"({"a": 2, "b": {"x": [1, 2], "y": "z"}})"));
    CHECK(key != teacher.request_key(
                     R"({"a": 1, "b": {"x": [2, 1], "y": "z"}})"));  // order of arrays matters
    CHECK(key != teacher.request_key(R"({"a": 1.0, "b": {"x": [1, 2], "y": "z"}})"));  // 1 ≠ 1.0

    distill::Teacher other_params =
        distill::Teacher::callback(count_and_answer, &counter, "t", "m", R"({"temperature": 0})");
    distill::Teacher other_model =
        distill::Teacher::callback(count_and_answer, &counter, "t", "m2");
    distill::Teacher other_name = distill::Teacher::callback(count_and_answer, &counter, "u", "m");
    const std::string request = R"({"a": 1, "b": {"x": [1, 2], "y": "z"}})";
    CHECK(other_params.request_key(request) != key);
    CHECK(other_model.request_key(request) != key);
    CHECK(other_name.request_key(request) != key);
    distill::Teacher same_params_reordered = distill::Teacher::callback(
        count_and_answer, &counter, "t", "m", R"({"top_logprobs": 5, "temperature": 0})");
    distill::Teacher same_params = distill::Teacher::callback(
        count_and_answer, &counter, "t", "m", R"({"temperature":0,"top_logprobs":5})");
    CHECK(same_params_reordered.request_key(request) == same_params.request_key(request));
}

TEST_CASE("teacher: request key errors name the argument") {
    answer_counter counter;
    distill::Teacher teacher = distill::Teacher::callback(count_and_answer, &counter, "t");
    char key[65] = "untouched";
    CHECK(distill_teacher_request_key(nullptr, "{}", key, sizeof key) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("teacher") != std::string::npos);
    CHECK(distill_teacher_request_key(teacher.get(), nullptr, key, sizeof key) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()) ==
          "request_json: expected JSON text, got NULL");
    CHECK(distill_teacher_request_key(teacher.get(), "{\"a\":", key, sizeof key) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("request_json: expected valid JSON") == 0);
    CHECK(distill_teacher_request_key(teacher.get(), "{}", nullptr, 65) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("out_key") == 0);
    CHECK(distill_teacher_request_key(teacher.get(), "{}", key, 64) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()) ==
          "capacity: expected >= 65 (64 hex digits and a NUL), got 64");
    CHECK(std::string(key) == "untouched");
}
