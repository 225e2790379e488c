// The C++ wrapper itself (distill.hpp): its options start from the C
// *_init defaults, every handle moves and frees (ASan in the sanitize
// preset sees a leak or a double free), and std::function progress and
// teacher callbacks cancel, and carry their exceptions across the C call.
#include <distill/distill.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "student_test_support.h"
#include "temp_dir.h"

namespace {

// The wrapper's options equal, byte for byte, what the C *_init writes.
template <class Wrapper, class C> void expect_init_defaults(distill_status (*init)(C *)) {
    C reference;
    std::memset(&reference, 0, sizeof reference);
    REQUIRE(init(&reference) == DISTILL_STATUS_OK);
    const Wrapper wrapped;
    const C & c = wrapped;  // the conversion the C-struct overloads use
    CHECK(c.struct_size == sizeof(C));
    CHECK(std::memcmp(&c, &reference, sizeof(C)) == 0);
}

distill::Dataset synthetic_dataset(test::synthetic_set & set) {
    return distill::Dataset::create(*set.inputs.dl(), set.labels.dl());
}

}  // namespace

TEST_CASE("hpp: every options wrapper starts from its C *_init defaults") {
    expect_init_defaults<distill::ContextOptions>(distill_context_options_init);
    expect_init_defaults<distill::KdLossOptions>(distill_kd_loss_options_init);
    expect_init_defaults<distill::StoreOptions>(distill_store_options_init);
    expect_init_defaults<distill::CallbackTeacherOptions>(distill_callback_teacher_options_init);
    expect_init_defaults<distill::HttpTeacherOptions>(distill_http_teacher_options_init);
    expect_init_defaults<distill::CollectOptions>(distill_collect_options_init);
    expect_init_defaults<distill::AskOptions>(distill_ask_options_init);
    expect_init_defaults<distill::ModelTeacherOptions>(distill_model_teacher_options_init);
    expect_init_defaults<distill::TrainerOptions>(distill_trainer_options_init);
    expect_init_defaults<distill::FitOptions>(distill_fit_options_init);
    expect_init_defaults<distill::Batch>(distill_batch_init);
    // A few values spelled out, so a wrong init function cannot pass.
    CHECK(distill::HttpTeacherOptions()->timeout_ms == 600000);
    CHECK(distill::HttpTeacherOptions()->low_speed_seconds == 60);
    CHECK(distill::KdLossOptions()->ignore_index == -100);
    CHECK(distill::FitOptions()->epochs == 10);
}

TEST_CASE("hpp: handles are move-only and moving leaves the source empty") {
    static_assert(!std::is_copy_constructible_v<distill::Context>);
    static_assert(!std::is_copy_assignable_v<distill::Model>);
    static_assert(std::is_nothrow_move_constructible_v<distill::Store>);
    static_assert(std::is_nothrow_move_assignable_v<distill::Teacher>);

    test::temp_dir dir("distill-hpp-handles");
    test::synthetic_set set = test::make_synthetic_set(8, 12, 4, 3);

    distill::Context context;
    distill::Context context2(std::move(context));
    CHECK_FALSE(context);
    REQUIRE(context2);

    distill::TeacherRecord record;
    distill::TeacherRecord record2 = std::move(record);
    CHECK(record.get() == nullptr);
    record2.set_string(DISTILL_RECORD_TEXT, "kept");
    CHECK(record2.text() == "kept");

    distill::Store store((dir.path() / "s.db").string());
    distill::Store store2((dir.path() / "t.db").string());
    store2 = std::move(store);  // frees t.db's handle, takes s.db's
    CHECK_FALSE(store);
    CHECK(store2.stats().records == 0);

    distill::Model model = distill::Model::create(test::small_mlp, 1);
    distill::Model model2 = std::move(model);
    CHECK_FALSE(model);
    CHECK(model2.inputs() == 12);

    distill::Teacher teacher = distill::Teacher::model(context2, model2);
    distill::Teacher teacher2 = distill::Teacher::callback(
        [](const char *, distill_teacher_record *) { return DISTILL_STATUS_OK; },
        distill::CallbackTeacherOptions());
    teacher2 = std::move(teacher);  // the callback teacher and its function go
    CHECK_FALSE(teacher);

    distill::Dataset data = synthetic_dataset(set);
    distill::Dataset data2 = std::move(data);
    CHECK_FALSE(data);
    CHECK(data2.rows() == 8);

    distill::Trainer trainer(context2, model2, distill::TrainerOptions());
    distill::Trainer trainer2 = std::move(trainer);
    CHECK_FALSE(trainer);
    CHECK(trainer2.position().second == 0);

    // release() gives the handle up; reset() frees it.
    distill_model * raw = model2.release();
    CHECK_FALSE(model2);
    distill::Model::create(test::small_mlp);  // a temporary, freed at once
    distill_model_free(raw);
    record2.reset();
    CHECK_FALSE(record2);
}

