// distill_trainer_*: the distillation step, fit, evaluation, checkpoints
// and resume (bit-identical on the CPU), and the error paths.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "student_test_support.h"
#include "temp_dir.h"

namespace {

struct losses {
    distill_kd_loss_options options;
    losses(float soft, float hard, float temperature = 2.0f) {
        distill::check(distill_kd_loss_options_init(&options));
        options.soft_weight = soft;
        options.hard_weight = hard;
        options.temperature = temperature;
    }
};

distill_trainer_options make_options(const distill_kd_loss_options & loss, uint64_t seed = 3) {
    distill_trainer_options o;
    distill::check(distill_trainer_options_init(&o));
    o.optimizer_json = R"({"kind": "adamw", "lr": 0.01})";
    o.loss = &loss;
    o.seed = seed;
    return o;
}

distill::Dataset make_dataset(test::synthetic_set & set, bool teacher) {
    distill::Dataset data = distill::Dataset::create(*set.inputs.dl(), set.labels.dl());
    if (teacher) data.set_teacher_logits(*set.teacher_logits.dl());
    return data;
}

// Cancels the fit after `stop_after` steps.
struct canceller {
    int64_t steps = 0, stop_after;
    static distill_status callback(void * user_data, const distill_progress * p) {
        auto * self = static_cast<canceller *>(user_data);
        if (p->event == DISTILL_PROGRESS_STEP && ++self->steps == self->stop_after)
            return DISTILL_STATUS_CANCELLED;
        return DISTILL_STATUS_OK;
    }
};

}  // namespace

TEST_CASE("trainer step: the loss of a fixed batch falls, metrics are filled") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(64, 12, 4, 21);
    distill::Model model = distill::Model::create(test::small_mlp, 1);
    losses loss(0.5f, 0.5f);
    distill::Trainer trainer(cpu, model, make_options(loss.options));
    distill_batch batch;
    distill::check(distill_batch_init(&batch));
    batch.inputs = set.inputs.dl();
    batch.labels = set.labels.dl();
    batch.teacher_logits = set.teacher_logits.dl();
    const distill_step_metrics first = trainer.step(batch);
    CHECK(first.step == 1);
    CHECK(first.learning_rate == doctest::Approx(0.01));
    CHECK(first.grad_norm > 0.0f);
    CHECK(first.accuracy >= 0.0f);
    CHECK(first.agreement >= 0.0f);
    distill_step_metrics last{};
    for (int i = 0; i < 60; ++i) last = trainer.step(batch);
    CHECK(last.step == 61);
    CHECK(last.loss < 0.5f * first.loss);
    CHECK(last.accuracy > 0.8f);
    CHECK(trainer.position() == std::pair<int64_t, int64_t>{0, 61});

    // Rows labelled ignore_index (-100) count in neither the loss nor the
    // accuracy: with every other row ignored, the accuracy is that of row 0.
    for (size_t r = 1; r < set.labels.size(); ++r) set.labels.set(r, -100.0);
    batch.labels = set.labels.dl();
    const distill_step_metrics one_row = trainer.step(batch);
    CHECK((one_row.accuracy == 0.0f || one_row.accuracy == 1.0f));
    set.labels.set(0, -100.0);
    batch.labels = set.labels.dl();
    CHECK(std::isnan(trainer.step(batch).accuracy));
}

