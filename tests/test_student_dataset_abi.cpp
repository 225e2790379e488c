// distill_dataset_*: creation, views, slices, teacher targets, asking a
// teacher about every example through a store (a second run asks nothing),
// and reading those answers back from the store without the teacher.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "student_test_support.h"
#include "temp_dir.h"

namespace {

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
          DISTILL_STATUS_NOT_FOUND);
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
    const test::temp_dir scratch("distill-dataset-abi");
    const auto path = scratch.file("answers.db");
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

namespace {

// The first line of the store's export: its provenance's "teacher" and
// "parameters" objects are what distill_dataset_read_teacher takes.
nlohmann::json first_exported_record(distill::Store & store, const std::filesystem::path & path) {
    store.export_jsonl(path.string());
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return nlohmann::json::parse(line);
}

std::vector<float> field_values(const distill::Dataset & data, distill_dataset_field field) {
    const DLTensor view = *data.field(field);
    const auto count = size_t(view.shape[0] * view.shape[1]);
    std::vector<float> out(count);
    for (size_t i = 0; i < count; ++i)
        out[i] = field == DISTILL_DATASET_TEACHER_TOPK_IDS
                     ? float(static_cast<const int32_t *>(view.data)[i])
                     : static_cast<const float *>(view.data)[i];
    return out;
}

// A callback teacher whose every answer is a failure.
distill_status failing_answer(void *, const char *, distill_teacher_record *) {
    return DISTILL_STATUS_INTERNAL;
}

}  // namespace

TEST_CASE("read_teacher: offline targets from a store equal those asked, with no teacher") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(300, 12, 4, 21);
    const test::temp_dir scratch("distill-dataset-abi");
    const auto path = scratch.file("offline.db");
    std::vector<float> asked_ids, asked_logprobs;
    nlohmann::json exported;
    {
        distill::Model teacher_model = distill::Model::create(test::small_mlp, 23);
        distill::Teacher teacher = distill::Teacher::model(cpu, teacher_model, "offline-teacher");
        distill::Store store(path.string());
        distill::Dataset asked = distill::Dataset::create(*set.inputs.dl());
        CHECK(asked.ask_teacher(teacher, &store).first == 300);
        asked_ids = field_values(asked, DISTILL_DATASET_TEACHER_TOPK_IDS);
        asked_logprobs = field_values(asked, DISTILL_DATASET_TEACHER_TOPK_LOGPROBS);
        exported = first_exported_record(store, scratch.file("offline.jsonl"));
    }
    // Another process, later: the store file only, opened read-only.
    distill::Store store(path.string(), /*read_only=*/true);
    distill::Dataset offline = distill::Dataset::create(*set.inputs.dl());
    offline.read_teacher(store);
    CHECK(offline.field(DISTILL_DATASET_TEACHER_TOPK_IDS)->shape[1] == 4);
    CHECK(field_values(offline, DISTILL_DATASET_TEACHER_TOPK_IDS) == asked_ids);
    CHECK(field_values(offline, DISTILL_DATASET_TEACHER_TOPK_LOGPROBS) == asked_logprobs);

    // The identity and parameters as the export shows them.
    const std::string identity = exported.at("provenance").at("teacher").dump();
    const std::string parameters = exported.at("provenance").at("parameters").dump();
    distill::Dataset named = distill::Dataset::create(*set.inputs.dl());
    named.read_teacher(store, identity.c_str(), parameters.c_str());
    CHECK(field_values(named, DISTILL_DATASET_TEACHER_TOPK_LOGPROBS) == asked_logprobs);

    // Part of the examples, as a dataset of its own: matched by content.
    distill::Dataset part = offline.slice(100, 50);
    distill::Dataset part_read = distill::Dataset::create(*part.field(DISTILL_DATASET_INPUTS));
    part_read.read_teacher(store, identity.c_str());
    CHECK(field_values(part_read, DISTILL_DATASET_TEACHER_TOPK_IDS) ==
          std::vector<float>(asked_ids.begin() + 400, asked_ids.begin() + 600));
}

