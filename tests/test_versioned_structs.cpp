// The one rule for the caller's versioned structs (distill.h, "Versioned
// structs"), over every result struct the library fills and the options it
// reads: a struct_size is accepted only at a field boundary (a field's end,
// or that prefix's sizeof with its tail padding), and a result is written
// only that far, every byte past it untouched. 0, a size inside a field
// (12 in distill_collect_summary: half of `requests`) and a size larger
// than the library's sizeof are refused, naming the struct, the accepted
// sizes and the size given, and nothing is written.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "student_test_support.h"
#include "temp_dir.h"

namespace {

// A field of the struct under test: offset and size (the expected accepted
// sizes are worked out here from offsetof, not read from the library).
struct field {
    size_t offset, size, align;
};
#define FIELD(T, f) \
    field { offsetof(T, f), sizeof(T::f), alignof(decltype(T::f)) }

// The sizes a caller may pass: each field's end after struct_size, and the
// sizeof of the prefix struct ending there (its end rounded up to the
// prefix's alignment).
std::set<uint32_t> boundaries(const std::vector<field> & fields) {
    std::set<uint32_t> sizes;
    size_t align = 4;
    for (const field & f : fields) {
        align = std::max(align, f.align);
        const size_t end = f.offset + f.size;
        sizes.insert(uint32_t(end));
        sizes.insert(uint32_t((end + align - 1) / align * align));
    }
    return sizes;
}

constexpr unsigned char guard = 0xA5;

// Calls `call` on a buffer of the struct's size plus 16 guard bytes, whose
// struct_size is `size` and whose other bytes are `guard`.
template <class T>
std::vector<unsigned char> call_with(uint32_t size, const std::function<distill_status(T *)> & call,
                                     distill_status & status) {
    // Aligned storage for T, with room past its end.
    struct alignas(T) buffer_t {
        unsigned char bytes[sizeof(T) + 16];
    } buffer;
    std::memset(buffer.bytes, guard, sizeof buffer.bytes);
    std::memcpy(buffer.bytes, &size, sizeof size);
    status = call(reinterpret_cast<T *>(buffer.bytes));
    return std::vector<unsigned char>(buffer.bytes, buffer.bytes + sizeof buffer.bytes);
}

// The rule, for one result struct: every size in [0, sizeof + 16] is tried.
template <class T>
void check_result_struct(const char * name, const std::vector<field> & fields,
                         const std::function<distill_status(T *)> & call) {
    const std::set<uint32_t> accepted = boundaries(fields);
    REQUIRE(*accepted.rbegin() == sizeof(T));
    const field first = fields.front();
    for (uint32_t size = 0; size <= sizeof(T) + 16; ++size) {
        CAPTURE(name);
        CAPTURE(size);
        distill_status status = DISTILL_STATUS_OK;
        const std::vector<unsigned char> bytes = call_with<T>(size, call, status);
        uint32_t size_after = 0;
        std::memcpy(&size_after, bytes.data(), sizeof size_after);
        CHECK(size_after == size);  // struct_size keeps the caller's value
        if (accepted.count(size)) {
            REQUIRE(status == DISTILL_STATUS_OK);
            // The first field was written (no value of it is all guard bytes).
            bool written = false;
            for (size_t i = first.offset; i < first.offset + first.size; ++i)
                written = written || bytes[i] != guard;
            CHECK(written);
            // Nothing past the caller's prefix.
            size_t touched = 0;
            for (size_t i = size; i < bytes.size(); ++i) touched += bytes[i] != guard;
            CHECK(touched == 0);
        } else {
            REQUIRE(status == DISTILL_STATUS_INVALID_ARGUMENT);
            const std::string message = test::last_error();
            CHECK(message.find(std::string("struct_size: expected sizeof(") + name + ") (" +
                               std::to_string(sizeof(T)) + ")") != std::string::npos);
            CHECK(message.find("got " + std::to_string(size)) != std::string::npos);
            // The accepted sizes are listed: the smallest one at least.
            CHECK(message.find("(" + std::to_string(*accepted.begin())) != std::string::npos);
            if (size > sizeof(T)) CHECK(message.find("newer than the library") != std::string::npos);
            size_t touched = 0;
            for (size_t i = 4; i < bytes.size(); ++i) touched += bytes[i] != guard;
            CHECK(touched == 0);
        }
    }
}

distill_status answer_ok(void *, const char *, distill_teacher_record * record) {
    return distill_teacher_record_set_string(record, DISTILL_RECORD_TEXT, "yes");
}

distill::Teacher http_teacher() {
    distill_http_teacher_options options;
    distill::check(distill_http_teacher_options_init(&options));
    options.base_url = "http://127.0.0.1:9/v1";  // never contacted
    options.model = "gpt-4o-mini";
    return distill::Teacher::http(options);
}

const char * const chat_request = R"({"messages": [{"role": "user", "content": "hi"}]})";

}  // namespace