TEST_CASE("trainer step errors name what is missing or wrong; the model is unchanged") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(8, 12, 4, 2);
    distill::Model model = distill::Model::create(test::small_mlp, 1);
    const std::vector<float> before = test::all_parameters(model);
    losses soft(1.0f, 0.0f);
    distill::Trainer trainer(cpu, model, make_options(soft.options));
    distill_batch batch;
    distill::check(distill_batch_init(&batch));
    distill_step_metrics metrics{};
    metrics.struct_size = sizeof metrics;

    CHECK(distill_trainer_step(trainer.get(), &batch, &metrics) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error() == "batch.inputs: expected the batch's inputs [B, D], got NULL");
    batch.inputs = set.inputs.dl();
    CHECK(distill_trainer_step(trainer.get(), &batch, &metrics) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("soft_weight = 1.000000 > 0 and needs the teacher") !=
          std::string::npos);
    test::host_tensor ids(test::storage::i64, {8, 2});
    batch.teacher_topk_ids = ids.dl();
    CHECK(distill_trainer_step(trainer.get(), &batch, &metrics) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("go together") != std::string::npos);
    batch.teacher_topk_ids = nullptr;
    test::host_tensor wrong_teacher(test::storage::f32, {8, 5});  // 5 classes, the model has 4
    batch.teacher_logits = wrong_teacher.dl();
    CHECK(distill_trainer_step(trainer.get(), &batch, &metrics) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("teacher_logits") != std::string::npos);
    test::host_tensor short_teacher(test::storage::f32, {7, 4});
    batch.teacher_logits = short_teacher.dl();
    CHECK(distill_trainer_step(trainer.get(), &batch, &metrics) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("expected 8 rows") != std::string::npos);
    metrics.struct_size = 2;
    batch.teacher_logits = set.teacher_logits.dl();
    CHECK(distill_trainer_step(trainer.get(), &batch, &metrics) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("struct_size") != std::string::npos);
    CHECK(test::all_parameters(model) == before);
    CHECK(trainer.position().second == 0);

    losses hard(0.0f, 1.0f);
    distill::Trainer labels_only(cpu, model, make_options(hard.options));
    distill::check(distill_batch_init(&batch));
    batch.inputs = set.inputs.dl();
    CHECK(distill_trainer_step(labels_only.get(), &batch, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("batch.labels: the loss has hard_weight") != std::string::npos);

    // Creation errors.
    distill_trainer * out = nullptr;
    losses none(0.0f, 0.0f);
    distill_trainer_options o = make_options(none.options);
    CHECK(distill_trainer_create(cpu.get(), model.get(), &o, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("not both 0") != std::string::npos);
    o = make_options(soft.options);
    o.optimizer_json = R"({"kind": "adamw", "lr": -1})";
    CHECK(distill_trainer_create(cpu.get(), model.get(), &o, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("lr") != std::string::npos);
    o.optimizer_json = R"({"kind": "lion"})";
    CHECK(distill_trainer_create(cpu.get(), model.get(), &o, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("lion") != std::string::npos);
    o.optimizer_json = nullptr;
    o.schedule_json = R"({"kind": "warmup_cosine", "warmup_steps": 10, "total_steps": 5})";
    CHECK(distill_trainer_create(cpu.get(), model.get(), &o, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_trainer_create(cpu.get(), nullptr, &o, &out) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_trainer_create(nullptr, model.get(), &o, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(out == nullptr);
    distill_trainer_free(nullptr);
    CHECK(distill_trainer_step(nullptr, &batch, nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_trainer_save(nullptr, "x") == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_trainer_resume(nullptr, "x") == DISTILL_STATUS_INVALID_ARGUMENT);
}

TEST_CASE("trainer fit: a run resumed from a mid-epoch checkpoint ends bit-identical") {
    const distill::Context cpu(distill::ContextOptions::cpu(2));
    test::synthetic_set set = test::make_synthetic_set(100, 12, 4, 5);
    distill::Dataset data = make_dataset(set, true);
    losses loss(0.7f, 0.3f);
    distill_fit_options fit;
    distill::check(distill_fit_options_init(&fit));
    fit.epochs = 3;
    fit.batch_size = 16;

    distill::Model straight = distill::Model::create(test::small_mlp, 9);
    {
        distill::Trainer trainer(cpu, straight, make_options(loss.options));
        const distill_fit_summary s = trainer.fit(data, fit);
        CHECK(s.epochs_run == 3);
        CHECK(s.steps == 3 * 7);
    }

    const test::temp_dir scratch("distill-trainer-abi");
    const auto dir = scratch.file("resume");  // not created: the trainer makes it
    distill::Model first_part = distill::Model::create(test::small_mlp, 9);
    {
        distill::Trainer trainer(cpu, first_part, make_options(loss.options));
        canceller stop{0, 10};  // inside the second epoch
        distill_fit_options cancelled = fit;
        cancelled.checkpoint_dir = dir.c_str();
        cancelled.progress = canceller::callback;
        cancelled.progress_user_data = &stop;
        distill_fit_summary s{};
        s.struct_size = sizeof s;
        CHECK(distill_trainer_fit(trainer.get(), data.get(), &cancelled, &s) ==
              DISTILL_STATUS_CANCELLED);
        CHECK(test::last_error().find("cancelled at epoch 2") != std::string::npos);
    }
    distill::Model resumed = distill::Model::load(dir.string());
    distill::Trainer trainer(cpu, resumed,
                             make_options(loss.options, 12345));  // seed comes from the checkpoint
    trainer.resume(dir.string());
    CHECK(trainer.position() == std::pair<int64_t, int64_t>{1, 10});
    distill_fit_options rest = fit;
    rest.epochs = 2;  // the second (partial) and the third
    trainer.fit(data, rest);
    CHECK(trainer.position() == std::pair<int64_t, int64_t>{3, 21});
    CHECK(test::all_parameters(resumed) == test::all_parameters(straight));

    // A different batch size cannot continue a partial epoch.
    distill::Model again = distill::Model::load(dir.string());
    distill::Trainer other(cpu, again, make_options(loss.options));
    other.resume(dir.string());
    distill_fit_options wrong = fit;
    wrong.batch_size = 8;
    CHECK(distill_trainer_fit(other.get(), data.get(), &wrong, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("batch size 16") != std::string::npos);
}

TEST_CASE(
    "trainer checkpoints: a tampered or foreign checkpoint is refused, the trainer untouched") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(32, 12, 4, 6);
    distill::Dataset data = make_dataset(set, false);
    losses hard(0.0f, 1.0f);
    distill::Model model = distill::Model::create(test::small_mlp, 2);
    distill::Trainer trainer(cpu, model, make_options(hard.options));
    distill_fit_options fit;
    distill::check(distill_fit_options_init(&fit));
    fit.epochs = 1;
    trainer.fit(data, fit);
    const test::temp_dir scratch("distill-trainer-abi");
    const auto dir = scratch.file("tampered");  // not created: the trainer makes it
    trainer.save(dir.string());

    // Another architecture cannot resume it.
    distill::Model wider =
        distill::Model::create(R"({"kind": "mlp", "inputs": 12, "hidden": [17], "outputs": 4})", 2);
    distill::Trainer foreign(cpu, wider, make_options(hard.options));
    CHECK(distill_trainer_resume(foreign.get(), dir.c_str()) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("differs from the trainer's") != std::string::npos);

    // One flipped byte in the weights: the manifest's hash refuses it.
    const auto weights = dir / "model.safetensors";
    std::string bytes;
    {
        std::ifstream in(weights, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    bytes[bytes.size() - 3] ^= 0x40;
    {
        std::ofstream out(weights, std::ios::binary | std::ios::trunc);
        out << bytes;
    }
    distill::Model fresh = distill::Model::create(test::small_mlp, 2);
    const std::vector<float> before = test::all_parameters(fresh);
    distill::Trainer victim(cpu, fresh, make_options(hard.options));
    CHECK(distill_trainer_resume(victim.get(), dir.c_str()) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(test::last_error().find("model.safetensors") != std::string::npos);
    CHECK(test::all_parameters(fresh) == before);
    CHECK(victim.position() == std::pair<int64_t, int64_t>{0, 0});
}

TEST_CASE("evaluate: accuracy, agreement and KL against hand-computed values") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(40, 12, 4, 8);
    distill::Dataset data = make_dataset(set, true);
    distill::Model model = distill::Model::create(test::small_mlp, 4);
    const distill_eval_metrics e = distill::evaluate(cpu, model, data);
    CHECK(e.examples == 40);
    const std::vector<float> logits =
        model.predict(cpu, static_cast<const float *>(set.inputs.dl()->data), 40);
    const auto * labels = static_cast<const int64_t *>(set.labels.dl()->data);
    const auto * teacher = static_cast<const float *>(set.teacher_logits.dl()->data);
    int correct = 0, agree = 0;
    double kl = 0;
    for (int r = 0; r < 40; ++r) {
        const float * z = logits.data() + r * 4;
        const float * t = teacher + r * 4;
        const int predicted = int(std::max_element(z, z + 4) - z);
        correct += predicted == labels[r];
        agree += predicted == int(std::max_element(t, t + 4) - t);
        double zs = 0, ts = 0;
        for (int c = 0; c < 4; ++c) zs += std::exp(double(z[c])), ts += std::exp(double(t[c]));
        for (int c = 0; c < 4; ++c) {
            const double p = std::exp(double(t[c])) / ts, q = std::exp(double(z[c])) / zs;
            kl += p * (std::log(p) - std::log(q));
        }
    }
    CHECK(e.accuracy == doctest::Approx(correct / 40.0));
    CHECK(e.agreement == doctest::Approx(agree / 40.0));
    CHECK(e.mean_kl == doctest::Approx(kl / 40.0).epsilon(1e-6));
    CHECK(e.ece >= 0.0);
    CHECK(e.loss > 0.0);

    distill::Dataset unlabelled = distill::Dataset::create(*set.inputs.dl());
    const distill_eval_metrics bare = distill::evaluate(cpu, model, unlabelled);
    CHECK(std::isnan(bare.accuracy));
    CHECK(std::isnan(bare.agreement));
    CHECK(std::isnan(bare.mean_kl));
}

TEST_CASE("trainer step: a non-finite loss is refused and the model is unchanged") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(8, 12, 4, 31);
    distill::Model model = distill::Model::create(test::small_mlp, 1);
    const std::vector<float> before = test::all_parameters(model);
    losses soft(1.0f, 0.0f);
    distill::Trainer trainer(cpu, model, make_options(soft.options));
    test::host_tensor teacher(test::storage::f32, {8, 4}, std::vector<double>(32, 0.0));
    teacher.set(5, std::nan(""));
    distill_batch batch;
    distill::check(distill_batch_init(&batch));
    batch.inputs = set.inputs.dl();
    batch.teacher_logits = teacher.dl();
    CHECK(distill_trainer_step(trainer.get(), &batch, nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("the loss is not finite") != std::string::npos);
    CHECK(test::all_parameters(model) == before);
    CHECK(trainer.position().second == 0);
}

TEST_CASE("trainer step: top-k ids are checked even when no loss reads them") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(8, 12, 4, 32);
    distill::Model model = distill::Model::create(test::small_mlp, 1);
    losses hard(0.0f, 1.0f);
    distill::Trainer trainer(cpu, model, make_options(hard.options));
    test::host_tensor ids(test::storage::i64, {8, 1});
    test::host_tensor logprobs(test::storage::f32, {8, 2});
    distill_batch batch;
    distill::check(distill_batch_init(&batch));
    batch.inputs = set.inputs.dl();
    batch.labels = set.labels.dl();
    batch.teacher_topk_ids = ids.dl();
    batch.teacher_topk_logprobs = logprobs.dl();
    CHECK(distill_trainer_step(trainer.get(), &batch, nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("batch.teacher_topk_ids") == 0);
}

TEST_CASE("trainer fit: early stopping and restore_best select by validation accuracy") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(64, 12, 4, 33);
    distill::Dataset data = make_dataset(set, false);
    losses hard(0.0f, 1.0f);
    distill_trainer_options o = make_options(hard.options);
    o.optimizer_json = R"({"kind": "sgd", "lr": 0.0})";  // nothing changes: no epoch improves
    distill::Model model = distill::Model::create(test::small_mlp, 2);
    distill::Trainer trainer(cpu, model, o);
    distill_fit_options fit;
    distill::check(distill_fit_options_init(&fit));
    fit.epochs = 5;
    fit.validation = data.get();
    fit.early_stopping_patience = 2;
    const distill_fit_summary s = trainer.fit(data, fit);
    CHECK(s.stopped_early == 1);
    CHECK(s.epochs_run == 3);  // epoch 1 is the best; 2 and 3 do not improve
    CHECK(s.best_epoch == 1);

    distill::Dataset unlabelled = distill::Dataset::create(*set.inputs.dl());
    fit.validation = unlabelled.get();
    CHECK(distill_trainer_fit(trainer.get(), data.get(), &fit, nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("need a validation dataset with labels") != std::string::npos);
    fit.validation = nullptr;
    fit.early_stopping_patience = 0;
    fit.restore_best = 1;
    CHECK(distill_trainer_fit(trainer.get(), data.get(), &fit, nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);

    // A training set without the teacher targets a soft loss needs.
    losses soft(1.0f, 0.0f);
    distill::Trainer distiller(cpu, model, make_options(soft.options));
    fit.restore_best = 0;
    CHECK(distill_trainer_fit(distiller.get(), data.get(), &fit, nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("no teacher targets") != std::string::npos);
}

TEST_CASE("trainer fit: restore_best ends on a best epoch from before a resume") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(96, 12, 4, 35);
    distill::Dataset data = make_dataset(set, false);
    losses hard(0.0f, 1.0f);
    distill_trainer_options learning = make_options(hard.options);
    learning.optimizer_json = R"({"kind": "sgd", "lr": 0.5})";
    distill_fit_options fit;
    distill::check(distill_fit_options_init(&fit));
    fit.validation = data.get();
    fit.restore_best = 1;
    fit.epochs = 3;

    distill::Model first = distill::Model::create(test::small_mlp, 4);
    distill::Trainer first_run(cpu, first, learning);
    const distill_fit_summary learned = first_run.fit(data, fit);
    const std::vector<float> best = test::all_parameters(first);  // restored: the best epoch's
    const test::temp_dir scratch("distill-trainer-abi");
    const auto dir = scratch.file("restore-best");  // not created: the trainer makes it
    first_run.save(dir.string());
    CHECK(std::filesystem::exists(dir / "best_model.safetensors"));

    // The resumed run gets worse: its weights are wiped to zeros (every
    // prediction becomes class 0) and it no longer learns.
    distill_trainer_options frozen = make_options(hard.options);
    frozen.optimizer_json = R"({"kind": "sgd", "lr": 0.0})";
    distill::Model second = distill::Model::create(test::small_mlp, 5);
    distill::Trainer resumed(cpu, second, frozen);
    resumed.resume(dir.string());
    for (int64_t i = 0; i < second.tensor_count(); ++i) {
        const DLTensor view = second.parameter(i);
        int64_t count = 1;
        for (int32_t d = 0; d < view.ndim; ++d) count *= view.shape[d];
        std::fill_n(static_cast<float *>(view.data), count, 0.0f);
    }
    fit.epochs = 2;
    const distill_fit_summary after = resumed.fit(data, fit);
    REQUIRE(learned.best_val_accuracy > 0.4);  // well above the zeroed model's
    CHECK(after.best_epoch == learned.best_epoch);
    CHECK(after.best_val_accuracy == learned.best_val_accuracy);
    CHECK(test::all_parameters(second) == best);

    // A checkpoint of a fit without restore_best keeps no best weights.
    distill::Model third = distill::Model::create(test::small_mlp, 6);
    distill::Trainer plain(cpu, third, learning);
    fit.restore_best = 0;
    fit.epochs = 1;
    plain.fit(data, fit);
    plain.save(dir.string());
    CHECK_FALSE(std::filesystem::exists(dir / "best_model.safetensors"));
}

TEST_CASE("trainer resume: an optimizer state of another shape is refused, the trainer untouched") {
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(32, 12, 4, 34);
    distill::Dataset data = make_dataset(set, false);
    losses hard(0.0f, 1.0f);
    distill_trainer_options momentum = make_options(hard.options);
    momentum.optimizer_json = R"({"kind": "sgd", "lr": 0.1, "momentum": 0.9})";
    distill::Model saved_model = distill::Model::create(test::small_mlp, 2);
    distill::Trainer saver(cpu, saved_model, momentum);
    distill_fit_options fit;
    distill::check(distill_fit_options_init(&fit));
    fit.epochs = 1;
    saver.fit(data, fit);
    const test::temp_dir scratch("distill-trainer-abi");
    const auto dir = scratch.file("momentum");  // not created: the trainer makes it
    saver.save(dir.string());

    distill_trainer_options plain = make_options(hard.options);
    plain.optimizer_json = R"({"kind": "sgd", "lr": 0.1})";  // keeps no momentum buffer
    distill::Model model = distill::Model::create(test::small_mlp, 2);
    distill::Trainer trainer(cpu, model, plain);
    trainer.fit(data, fit);
    const std::vector<float> before = test::all_parameters(model);
    CHECK(distill_trainer_resume(trainer.get(), dir.c_str()) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("momentum_buffer") != std::string::npos);
    CHECK(test::all_parameters(model) == before);
    CHECK(trainer.position() == std::pair<int64_t, int64_t>{1, 1});
}

TEST_CASE("trainer resume: a checkpoint of another loss or other data is refused, saying what") {
    // A resumed run trained on other data or with another loss would quietly
    // continue the old model: the checkpoint records what made it.
    const distill::Context cpu;
    test::synthetic_set set = test::make_synthetic_set(40, 12, 4, 41);
    distill::Dataset data = make_dataset(set, true);
    losses soft(1.0f, 0.0f, 4.0f);
    const test::temp_dir scratch("distill-trainer-abi");
    const auto dir = scratch.file("identity");  // not created: the trainer makes it
    distill_fit_options fit;
    distill::check(distill_fit_options_init(&fit));
    fit.epochs = 1;
    fit.batch_size = 16;
    fit.checkpoint_dir = dir.c_str();
    {
        distill::Model model = distill::Model::create(test::small_mlp, 2);
        distill::Trainer trainer(cpu, model, make_options(soft.options));
        trainer.fit(data, fit);
    }

    losses colder(1.0f, 0.0f, 1.0f);
    distill::Model other_loss = distill::Model::load(dir.string());
    distill::Trainer refused(cpu, other_loss, make_options(colder.options));
    CHECK(distill_trainer_resume(refused.get(), dir.c_str()) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("it was made with other loss options (loss.temperature = 4.0 "
                                  "there, 1.0 here)") != std::string::npos);
    CHECK(refused.position() == std::pair<int64_t, int64_t>{0, 0});

    // The same loss resumes; a fit on other data is refused before any step.
    distill::Model model = distill::Model::load(dir.string());
    distill::Trainer trainer(cpu, model, make_options(soft.options));
    trainer.resume(dir.string());
    const distill::Dataset fewer = data.slice(0, 32);
    CHECK(distill_trainer_fit(trainer.get(), fewer.get(), &fit, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("it was made with other training data (") !=
          std::string::npos);
    CHECK(test::last_error().find("rows = 40 there, 32 here") != std::string::npos);
    CHECK(trainer.position() == std::pair<int64_t, int64_t>{1, 3});
    test::synthetic_set relabelled = test::make_synthetic_set(40, 12, 4, 41);
    auto * labels = static_cast<int64_t *>(relabelled.labels.dl()->data);
    labels[0] = (labels[0] + 1) % 4;
    const distill::Dataset changed = make_dataset(relabelled, true);
    CHECK(distill_trainer_fit(trainer.get(), changed.get(), &fit, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("labels = \"") != std::string::npos);
    CHECK(test::last_error().find("inputs =") == std::string::npos);  // only what differs

    // The data it was made with continues it.
    CHECK(distill_trainer_fit(trainer.get(), data.get(), &fit, nullptr) == DISTILL_STATUS_OK);
    CHECK(trainer.position() == std::pair<int64_t, int64_t>{2, 6});
}