TEST_CASE("hpp: fit's std::function progress sees epochs, cancels, and rethrows") {
    test::synthetic_set set = test::make_synthetic_set(32, 12, 4, 5);
    distill::Context cpu(distill::ContextOptions::cpu(1));
    distill::Dataset data = synthetic_dataset(set);
    distill::TrainerOptions trainer_options;
    distill::KdLossOptions labels_only;
    labels_only->soft_weight = 0.0f;
    labels_only->hard_weight = 1.0f;
    trainer_options->loss = &labels_only.get();

    SUBCASE("every epoch end is seen") {
        distill::Model model = distill::Model::create(test::small_mlp, 2);
        distill::Trainer trainer(cpu, model, trainer_options);
        distill::FitOptions fit;
        fit->epochs = 3;
        fit->batch_size = 8;
        int epoch_ends = 0;
        fit.on_progress([&](const distill_progress & p) {
            if (p.event == DISTILL_PROGRESS_EPOCH_END) ++epoch_ends;
            return true;
        });
        const distill_fit_summary summary = trainer.fit(data, fit);
        CHECK(summary.epochs_run == 3);
        CHECK(epoch_ends == 3);
    }
    SUBCASE("false cancels: CANCELLED, the first epoch kept") {
        distill::Model model = distill::Model::create(test::small_mlp, 2);
        distill::Trainer trainer(cpu, model, trainer_options);
        distill::FitOptions fit;
        fit->epochs = 5;
        fit->batch_size = 8;
        fit.on_progress([](const distill_progress & p) {
            return p.event != DISTILL_PROGRESS_EPOCH_END;
        });
        try {
            trainer.fit(data, fit);
            FAIL("fit was not cancelled");
        } catch (const distill::Exception & e) {
            CHECK(e.status() == DISTILL_STATUS_CANCELLED);
        }
        CHECK(trainer.position().first == 1);
    }
    SUBCASE("an exception from the callback is rethrown as itself") {
        distill::Model model = distill::Model::create(test::small_mlp, 2);
        distill::Trainer trainer(cpu, model, trainer_options);
        distill::FitOptions fit;
        fit->epochs = 2;
        fit.on_progress([](const distill_progress &) -> bool {
            throw std::logic_error("listener broke");
        });
        CHECK_THROWS_WITH_AS(trainer.fit(data, fit), "listener broke", std::logic_error);
        // Nothing is left pending: the next failure is the library's own.
        CHECK_THROWS_AS(distill::Model::create("{}"), distill::Exception);
    }
}

TEST_CASE("hpp: ask_teacher and collect progress cancel and rethrow; so does a teacher") {
    test::temp_dir dir("distill-hpp-progress");
    test::synthetic_set set = test::make_synthetic_set(16, 12, 4, 7);
    distill::Context cpu(distill::ContextOptions::cpu(1));
    distill::Model model = distill::Model::create(test::small_mlp, 4);
    distill::Teacher teacher = distill::Teacher::model(cpu, model);
    distill::Dataset data = synthetic_dataset(set);

    distill::AskOptions ask;
    ask->batch_size = 4;
    int batches = 0;
    ask.on_progress([&](const distill_progress & p) {
        CHECK(p.event == DISTILL_PROGRESS_ASK);
        return ++batches < 2;
    });
    CHECK_THROWS_AS(data.ask_teacher(teacher, nullptr, ask), distill::Exception);
    CHECK(batches == 2);
    ask.on_progress([](const distill_progress &) -> bool { throw std::range_error("ask"); });
    CHECK_THROWS_AS(data.ask_teacher(teacher, nullptr, ask), std::range_error);
    ask.on_progress(nullptr);
    CHECK(data.ask_teacher(teacher, nullptr, ask).first == 16);

    int answered = 0;
    distill::CallbackTeacherOptions named;
    named->name = "hpp";
    distill::Teacher echo = distill::Teacher::callback(
        [&](const char * request, distill_teacher_record * record) {
            ++answered;
            if (std::string(request).find("boom") != std::string::npos)
                throw std::runtime_error("teacher threw");
            return distill_teacher_record_set_string(record, DISTILL_RECORD_TEXT, request);
        },
        named);
    CHECK(echo.query(R"({"prompt": "a"})").text() == R"({"prompt":"a"})");
    CHECK_THROWS_WITH_AS(echo.query(R"({"prompt": "boom"})"), "teacher threw",
                         std::runtime_error);

    distill::Store store((dir.path() / "c.db").string());
    distill::CollectOptions job;
    int reports = 0;
    job.on_progress([&](const distill_collect_summary &) {
        ++reports;
        return true;
    });
    const distill_collect_summary summary =
        distill::collect(echo, store, {R"({"prompt": "b"})", R"({"prompt": "c"})"}, job);
    CHECK(summary.succeeded == 2);
    CHECK(reports >= 1);
    job.on_progress([](const distill_collect_summary &) -> bool {
        throw std::invalid_argument("collect listener");
    });
    CHECK_THROWS_AS(distill::collect(echo, store, {R"({"prompt": "d"})"}, job),
                    std::invalid_argument);
    CHECK(answered >= 3);
}