TEST_CASE("read_teacher errors: arguments, unknown identity, missing answers, failures") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(20, 12, 4, 31);
    const test::temp_dir scratch("distill-dataset-abi");
    const auto path = scratch.file("offline_errors.db");
    distill::Store store(path.string());
    distill::Dataset data = distill::Dataset::create(*set.inputs.dl());

    CHECK(distill_dataset_read_teacher(nullptr, store.get(), nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("dataset: expected a dataset") == 0);
    CHECK(distill_dataset_read_teacher(data.get(), nullptr, nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("store: expected a store from distill_store_open") == 0);
    CHECK(distill_dataset_read_teacher(data.get(), store.get(), "{\"kind\": ", nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("teacher_identity_json: expected valid JSON") == 0);
    CHECK(distill_dataset_read_teacher(data.get(), store.get(), nullptr, "[1,") ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("teacher_parameters_json: expected valid JSON") == 0);

    // An empty store.
    CHECK(distill_dataset_read_teacher(data.get(), store.get(), nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("holds no answer to any of these 20 examples (0 records in "
                                  "all)") != std::string::npos);

    // Answers to the first 15 examples only.
    distill::Model teacher_model = distill::Model::create(test::small_mlp, 33);
    distill::Teacher teacher = distill::Teacher::model(cpu, teacher_model, "partial");
    distill::Dataset first = data.slice(0, 15);
    first.ask_teacher(teacher, &store);
    CHECK(distill_dataset_read_teacher(data.get(), store.get(), nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("for 15 of these 20 examples; 5 are missing, the first is "
                                  "example 15") != std::string::npos);
    CHECK(!data.field(DISTILL_DATASET_TEACHER_TOPK_IDS));  // unchanged

    // An identity that answered none of them: the message lists who did.
    const std::string identity =
        first_exported_record(store, scratch.file("errors.jsonl")).at("provenance").at("teacher").dump();
    CHECK(distill_dataset_read_teacher(first.get(), store.get(),
                                       R"({"kind": "model", "name": "someone else"})",
                                       nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    std::string message = test::last_error();
    CHECK(message.find("teacher_identity_json: store '") == 0);
    CHECK(message.find("holds no answer to any of these 15 examples from teacher "
                       R"({"kind":"model","name":"someone else"})") != std::string::npos);
    CHECK(message.find("it answers them from: " + identity) != std::string::npos);
    CHECK(message.find("(15 examples)") != std::string::npos);
    CHECK(distill_dataset_read_teacher(first.get(), store.get(), identity.c_str(),
                                       R"({"top_k": 3})") == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("teacher_parameters_json: ") == 0);

    // Stored failures are named, with how many there are.
    distill::Teacher failing = distill::Teacher::callback(failing_answer, nullptr, "failing");
    distill::Dataset last = data.slice(15, 5);
    CHECK(distill_dataset_ask_teacher(last.get(), failing.get(), store.get(), nullptr, nullptr,
                                      nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_dataset_read_teacher(last.get(), store.get(), nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    message = test::last_error();
    CHECK(message.find("the stored answer for example 0 is a failure (") != std::string::npos);
    CHECK(message.find("5 of the 5 stored answers are failures") != std::string::npos);
}

TEST_CASE("read_teacher with several teachers or parameter sets: NULL is refused, naming them") {
    test::synthetic_set set = test::make_synthetic_set(6, 12, 4, 41);
    const test::temp_dir scratch("distill-dataset-abi");
    const auto path = scratch.file("offline_several.db");
    distill::Store store(path.string());
    fixed_teacher answers;
    distill::Teacher one = distill::Teacher::callback(fixed_teacher::answer, &answers, "one");
    distill::Teacher two = distill::Teacher::callback(fixed_teacher::answer, &answers, "two");
    distill::Dataset data = distill::Dataset::create(*set.inputs.dl());
    data.ask_teacher(one, &store);
    data.slice(0, 4).ask_teacher(two, &store);

    distill::Dataset offline = distill::Dataset::create(*set.inputs.dl());
    CHECK(distill_dataset_read_teacher(offline.get(), store.get(), nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    const std::string message = test::last_error();
    CHECK(message.find("teacher_identity_json: store '") == 0);
    CHECK(message.find("answers these examples from 2 teachers; pass the identity of one: "
                       R"({"kind":"callback","model":"","name":"one"} (6 examples), )"
                       R"({"kind":"callback","model":"","name":"two"} (4 examples))") !=
          std::string::npos);
    offline.read_teacher(store, R"({"kind": "callback", "name": "one", "model": ""})");
    CHECK(static_cast<const int32_t *>(offline.field(DISTILL_DATASET_TEACHER_TOPK_IDS)->data)[0] ==
          2);

    // One teacher asked at two temperatures: the parameters choose.
    distill::Teacher cold =
        distill::Teacher::callback(fixed_teacher::answer, &answers, "three", "", R"({"t": 1})");
    distill::Teacher warm =
        distill::Teacher::callback(fixed_teacher::answer, &answers, "three", "", R"({"t": 2})");
    distill::Dataset both = distill::Dataset::create(*set.inputs.dl());
    both.ask_teacher(cold, &store);
    both.ask_teacher(warm, &store);
    const char * three = R"({"kind": "callback", "name": "three", "model": ""})";
    CHECK(distill_dataset_read_teacher(both.get(), store.get(), three, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("teacher_parameters_json: ") == 0);
    CHECK(test::last_error().find("asked with 2 parameter sets; pass the parameters of one: ") !=
          std::string::npos);
    CHECK(test::last_error().find(R"(with parameters {"t":2} (6 examples))") != std::string::npos);
    both.read_teacher(store, three, R"({"t": 2})");
    CHECK(both.field(DISTILL_DATASET_TEACHER_TOPK_IDS)->shape[1] == 3);

    distill::Dataset empty = data.slice(0, 0);
    CHECK(distill_dataset_read_teacher(empty.get(), store.get(), nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error() == "dataset: expected at least 1 example, got 0");
}

TEST_CASE("read_teacher: identical examples share one stored answer") {
    // Rows 0 and 2 are the same example: one request, one row in the store.
    const std::vector<double> values = {0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.1, 0.2, 0.3};
    test::host_tensor inputs(test::storage::f32, {3, 3}, values);
    const test::temp_dir scratch("distill-dataset-abi");
    const auto path = scratch.file("offline_duplicates.db");
    distill::Store store(path.string());
    fixed_teacher answers;
    distill::Teacher teacher = distill::Teacher::callback(fixed_teacher::answer, &answers, "dup");
    distill::Dataset asked = distill::Dataset::create(*inputs.dl());
    asked.ask_teacher(teacher, &store);
    CHECK(store.stats().records == 2);
    distill::Dataset offline = distill::Dataset::create(*inputs.dl());
    offline.read_teacher(store);
    CHECK(field_values(offline, DISTILL_DATASET_TEACHER_TOPK_IDS) ==
          field_values(asked, DISTILL_DATASET_TEACHER_TOPK_IDS));
}
