// The callback teacher: asked once per request through a store, stopped by
// DISTILL_STATUS_CANCELLED, failures kept as rows and asked again.
#include "store_test_support.h"

using store_test::answer_counter;
using store_test::count_and_answer;
using store_test::temp_dir;

namespace {
std::string last_error() { return distill_last_error_message(); }
}  // namespace

TEST_CASE("teacher: a query calls the callback and fills the provenance") {
    answer_counter counter;
    distill::Teacher teacher = distill::Teacher::callback(count_and_answer, &counter, "mine",
                                                          "tiny-1", R"({"temperature": 0})");
    const std::string request = R"({"prompt": "2+2", "max_tokens": 1})";
    distill::TeacherRecord r = teacher.query(request);
    CHECK(counter.calls == 1);
    CHECK(counter.last_request == R"({"max_tokens":1,"prompt":"2+2"})");  // canonical JSON
    CHECK(r.text() == R"(echo: {"max_tokens":1,"prompt":"2+2"})");
    CHECK(r.key() == teacher.request_key(request));
    CHECK(r.string(DISTILL_RECORD_PROVIDER) == "callback");
    CHECK(r.string(DISTILL_RECORD_ENDPOINT) == "mine");
    CHECK(r.string(DISTILL_RECORD_MODEL) == "tiny-1");
    CHECK(r.string(DISTILL_RECORD_TEACHER_JSON) ==
          R"({"kind":"callback","model":"tiny-1","name":"mine"})");
    CHECK(r.string(DISTILL_RECORD_REQUEST_JSON) == R"({"max_tokens":1,"prompt":"2+2"})");
    CHECK(r.string(DISTILL_RECORD_PARAMETERS_JSON) == R"({"temperature":0})");
    CHECK(r.integer(DISTILL_RECORD_ATTEMPTS) == 1);
    CHECK(r.integer(DISTILL_RECORD_PROMPT_TOKENS) == 3);
    CHECK(r.integer(DISTILL_RECORD_STARTED_AT_MS) > 1700000000000);
    CHECK(r.integer(DISTILL_RECORD_FINISHED_AT_MS) >= r.integer(DISTILL_RECORD_STARTED_AT_MS));
    CHECK(r.integer(DISTILL_RECORD_LATENCY_US) >= 0);
    CHECK(r.position_count() == 1);
    CHECK_FALSE(r.failed());
}

TEST_CASE("teacher: a cached query asks once, then reads the store") {
    temp_dir dir;
    distill::Store store(dir.file("run.db"));
    answer_counter counter;
    distill::Teacher teacher = distill::Teacher::callback(count_and_answer, &counter, "mine");
    distill::TeacherRecord first = teacher.query_cached(store, R"({"prompt": "a", "n": 1})");
    CHECK(counter.calls == 1);
    distill::TeacherRecord second = teacher.query_cached(store, R"({"n": 1, "prompt": "a"})");
    CHECK(counter.calls == 1);  // same request, other spelling: not asked again
    CHECK(second.key() == first.key());
    CHECK(second.text() == first.text());
    teacher.query_cached(store, R"({"prompt": "b", "n": 1})");
    CHECK(counter.calls == 2);
    CHECK(store.stats().records == 2);

    // Another teacher object over the same function and identity shares the store's answers.
    distill::Teacher same = distill::Teacher::callback(count_and_answer, &counter, "mine");
    same.query_cached(store, R"({"prompt": "b", "n": 1})");
    CHECK(counter.calls == 2);
}

TEST_CASE("teacher: a failing callback is stored as a failure and asked again later") {
    temp_dir dir;
    distill::Store store(dir.file("run.db"));
    answer_counter counter;
    counter.result = DISTILL_STATUS_INTERNAL;
    distill::Teacher teacher = distill::Teacher::callback(count_and_answer, &counter, "flaky");
    distill::TeacherRecord failed = teacher.query_cached(store, R"({"prompt": "x"})");
    CHECK(failed.failed());
    CHECK(failed.integer(DISTILL_RECORD_ERROR_STATUS) == DISTILL_STATUS_INTERNAL);
    CHECK(failed.string(DISTILL_RECORD_ERROR_MESSAGE) == "teacher is down");
    distill_store_stats stats = store.stats();
    CHECK(stats.records == 1);
    CHECK(stats.failures == 1);

    counter.result = DISTILL_STATUS_OK;
    distill::TeacherRecord retried = teacher.query_cached(store, R"({"prompt": "x"})");
    CHECK(counter.calls == 2);
    CHECK_FALSE(retried.failed());
    stats = store.stats();
    CHECK(stats.records == 1);
    CHECK(stats.failures == 0);
}