TEST_CASE("hpp: the example wire format round-trips; a borrowed record answers a classification") {
    // Bytes / 255 travel as uint8, anything else as float32: both exact.
    const std::vector<float> bytes = {0.0f, 1.0f / 255.0f, 1.0f};
    const std::vector<float> floats = {0.5f, -1.25f, 3.0e-7f};
    for (const std::vector<float> & features : {bytes, floats}) {
        const std::string json = distill::example_request_json(features);
        CHECK(json.find("\"input\"") != std::string::npos);
        CHECK(distill::example_request_features(json) == features);
        CHECK(distill::example_request_features(json, 3) == features);
        CHECK_THROWS_AS(distill::example_request_features(json, 4), distill::Exception);
    }
    CHECK(distill::example_request_json(bytes).find("uint8") != std::string::npos);
    CHECK(distill::example_request_json(floats).find("float32") != std::string::npos);
    try {
        distill::example_request_features("{\"no_input\": 1}");
        FAIL("a request without input was accepted");
    } catch (const distill::Exception & e) {
        CHECK(e.status() == DISTILL_STATUS_INVALID_ARGUMENT);
        CHECK(std::string(e.what()).find("input") != std::string::npos);
    }
    CHECK_THROWS_AS(distill::example_request_json(nullptr, 3), distill::Exception);

    // logits {0, ln 3, 0} / T=1: p = {0.2, 0.6, 0.2}; top-2 = class 1, then
    // class 0 (ties go to the lower index).
    distill::TeacherRecord owned;
    distill::RecordView record = owned.view();
    record.set_string(DISTILL_RECORD_MODEL, "kept");
    const float logits[3] = {0.0f, std::log(3.0f), 0.0f};
    record.set_classification(logits, 3, 1.0f, 2);
    CHECK(owned.position_count() == 1);
    const auto position = owned.position(0);
    CHECK(position.id == 1);
    CHECK(position.token == "1");
    CHECK(position.logprob == doctest::Approx(std::log(0.6)).epsilon(1e-6));
    CHECK(position.top_k == 2);
    std::vector<int32_t> ids;
    std::vector<float> logprobs;
    std::vector<std::string> tokens;
    owned.topk(0, ids, logprobs, &tokens);
    CHECK(ids == std::vector<int32_t>{1, 0});
    CHECK(tokens == std::vector<std::string>{"1", "0"});
    CHECK(logprobs[1] == doctest::Approx(std::log(0.2)).epsilon(1e-6));
    CHECK(owned.integer(DISTILL_RECORD_LOGPROBS_KIND) == DISTILL_LOGPROBS_RAW);
    CHECK(owned.string(DISTILL_RECORD_MODEL) == "kept");  // other fields left as they were
    int32_t first = -7;
    CHECK(owned.copy_topk(0, 1, &first, nullptr) == 1);
    CHECK(first == 1);
    CHECK_THROWS_AS(record.set_classification(logits, 3, 0.0f, 0), distill::Exception);

    record.append_embedding(logits, 3);
    CHECK(owned.embedding_count() == 1);
    CHECK(owned.embedding(0) == std::vector<float>(logits, logits + 3));
}
