// distill_dataset_*: creation, views, slices, teacher targets, and asking
// a teacher about every example through a store (a second run asks nothing).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "student_test_support.h"

namespace {

std::filesystem::path fresh_store(const std::string & name) {
    const auto dir = std::filesystem::temp_directory_path() / "distill_dataset_abi";
    std::filesystem::create_directories(dir);
    const auto path = dir / name;
    for (const char * suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path.string() + suffix);
    return path;
}

// A callback teacher that answers every request with the same 3 classes,
// counting its calls; `broken` makes it answer without top-k.
struct fixed_teacher {
    int calls = 0;
    bool broken = false;
    static distill_status answer(void * user_data, const char *, distill_teacher_record * record) {
        auto * self = static_cast<fixed_teacher *>(user_data);
        ++self->calls;
        const int32_t ids[3] = {2, 0, 1};
        const float logprobs[3] = {-0.2f, -2.0f, -3.0f};
        return distill_teacher_record_append_position(record, "2", nullptr, 0, 2, -0.2f,
                                                      self->broken ? 0 : 3, ids, nullptr, logprobs);
    }
};

}  // namespace

TEST_CASE("dataset: views of the copied inputs and labels, slices, teacher targets") {
    test::synthetic_set set = test::make_synthetic_set(10, 12, 4, 3);
    distill::Dataset data = distill::Dataset::create(*set.inputs.dl(), set.labels.dl());
    CHECK(data.rows() == 10);
    CHECK(data.features() == 12);
    const DLTensor inputs = *data.field(DISTILL_DATASET_INPUTS);
    CHECK(inputs.data != set.inputs.dl()->data);  // copied in
    CHECK(static_cast<const float *>(inputs.data)[13] ==
          static_cast<const float *>(set.inputs.dl()->data)[13]);
    CHECK(data.field(DISTILL_DATASET_LABELS)->shape[0] == 10);
    CHECK(!data.field(DISTILL_DATASET_TEACHER_LOGITS));
    data.set_teacher_logits(*set.teacher_logits.dl());
    CHECK(data.field(DISTILL_DATASET_TEACHER_LOGITS)->shape[1] == 4);

    distill::Dataset part = data.slice(4, 3);
    CHECK(part.rows() == 3);
    CHECK(static_cast<const int64_t *>(part.field(DISTILL_DATASET_LABELS)->data)[0] ==
          static_cast<const int64_t *>(set.labels.dl()->data)[4]);
    CHECK(static_cast<const float *>(part.field(DISTILL_DATASET_TEACHER_LOGITS)->data)[0] ==
          static_cast<const float *>(set.teacher_logits.dl()->data)[16]);

    test::host_tensor ids(test::storage::i64, {10, 2}, std::vector<double>(20, 1.0));
    test::host_tensor logprobs(test::storage::f32, {10, 2}, std::vector<double>(20, -1.0));
    data.set_teacher_topk(*ids.dl(), *logprobs.dl());
    CHECK(!data.field(DISTILL_DATASET_TEACHER_LOGITS));  // replaced
    CHECK(static_cast<const int32_t *>(data.field(DISTILL_DATASET_TEACHER_TOPK_IDS)->data)[5] == 1);
}