TEST_CASE("teacher: a failing callback without a message gets one") {
    distill::Teacher teacher = distill::Teacher::callback(
        [](void *, const char *, distill_teacher_record *) -> distill_status {
            return DISTILL_STATUS_UNSUPPORTED;
        },
        nullptr, "silent");
    distill::TeacherRecord r = teacher.query("{}");
    CHECK(r.integer(DISTILL_RECORD_ERROR_STATUS) == DISTILL_STATUS_UNSUPPORTED);
    CHECK(r.string(DISTILL_RECORD_ERROR_MESSAGE) == "teacher callback returned status 2");
}

TEST_CASE("teacher: a callback returning CANCELLED stops the job and stores nothing") {
    temp_dir dir;
    distill::Store store(dir.file("run.db"));
    answer_counter counter;
    counter.result = DISTILL_STATUS_CANCELLED;
    distill::Teacher teacher = distill::Teacher::callback(count_and_answer, &counter, "stopper");
    distill_teacher_record * out = reinterpret_cast<distill_teacher_record *>(0x1);
    CHECK(distill_teacher_query_cached(teacher.get(), store.get(), R"({"prompt": "x"})", &out) ==
          DISTILL_STATUS_CANCELLED);
    CHECK(last_error() ==
          "teacher callback 'stopper' asked to stop (returned DISTILL_STATUS_CANCELLED)");
    CHECK(out == reinterpret_cast<distill_teacher_record *>(0x1));
    CHECK(distill_teacher_query(teacher.get(), "{}", &out) == DISTILL_STATUS_CANCELLED);
    CHECK(store.stats().records == 0);
    CHECK(counter.calls == 2);
    // The C++ wrapper throws with the status.
    try {
        teacher.query("{}");
        CHECK(false);
    } catch (const distill::Exception & e) {
        CHECK(e.status() == DISTILL_STATUS_CANCELLED);
    }
}

TEST_CASE("teacher: creation and query errors name the argument") {
    answer_counter counter;
    distill_teacher * teacher = nullptr;
    CHECK(distill_teacher_create_callback(nullptr, &counter, nullptr, &teacher) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error() == "fn: expected a distill_teacher_callback, got NULL");
    CHECK(distill_teacher_create_callback(count_and_answer, &counter, nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error() == "out: expected a place for the new teacher, got NULL");
    distill_callback_teacher_options options;
    CHECK(distill_callback_teacher_options_init(nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_callback_teacher_options_init(&options) == DISTILL_STATUS_OK);
    CHECK(std::string(options.name) == "callback");
    options.parameters_json = "{not json";
    CHECK(distill_teacher_create_callback(count_and_answer, &counter, &options, &teacher) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error().find("options.parameters_json: expected valid JSON, got a parse error") ==
          0);
    options.parameters_json = nullptr;
    options.name = nullptr;
    CHECK(distill_teacher_create_callback(count_and_answer, &counter, &options, &teacher) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error() == "options.name: expected the teacher's name, got NULL");
    CHECK(teacher == nullptr);
    CHECK(distill_teacher_create_callback(count_and_answer, &counter, nullptr, &teacher) ==
          DISTILL_STATUS_OK);

    distill_teacher_record * out = nullptr;
    CHECK(distill_teacher_query(nullptr, "{}", &out) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error() == "teacher: expected a teacher from distill_teacher_create_*, got NULL");
    CHECK(distill_teacher_query(teacher, nullptr, &out) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error() == "request_json: expected JSON text, got NULL");
    CHECK(distill_teacher_query(teacher, "[1,", &out) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error().find("request_json: expected valid JSON") == 0);
    CHECK(distill_teacher_query(teacher, "{}", nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error() == "out: expected a place for the record, got NULL");
    CHECK(distill_teacher_query_cached(teacher, nullptr, "{}", &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error() == "store: expected a store from distill_store_open, got NULL");
    CHECK(out == nullptr);
    CHECK(counter.calls == 0);  // no invalid call reached the callback
    distill_teacher_free(teacher);
    distill_teacher_free(nullptr);
}