TEST_CASE("versioned structs: distill_collect_summary with struct_size 12 is refused") {
    test::temp_dir dir;
    distill::Store store(dir.file("run.db").string());
    distill::Teacher teacher = distill::Teacher::callback(&answer_ok, nullptr, "t");
    distill_status status = DISTILL_STATUS_OK;
    const std::vector<unsigned char> bytes = call_with<distill_collect_summary>(
        12,
        [&](distill_collect_summary * out) {
            return distill_collect(teacher.get(), store.get(), &chat_request, 1, nullptr, out);
        },
        status);
    CHECK(status == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().rfind(
              "summary_out->struct_size: expected sizeof(distill_collect_summary) (88) or the size "
              "of an older version of it (16, 24, 32, 40, 48, 56, 64, 72, 80), got 12",
              0) == 0);
    for (size_t i = 4; i < bytes.size(); ++i) CHECK(bytes[i] == guard);
    CHECK(store.stats().records == 0);  // refused before anything was asked
}

TEST_CASE("versioned structs: distill_collect_summary, every size") {
    test::temp_dir dir;
    distill::Store store(dir.file("run.db").string());
    distill::Teacher teacher = distill::Teacher::callback(&answer_ok, nullptr, "t");
    using S = distill_collect_summary;
    check_result_struct<S>(
        "distill_collect_summary",
        {FIELD(S, requests), FIELD(S, answered_from_store), FIELD(S, asked), FIELD(S, succeeded),
         FIELD(S, failed), FIELD(S, prompt_tokens), FIELD(S, cached_tokens),
         FIELD(S, completion_tokens), FIELD(S, cost_usd), FIELD(S, elapsed_seconds)},
        [&](S * out) {
            return distill_collect(teacher.get(), store.get(), &chat_request, 1, nullptr, out);
        });
}

TEST_CASE("versioned structs: distill_store_stats, every size") {
    test::temp_dir dir;
    distill::Store store(dir.file("run.db").string());
    using S = distill_store_stats;
    check_result_struct<S>(
        "distill_store_stats",
        {FIELD(S, records), FIELD(S, failures), FIELD(S, positions), FIELD(S, blob_bytes),
         FIELD(S, finished_stop), FIELD(S, finished_length), FIELD(S, finished_content_filter),
         FIELD(S, finished_tool_calls), FIELD(S, finished_other), FIELD(S, finish_not_given),
         FIELD(S, other_model)},
        [&](S * out) { return distill_store_get_stats(store.get(), out); });
}

TEST_CASE("versioned structs: the Batch API summaries, every size") {
    test::temp_dir dir;
    distill::Store store(dir.file("run.db").string());
    distill::Teacher teacher = http_teacher();
    const std::string input = dir.file("input.jsonl").string();
    {
        using S = distill_batch_build_summary;
        check_result_struct<S>(
            "distill_batch_build_summary",
            {FIELD(S, requests), FIELD(S, written), FIELD(S, already_stored), FIELD(S, repeated)},
            [&](S * out) {
                return distill_batch_build(teacher.get(), nullptr, &chat_request, 1, nullptr,
                                           input.c_str(), out);
            });
    }
    {
        const std::string output = dir.file("output.jsonl").string();
        std::ofstream(output) << "not json\n";  // one malformed line: counted, not fatal
        using S = distill_batch_ingest_summary;
        check_result_struct<S>(
            "distill_batch_ingest_summary",
            {FIELD(S, lines), FIELD(S, succeeded), FIELD(S, failed), FIELD(S, already_stored),
             FIELD(S, unknown), FIELD(S, malformed)},
            [&](S * out) {
                return distill_batch_ingest(teacher.get(), store.get(), &chat_request, 1,
                                            output.c_str(), nullptr, nullptr, out);
            });
    }
}