TEST_CASE("dataset errors: shapes, dtypes, ranges, NULL") {
    distill_dataset * out = nullptr;
    test::host_tensor vector(test::storage::f32, {10});
    CHECK(distill_dataset_create(vector.dl(), nullptr, &out) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("inputs: expected a matrix [rows, columns], got shape [10]") ==
          0);
    test::host_tensor inputs(test::storage::f32, {10, 3});
    test::host_tensor short_labels(test::storage::i64, {9});
    CHECK(distill_dataset_create(inputs.dl(), short_labels.dl(), &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("labels") == 0);
    test::host_tensor negative(test::storage::i64, {10}, std::vector<double>(10, -1.0));
    CHECK(distill_dataset_create(inputs.dl(), negative.dl(), &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("labels: expected class indices ≥ 0, got -1 at row 0") == 0);
    CHECK(out == nullptr);

    distill::Dataset data = distill::Dataset::create(*inputs.dl());
    distill_dataset * slice = nullptr;
    CHECK(distill_dataset_slice(data.get(), 8, 3, &slice) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("begin 8, count 3") != std::string::npos);
    CHECK(distill_dataset_load_fashion_mnist("validation", nullptr, 0, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("validation") != std::string::npos);
    CHECK(distill_dataset_load_idx("/nonexistent-images", "/nonexistent-labels", 0, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("/nonexistent-images") != std::string::npos);
    int32_t present = 0;
    DLTensor view{};
    CHECK(distill_dataset_get(data.get(), 9, &present, &view) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_dataset_get(nullptr, 0, &present, &view) == DISTILL_STATUS_INVALID_ARGUMENT);
    distill_dataset_free(nullptr);
    test::host_tensor wrong_rows(test::storage::f32, {9, 4});
    CHECK(distill_dataset_set_teacher_logits(data.get(), wrong_rows.dl()) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("logits: expected shape [10, C]") == 0);
}

TEST_CASE("ask_teacher through a store: the second run asks nothing and gives the same targets") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(300, 12, 4, 11);
    distill::Model teacher_model = distill::Model::create(test::small_mlp, 17);
    distill::Teacher teacher = distill::Teacher::model(cpu, teacher_model, "unit-teacher");
    const auto path = fresh_store("answers.db");
    std::vector<float> first_logprobs;
    {
        distill::Store store(path.string());
        distill::Dataset data = distill::Dataset::create(*set.inputs.dl());
        const auto [asked, from_store] = data.ask_teacher(teacher, &store);
        CHECK(asked == 300);
        CHECK(from_store == 0);
        const DLTensor lp = *data.field(DISTILL_DATASET_TEACHER_TOPK_LOGPROBS);
        CHECK(lp.shape[1] == 4);
        first_logprobs.assign(static_cast<const float *>(lp.data),
                              static_cast<const float *>(lp.data) + 1200);
        // The targets are the model's log-probabilities (stored as fp16).
        const std::vector<float> expected =
            teacher_model.predict(cpu, static_cast<const float *>(set.inputs.dl()->data), 300,
                                  DISTILL_OUTPUT_LOG_PROBABILITIES);
        const auto * ids =
            static_cast<const int32_t *>(data.field(DISTILL_DATASET_TEACHER_TOPK_IDS)->data);
        for (int r = 0; r < 300; r += 37)
            for (int j = 0; j < 4; ++j)
                CHECK(first_logprobs[size_t(r * 4 + j)] ==
                      doctest::Approx(expected[size_t(r * 4 + ids[r * 4 + j])]).epsilon(1e-3));
        CHECK(store.stats().records == 300);
    }
    distill::Store store(path.string());
    distill::Dataset again = distill::Dataset::create(*set.inputs.dl());
    const auto [asked, from_store] = again.ask_teacher(teacher, &store);
    CHECK(asked == 0);
    CHECK(from_store == 300);
    const DLTensor lp = *again.field(DISTILL_DATASET_TEACHER_TOPK_LOGPROBS);
    CHECK(std::vector<float>(static_cast<const float *>(lp.data),
                             static_cast<const float *>(lp.data) + 1200) == first_logprobs);
}

TEST_CASE(
    "ask_teacher with a callback teacher: answers, a broken answer named, a cancel keeps the "
    "dataset") {
    test::synthetic_set set = test::make_synthetic_set(5, 12, 4, 12);
    distill::Dataset data = distill::Dataset::create(*set.inputs.dl());
    fixed_teacher answers;
    distill::Teacher teacher = distill::Teacher::callback(fixed_teacher::answer, &answers, "fixed");
    data.ask_teacher(teacher, nullptr);
    CHECK(answers.calls == 5);
    CHECK(static_cast<const int32_t *>(data.field(DISTILL_DATASET_TEACHER_TOPK_IDS)->data)[0] == 2);

    fixed_teacher broken;
    broken.broken = true;
    distill::Teacher bad = distill::Teacher::callback(fixed_teacher::answer, &broken, "broken");
    distill::Dataset other = distill::Dataset::create(*set.inputs.dl());
    CHECK(distill_dataset_ask_teacher(other.get(), bad.get(), nullptr, nullptr, nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("teacher answer for example 0: expected a position with top-k") ==
          0);
    CHECK(!other.field(DISTILL_DATASET_TEACHER_TOPK_IDS));

    distill_ask_options options;
    distill::check(distill_ask_options_init(&options));
    options.batch_size = 2;
    options.progress = [](void *, const distill_progress * p) -> distill_status {
        return p->done >= 2 ? DISTILL_STATUS_CANCELLED : DISTILL_STATUS_OK;
    };
    distill::Dataset third = distill::Dataset::create(*set.inputs.dl());
    CHECK(distill_dataset_ask_teacher(third.get(), teacher.get(), nullptr, &options, nullptr,
                                      nullptr) == DISTILL_STATUS_CANCELLED);
    CHECK(!third.field(DISTILL_DATASET_TEACHER_TOPK_IDS));
}
