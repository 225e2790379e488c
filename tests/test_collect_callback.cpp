// distill_collect with a callback teacher: one request at a time on the
// calling thread, the same skip-what-is-stored rule as HTTP teachers.
#include <doctest/doctest.h>

#include <thread>

#include "store_test_support.h"

namespace {

struct thread_check {
    std::thread::id caller;
    bool other_thread = false;
    int calls = 0;
    int cancel_at = -1;  // return CANCELLED on this call number; -1 = never
};

distill_status answer_on_caller(void * user_data, const char * request_json,
                                distill_teacher_record * record) {
    auto & check = *static_cast<thread_check *>(user_data);
    ++check.calls;
    if (std::this_thread::get_id() != check.caller) check.other_thread = true;
    if (check.calls == check.cancel_at) return DISTILL_STATUS_CANCELLED;
    const std::string text = std::string("seen ") + request_json;
    distill_teacher_record_set_string(record, DISTILL_RECORD_TEXT, text.c_str());
    distill_teacher_record_set_int(record, DISTILL_RECORD_COMPLETION_TOKENS, 2);
    return DISTILL_STATUS_OK;
}

std::vector<std::string> prompts(int count) {
    std::vector<std::string> requests;
    for (int i = 0; i < count; ++i)
        requests.push_back(R"({"prompt": "p)" + std::to_string(i) + "\"}");
    return requests;
}

}  // namespace

TEST_CASE("collect: a callback teacher is asked in turn on the calling thread, once per key") {
    thread_check check;
    check.caller = std::this_thread::get_id();
    distill::Teacher teacher = distill::Teacher::callback(answer_on_caller, &check, "cb");
    store_test::temp_dir dir;
    distill::Store store(dir.file("run.db"));
    distill::CollectOptions o;
    o.get().concurrency = 16;  // no effect on a callback teacher
    o.get().price_completion = 1.0;

    distill_collect_summary s = distill::collect(teacher, store, prompts(12), o);
    CHECK_FALSE(check.other_thread);
    CHECK(check.calls == 12);
    CHECK(s.asked == 12);
    CHECK(s.succeeded == 12);
    CHECK(s.completion_tokens == 24);
    CHECK(s.cost_usd == doctest::Approx(24.0 / 1e6));
    CHECK(store.stats().records == 12);

    s = distill::collect(teacher, store, prompts(15), o);
    CHECK(check.calls == 15);
    CHECK(s.answered_from_store == 12);
    CHECK(s.asked == 3);
}

TEST_CASE("collect: a callback returning CANCELLED stops the job; what it answered is kept") {
    thread_check check;
    check.caller = std::this_thread::get_id();
    check.cancel_at = 4;
    distill::Teacher teacher = distill::Teacher::callback(answer_on_caller, &check, "cb");
    store_test::temp_dir dir;
    distill::Store store(dir.file("run.db"));
    try {
        distill::collect(teacher, store, prompts(10));
        FAIL("expected CANCELLED");
    } catch (const distill::Exception & e) {
        CHECK(e.status() == DISTILL_STATUS_CANCELLED);
    }
    CHECK(store.stats().records == 3);
    check.cancel_at = -1;
    const distill_collect_summary s = distill::collect(teacher, store, prompts(10));
    CHECK(s.answered_from_store == 3);
    CHECK(s.asked == 7);
}

TEST_CASE("collect: a callback's INVALID_ARGUMENT is fatal unless stop_on_fatal_error is off") {
    store_test::answer_counter counter;
    counter.result = DISTILL_STATUS_INVALID_ARGUMENT;
    distill::Teacher teacher =
        distill::Teacher::callback(store_test::count_and_answer, &counter, "down");
    store_test::temp_dir dir;
    distill::Store store(dir.file("run.db"));
    try {
        distill::collect(teacher, store, prompts(5));
        FAIL("expected the job to stop");
    } catch (const distill::Exception & e) {
        CHECK(e.status() == DISTILL_STATUS_INVALID_ARGUMENT);
        CHECK(std::string(e.what()).find("teacher is down") != std::string::npos);
    }
    CHECK(counter.calls == 1);
    CHECK(store.stats().failures == 1);

    distill::CollectOptions go_on;
    go_on.get().stop_on_fatal_error = 0;
    const distill_collect_summary s = distill::collect(teacher, store, prompts(5), go_on);
    CHECK(counter.calls == 6);
    CHECK(s.failed == 5);
}