TEST_CASE("versioned structs: the trainer's step metrics, evaluation and fit summary") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(16, 12, 4, 5);
    distill::Model model = distill::Model::create(test::small_mlp, 1);
    distill_kd_loss_options loss;
    distill::check(distill_kd_loss_options_init(&loss));
    loss.soft_weight = 0.0f;
    loss.hard_weight = 1.0f;
    distill_trainer_options options;
    distill::check(distill_trainer_options_init(&options));
    options.loss = &loss;
    distill::Trainer trainer(cpu, model, options);
    distill::Dataset data = distill::Dataset::create(*set.inputs.dl(), set.labels.dl());
    {
        distill_batch batch;
        distill::check(distill_batch_init(&batch));
        batch.inputs = set.inputs.dl();
        batch.labels = set.labels.dl();
        using S = distill_step_metrics;
        check_result_struct<S>("distill_step_metrics",
                               {FIELD(S, step), FIELD(S, loss), FIELD(S, learning_rate),
                                FIELD(S, grad_norm), FIELD(S, accuracy), FIELD(S, agreement)},
                               [&](S * out) { return distill_trainer_step(trainer.get(), &batch, out); });
    }
    {
        using S = distill_eval_metrics;
        check_result_struct<S>("distill_eval_metrics",
                               {FIELD(S, examples), FIELD(S, accuracy), FIELD(S, agreement),
                                FIELD(S, mean_kl), FIELD(S, ece), FIELD(S, loss)},
                               [&](S * out) {
                                   return distill_model_evaluate(cpu.get(), model.get(), data.get(),
                                                                 out);
                               });
    }
    {
        distill_fit_options fit;
        distill::check(distill_fit_options_init(&fit));
        fit.epochs = 1;
        fit.batch_size = 16;
        using S = distill_fit_summary;
        check_result_struct<S>(
            "distill_fit_summary",
            {FIELD(S, epochs_run), FIELD(S, stopped_early), FIELD(S, best_epoch),
             FIELD(S, best_val_accuracy), FIELD(S, steps), FIELD(S, seconds)},
            [&](S * out) {
                return distill_trainer_fit(trainer.get(), data.get(), &fit, out);
            });
    }
}

TEST_CASE("versioned structs: options are read by the same rule") {
    // distill_store_options {uint32 struct_size; int32 read_only; int32
    // busy_timeout_ms}: 8 and 12 are versions, 4 (no field), 6, 0 and 16
    // are not.
    test::temp_dir dir;
    const std::string path = dir.file("run.db").string();
    for (const uint32_t size : {0u, 4u, 6u, 10u, 16u}) {
        CAPTURE(size);
        distill_store_options options;
        distill::check(distill_store_options_init(&options));
        options.struct_size = size;
        distill_store * out = nullptr;
        CHECK(distill_store_open(path.c_str(), &options, &out) == DISTILL_STATUS_INVALID_ARGUMENT);
        CHECK(out == nullptr);
        CHECK(test::last_error().rfind(
                  "options.struct_size: expected sizeof(distill_store_options) (12) or the size of "
                  "an older version of it (8), got " +
                      std::to_string(size),
                  0) == 0);
    }
    // An older caller's 8 bytes: read_only is read, busy_timeout_ms keeps
    // its default (a -1 past the prefix would be refused if it were read).
    distill_store_options older;
    distill::check(distill_store_options_init(&older));
    older.struct_size = 8;
    older.busy_timeout_ms = -1;
    distill_store * out = nullptr;
    CHECK(distill_store_open(path.c_str(), &older, &out) == DISTILL_STATUS_OK);
    distill_store_free(out);

    // A size inside the kd-loss options' int64 ignore_index is refused too.
    distill_kd_loss_options loss;
    distill::check(distill_kd_loss_options_init(&loss));
    loss.struct_size = uint32_t(offsetof(distill_kd_loss_options, ignore_index) + 4);
    distill_trainer_options trainer_options;
    distill::check(distill_trainer_options_init(&trainer_options));
    trainer_options.loss = &loss;
    const distill::Context cpu;
    distill::Model model = distill::Model::create(test::small_mlp, 1);
    distill_trainer * trainer = nullptr;
    CHECK(distill_trainer_create(cpu.get(), model.get(), &trainer_options, &trainer) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("sizeof(distill_kd_loss_options)") != std::string::npos);
    CHECK(trainer == nullptr);
}
