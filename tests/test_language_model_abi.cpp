// distill.h section 15 through the C ABI and distill.hpp: a transformer as
// a distill_model (create, sizes, parameters, save/load of files and
// checkpoints), its logits, token-distillation steps (labels given or
// shifted, dense and top-k teachers), evaluation and the training loop on a
// real token dataset (Debian's fortunes), exact resume, cancellation, and
// the refusals with their status (the wrong kind of model or trainer, bad
// shapes, a dataset or teacher that does not fit).
#include <distill/distill.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace {

const std::string fortunes = "/usr/share/games/fortunes/";
constexpr int64_t vocab = 300, context = 16;

std::string read(const std::string & path) {
    std::ifstream file(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), {});
}

std::string config(int64_t v = vocab, int64_t ctx = context, int64_t dim = 32) {
    return R"({"kind": "transformer", "vocab": )" + std::to_string(v) + R"(, "dim": )" +
           std::to_string(dim) + R"(, "layers": 2, "heads": 4, "kv_heads": 2, "ffn": 48, "context": )" +
           std::to_string(ctx) + "}";
}

distill::Context cpu() { return distill::Context(distill::ContextOptions::cpu(1)); }

std::string message() { return distill_last_error_message(); }

DLTensor host(void * data, int64_t * shape, int32_t ndim, DLDataType type) {
    return DLTensor{data, {kDLCPU, 0}, ndim, type, shape, nullptr, 0};
}
constexpr DLDataType i32{kDLInt, 32, 1}, f32{kDLFloat, 32, 1};

// A token dataset of a few fortune files, windows of `context`.
struct fortune_data {
    test::temp_dir dir{"distill-lm-abi"};
    std::string path = dir.file("f.tokens").string();
    distill::Tokenizer tokenizer = distill::Tokenizer::train(
        {read(fortunes + "fortunes"), read(fortunes + "love")}, vocab, "gpt2", {"<|endoftext|>"});
    fortune_data() {
        distill::TokenizeOptions options;
        options->context = context;
        options->validation_fraction = 0.4;
        options->seed = 3;
        distill::tokenize_files(tokenizer,
                                {fortunes + "pets", fortunes + "goedel", fortunes + "magic",
                                 fortunes + "news", fortunes + "debian"},
                                path, options);
    }
};

std::vector<float> parameters_of(distill::Model & model) {
    std::vector<float> all;
    for (int64_t i = 0; i < model.tensor_count(); ++i) {
        const DLTensor t = model.parameter(i);
        int64_t n = 1;
        for (int32_t d = 0; d < t.ndim; ++d) n *= t.shape[d];
        const float * p = static_cast<const float *>(t.data);
        all.insert(all.end(), p, p + n);
    }
    return all;
}

distill::Trainer trainer_of(const distill::Context & ctx, distill::Model & model, float lr = 3e-3f) {
    distill::TrainerOptions options;
    const std::string optimizer = R"({"kind": "adamw", "lr": )" + std::to_string(lr) + "}";
    options->optimizer_json = optimizer.c_str();
    return distill::Trainer(ctx, model, options);
}

std::vector<int32_t> some_tokens(int64_t n, int32_t salt = 0) {
    std::vector<int32_t> tokens(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) tokens[size_t(i)] = int32_t((i * 37 + salt * 11 + 5) % vocab);
    return tokens;
}

}  // namespace

TEST_CASE("lm ABI: a transformer is a distill_model: sizes, names, save and load") {
    const test::temp_dir dir("distill-lm-model");
    distill::Model model = distill::Model::create(config(), 7);
    CHECK(model.inputs() == context);
    CHECK(model.outputs() == vocab);
    CHECK(model.tensor_count() == 1 + 2 * 9 + 1 + 1);
    std::string name;
    const DLTensor embed = model.parameter(0, &name);
    CHECK(name == "model.embed_tokens.weight");
    CHECK(embed.shape[0] == vocab);
    CHECK(embed.shape[1] == 32);
    CHECK(model.config_json().find("\"kind\":\"transformer\"") != std::string::npos);

    const distill::Context ctx = cpu();
    const std::vector<int32_t> tokens = some_tokens(2 * 10);
    const std::vector<float> logits = distill::lm_logits(ctx, model, tokens, 2);
    REQUIRE(logits.size() == size_t(2 * 10 * vocab));
    const std::string file = dir.file("m.safetensors").string();
    model.save(file);
    distill::Model loaded = distill::Model::load(file);
    CHECK(loaded.config_json() == model.config_json());
    CHECK(distill::lm_logits(ctx, loaded, tokens, 2) == logits);

    // Causal: the logits of position t do not depend on the tokens after it.
    std::vector<int32_t> changed = tokens;
    changed[7] = (changed[7] + 1) % vocab;
    const std::vector<float> other = distill::lm_logits(ctx, model, changed, 2);
    CHECK(std::equal(logits.begin(), logits.begin() + 7 * vocab, other.begin()));
    CHECK_FALSE(std::equal(logits.begin() + 7 * vocab, logits.begin() + 8 * vocab,
                           other.begin() + 7 * vocab));
    CHECK(std::equal(logits.begin() + 10 * vocab, logits.end(), other.begin() + 10 * vocab));
}

TEST_CASE("lm ABI: section 11's MLP calls refuse a transformer, section 15 refuses an MLP") {
    const distill::Context ctx = cpu();
    distill::Model lm = distill::Model::create(config(), 1);
    distill::Model mlp = distill::Model::create(R"({"kind": "mlp", "inputs": 4, "outputs": 3})", 1);
    float inputs[4] = {0, 1, 2, 3}, out[3];
    int64_t in_shape[2] = {1, 4}, out_shape[2] = {1, 3};
    DLTensor in = host(inputs, in_shape, 2, f32), result = host(out, out_shape, 2, f32);
    CHECK(distill_model_predict(ctx.get(), lm.get(), &in, 0, &result) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("distill_lm_logits") != std::string::npos);

    int32_t tokens[4] = {1, 2, 3, 4};
    float logits[4 * 3];
    int64_t t_shape[2] = {1, 4}, l_shape[3] = {1, 4, 3};
    DLTensor t = host(tokens, t_shape, 2, i32), l = host(logits, l_shape, 3, f32);
    CHECK(distill_lm_logits(ctx.get(), mlp.get(), &t, &l) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("expected a transformer model") != std::string::npos);

    distill::Trainer mlp_trainer = trainer_of(ctx, mlp);
    distill::TokenBatch batch;
    batch->tokens = &t;
    CHECK(distill_trainer_step_tokens(mlp_trainer.get(), &batch.get(), nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("MLP or CNN") != std::string::npos);
    distill::Trainer lm_trainer = trainer_of(ctx, lm);
    distill::Batch mlp_batch;
    mlp_batch->inputs = &in;
    CHECK(distill_trainer_step(lm_trainer.get(), &mlp_batch.get(), nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("distill_trainer_step_tokens") != std::string::npos);
}

TEST_CASE("lm ABI: logits refuse wrong dtypes, shapes, ids and lengths, naming them") {
    const distill::Context ctx = cpu();
    distill::Model model = distill::Model::create(config(), 1);
    std::vector<int32_t> tokens(2 * 20, 1);
    std::vector<float> out(2 * 20 * vocab);
    int64_t t_shape[2] = {2, 4}, o_shape[3] = {2, 4, vocab};
    DLTensor t = host(tokens.data(), t_shape, 2, i32), o = host(out.data(), o_shape, 3, f32);
    REQUIRE(distill_lm_logits(ctx.get(), model.get(), &t, &o) == DISTILL_STATUS_OK);

    DLTensor as_int64 = host(tokens.data(), t_shape, 2, DLDataType{kDLInt, 64, 1});
    CHECK(distill_lm_logits(ctx.get(), model.get(), &as_int64, &o) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("tokens: expected dtype int32") != std::string::npos);
    int64_t long_shape[2] = {2, 20}, long_out[3] = {2, 20, vocab};
    DLTensor too_long = host(tokens.data(), long_shape, 2, i32);
    DLTensor too_long_out = host(out.data(), long_out, 3, f32);
    CHECK(distill_lm_logits(ctx.get(), model.get(), &too_long, &too_long_out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("longer than the model's context of 16") != std::string::npos);
    tokens[5] = vocab;
    CHECK(distill_lm_logits(ctx.get(), model.get(), &t, &o) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("tokens[1, 1]: expected a token id in [0, 300)") != std::string::npos);
    tokens[5] = 1;
    int64_t wrong_out[3] = {2, 4, vocab - 1};
    DLTensor w = host(out.data(), wrong_out, 3, f32);
    CHECK(distill_lm_logits(ctx.get(), model.get(), &t, &w) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("out: expected shape [2, 4, 300]") != std::string::npos);
    CHECK(distill_lm_logits(ctx.get(), nullptr, &t, &o) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_lm_logits(ctx.get(), model.get(), nullptr, &o) == DISTILL_STATUS_INVALID_ARGUMENT);
}

TEST_CASE("lm ABI: token steps: NULL labels are the shifted tokens; dense and top-k teachers") {
    const distill::Context ctx = cpu();
    const int64_t B = 2, T = 8;
    std::vector<int32_t> tokens = some_tokens(B * T), labels(size_t(B * T));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t)
            labels[size_t(b * T + t)] = t + 1 < T ? tokens[size_t(b * T + t + 1)] : -100;
    int64_t bt[2] = {B, T};
    DLTensor tokens_t = host(tokens.data(), bt, 2, i32), labels_t = host(labels.data(), bt, 2, i32);

    distill::Model a = distill::Model::create(config(), 5), b = distill::Model::create(config(), 5);
    distill::Trainer ta = trainer_of(ctx, a), tb = trainer_of(ctx, b);
    distill::TokenBatch shifted, given;
    shifted->tokens = &tokens_t;
    given->tokens = &tokens_t;
    given->labels = &labels_t;
    const distill_token_step_metrics ma = distill::step_tokens(ta, shifted);
    const distill_token_step_metrics mb = distill::step_tokens(tb, given);
    CHECK(ma.loss == mb.loss);
    CHECK(ma.positions == B * (T - 1));
    CHECK(std::isnan(ma.soft_loss));
    CHECK(ma.hard_loss == ma.loss);
    CHECK(ma.step == 1);
    CHECK(parameters_of(a) == parameters_of(b));
    CHECK(std::abs(ma.loss - std::log(double(vocab))) < 0.2);  // a fresh model is near uniform

    // A dense teacher: the divergence is reported (and weighted into the
    // loss by the trainer's loss options, here the defaults).
    distill::Model teacher = distill::Model::create(config(), 99);
    const std::vector<float> teacher_logits = distill::lm_logits(ctx, teacher, tokens, B);
    int64_t btv[3] = {B, T, vocab};
    DLTensor dense = host(const_cast<float *>(teacher_logits.data()), btv, 3, f32);
    distill::TokenBatch with_dense = given;
    with_dense->teacher_logits = &dense;
    const distill_token_step_metrics md = distill::step_tokens(ta, with_dense);
    CHECK(std::isfinite(md.soft_loss));
    CHECK(md.soft_loss > 0.0);
    CHECK(md.step == 2);

    // Top-k: the teacher's two best ids per position, −1 slots allowed.
    const int64_t K = 2;
    std::vector<int32_t> ids(size_t(B * T * K));
    std::vector<float> logprobs(size_t(B * T * K));
    for (int64_t n = 0; n < B * T; ++n) {
        ids[size_t(n * K)] = int32_t(n % vocab);
        ids[size_t(n * K + 1)] = n == 3 ? -1 : int32_t((n + 1) % vocab);
        logprobs[size_t(n * K)] = -0.5f;
        logprobs[size_t(n * K + 1)] = -1.5f;
    }
    int64_t btk[3] = {B, T, K};
    DLTensor ids_t = host(ids.data(), btk, 3, i32), lp_t = host(logprobs.data(), btk, 3, f32);
    distill::TokenBatch with_topk = given;
    with_topk->teacher_topk_ids = &ids_t;
    with_topk->teacher_topk_logprobs = &lp_t;
    const distill_token_step_metrics mk = distill::step_tokens(ta, with_topk);
    CHECK(std::isfinite(mk.soft_loss));
    CHECK(mk.step == 3);

    distill::TokenBatch both = with_topk;
    both->teacher_logits = &dense;
    CHECK(distill_trainer_step_tokens(ta.get(), &both.get(), nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("got both forms") != std::string::npos);
    distill::TokenBatch half = given;
    half->teacher_topk_ids = &ids_t;
    CHECK(distill_trainer_step_tokens(ta.get(), &half.get(), nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("only one") != std::string::npos);
    int64_t wrong[3] = {B, T, vocab + 1};
    DLTensor wrong_dense = host(const_cast<float *>(teacher_logits.data()), wrong, 3, f32);
    distill::TokenBatch bad = given;
    bad->teacher_logits = &wrong_dense;
    CHECK(distill_trainer_step_tokens(ta.get(), &bad.get(), nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("batch.teacher_logits: expected shape [2, 8, 300]") != std::string::npos);
    int64_t short_labels[2] = {B, T - 1};
    DLTensor bad_labels = host(labels.data(), short_labels, 2, i32);
    distill::TokenBatch bad_l = shifted;
    bad_l->labels = &bad_labels;
    CHECK(distill_trainer_step_tokens(ta.get(), &bad_l.get(), nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("batch.labels") != std::string::npos);
    CHECK(ta.position().second == 3);  // refused steps changed nothing
}

TEST_CASE("lm ABI: a repeated batch is learned; checkpoints resume bit-exactly and load as models") {
    const test::temp_dir dir("distill-lm-resume");
    const distill::Context ctx = cpu();
    const int64_t B = 2, T = 12;
    std::vector<int32_t> tokens = some_tokens(B * T, 3);
    int64_t bt[2] = {B, T};
    DLTensor tokens_t = host(tokens.data(), bt, 2, i32);
    distill::TokenBatch batch;
    batch->tokens = &tokens_t;

    distill::Model model = distill::Model::create(config(), 11);
    distill::Trainer trainer = trainer_of(ctx, model, 1e-2f);
    const double first = distill::step_tokens(trainer, batch).loss;
    for (int i = 0; i < 3; ++i) distill::step_tokens(trainer, batch);
    const std::string checkpoint = (dir.path() / "ckpt").string();
    trainer.save(checkpoint);
    double last = 0;
    for (int i = 0; i < 36; ++i) last = distill::step_tokens(trainer, batch).loss;
    CHECK(last < 0.25 * first);

    distill::Model again = distill::Model::create(config(), 0);
    distill::Trainer resumed = trainer_of(ctx, again, 1e-2f);
    resumed.resume(checkpoint);
    CHECK(resumed.position().second == 4);
    double resumed_last = 0;
    for (int i = 0; i < 36; ++i) resumed_last = distill::step_tokens(resumed, batch).loss;
    CHECK(resumed_last == last);
    CHECK(parameters_of(again) == parameters_of(model));

    distill::Model from_checkpoint = distill::Model::load(checkpoint);
    CHECK(from_checkpoint.config_json() == model.config_json());
    CHECK(from_checkpoint.tensor_count() == model.tensor_count());

    distill::Model other = distill::Model::create(config(vocab, context, 64), 0);
    distill::Trainer mismatched = trainer_of(ctx, other, 1e-2f);
    CHECK(distill_trainer_resume(mismatched.get(), checkpoint.c_str()) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("differs from the trainer's") != std::string::npos);
}

TEST_CASE("lm ABI: evaluation on a token dataset: perplexity from the logits, a teacher's agreement") {
    const fortune_data data;
    const distill::TextDataset dataset = distill::TextDataset::open(data.path);
    const distill_text_dataset_info info = dataset.info();
    REQUIRE(info.validation_windows >= 3);
    const distill::Context ctx = cpu();
    distill::Model model = distill::Model::create(config(), 2);
    distill::LmEvalOptions options;
    options->max_windows = 3;
    options->batch_windows = 2;
    const distill_lm_eval_metrics m = distill::lm_evaluate(ctx, model, dataset, options);
    CHECK(m.windows == 3);
    CHECK(m.positions == 3 * context);
    CHECK(std::isnan(m.agreement));
    CHECK(std::isnan(m.mean_kl));
    CHECK(m.perplexity == doctest::Approx(std::exp(m.loss)).epsilon(1e-12));

    // The same figures from the logits, by hand, in double.
    std::vector<int32_t> tokens, targets;
    dataset.copy_batch(DISTILL_SPLIT_VALIDATION, {0, 1, 2}, tokens, targets);
    const std::vector<float> logits = distill::lm_logits(ctx, model, tokens, 3);
    double nll = 0;
    int64_t correct = 0;
    for (int64_t n = 0; n < 3 * context; ++n) {
        const float * row = logits.data() + n * vocab;
        double top = row[0], total = 0;
        int64_t best = 0;
        for (int64_t v = 0; v < vocab; ++v)
            if (row[v] > top) top = row[v], best = v;
        for (int64_t v = 0; v < vocab; ++v) total += std::exp(double(row[v]) - top);
        nll += top + std::log(total) - row[targets[size_t(n)]];
        correct += best == targets[size_t(n)];
    }
    CHECK(m.loss == doctest::Approx(nll / double(3 * context)).epsilon(1e-9));
    CHECK(m.accuracy == doctest::Approx(double(correct) / double(3 * context)));

    // A teacher identical to the student agrees everywhere, with KL 0.
    const test::temp_dir dir("distill-lm-eval");
    model.save(dir.file("m.safetensors").string());
    distill::Model twin = distill::Model::load(dir.file("m.safetensors").string());
    options->teacher = twin.get();
    const distill_lm_eval_metrics t = distill::lm_evaluate(ctx, model, dataset, options);
    CHECK(t.agreement == 1.0);
    CHECK(std::abs(t.mean_kl) < 1e-9);
    CHECK(t.loss == m.loss);
    distill::Model stranger = distill::Model::create(config(), 77);
    options->teacher = stranger.get();
    const distill_lm_eval_metrics s = distill::lm_evaluate(ctx, model, dataset, options);
    CHECK(s.agreement < 1.0);
    CHECK(s.mean_kl > 0.0);

    distill_lm_eval_metrics out = distill::sized<distill_lm_eval_metrics>();
    options->teacher = model.get();
    CHECK(distill_lm_evaluate(ctx.get(), model.get(), dataset.get(), &options.get(), &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("the student itself") != std::string::npos);
    distill::Model wide = distill::Model::create(config(vocab + 8), 1);
    options->teacher = wide.get();
    CHECK(distill_lm_evaluate(ctx.get(), model.get(), dataset.get(), &options.get(), &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("308") != std::string::npos);
    distill::Model small = distill::Model::create(config(vocab - 50), 1);
    CHECK(distill_lm_evaluate(ctx.get(), small.get(), dataset.get(), nullptr, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("250") != std::string::npos);
    distill::LmEvalOptions bad_split;
    bad_split->split = 7;
    CHECK(distill_lm_evaluate(ctx.get(), model.get(), dataset.get(), &bad_split.get(), &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("options.split") != std::string::npos);
}

TEST_CASE("lm ABI: fit_text trains, validates, checkpoints, resumes exactly and cancels") {
    const fortune_data data;
    const distill::TextDataset dataset = distill::TextDataset::open(data.path);
    const distill::Context ctx = cpu();
    const std::string checkpoint = (data.dir.path() / "ckpt").string();

    distill::Model whole = distill::Model::create(config(), 4);
    distill::Trainer whole_trainer = trainer_of(ctx, whole, 1e-2f);
    distill::TextFitOptions options;
    options->steps = 8;
    options->batch_windows = 3;
    options->seed = 21;
    options->eval_interval = 4;
    options->eval_windows = 4;
    int steps_seen = 0, evaluations = 0;
    double first_val = 0;
    options.on_progress([&](const distill_text_fit_progress & p) {
        if (p.evaluated) {
            if (evaluations++ == 0) first_val = p.validation.loss;
            CHECK(p.validation.windows == 4);
        } else {
            ++steps_seen;
            CHECK(p.step == steps_seen);
            CHECK(p.tokens_per_second > 0);
        }
        return true;
    });
    const distill_text_fit_summary s = distill::fit_text(whole_trainer, dataset, options);
    CHECK(steps_seen == 8);
    CHECK(evaluations == 2);
    CHECK(s.steps_run == 8);
    CHECK(s.global_step == 8);
    CHECK(s.validated == 1);
    CHECK(s.validation.loss < first_val + 1e-9);
    CHECK(s.validation.loss < std::log(double(vocab)));

    // Half, a checkpoint, a new trainer resumed, the other half: the same bits.
    distill::Model half = distill::Model::create(config(), 4);
    distill::Trainer half_trainer = trainer_of(ctx, half, 1e-2f);
    distill::TextFitOptions first_half;
    first_half->steps = 5;
    first_half->batch_windows = 3;
    first_half->seed = 21;
    first_half->checkpoint_dir = checkpoint.c_str();
    distill::fit_text(half_trainer, dataset, first_half);
    distill::Model rest = distill::Model::create(config(), 0);
    distill::Trainer rest_trainer = trainer_of(ctx, rest, 1e-2f);
    rest_trainer.resume(checkpoint);
    distill::TextFitOptions second_half;
    second_half->steps = 8;
    second_half->batch_windows = 3;
    second_half->seed = 21;
    const distill_text_fit_summary r = distill::fit_text(rest_trainer, dataset, second_half);
    CHECK(r.steps_run == 3);
    CHECK(r.final_loss == s.final_loss);
    CHECK(parameters_of(rest) == parameters_of(whole));

    // Cancelled at step 2: CANCELLED, the checkpoint of step 2 written.
    distill::Model cancelled = distill::Model::create(config(), 4);
    distill::Trainer cancelled_trainer = trainer_of(ctx, cancelled, 1e-2f);
    distill::TextFitOptions stop;
    stop->steps = 8;
    stop->checkpoint_dir = checkpoint.c_str();
    stop.on_progress([](const distill_text_fit_progress & p) { return p.step < 2; });
    distill_text_fit_options c = stop.get();
    stop.progress.install(c);
    distill_text_fit_summary out = distill::sized<distill_text_fit_summary>();
    out.steps_run = -5;
    CHECK(distill_trainer_fit_text(cancelled_trainer.get(), dataset.get(), &c, &out) ==
          DISTILL_STATUS_CANCELLED);
    CHECK(out.steps_run == -5);  // a failed call leaves out untouched
    CHECK(message().find("cancelled at step 2") != std::string::npos);
    CHECK(cancelled_trainer.position().second == 2);
    distill::Model saved = distill::Model::load(checkpoint);
    CHECK(parameters_of(saved) == parameters_of(cancelled));

    // With an in-process teacher the batches carry its logits.
    distill::Model teacher = distill::Model::create(config(vocab, context, 48), 8);
    distill::Model student = distill::Model::create(config(), 4);
    distill::Trainer student_trainer = trainer_of(ctx, student, 1e-2f);
    distill::TextFitOptions with_teacher;
    with_teacher->steps = 2;
    with_teacher->teacher = teacher.get();
    const distill_text_fit_summary ts = distill::fit_text(student_trainer, dataset, with_teacher);
    CHECK(ts.validated == 1);
    CHECK(std::isfinite(ts.validation.agreement));
    CHECK(std::isfinite(ts.validation.mean_kl));

    // Refusals before any step.
    distill_text_fit_options again = with_teacher.get();
    again.steps = 2;  // not above the trainer's step 2
    CHECK(distill_trainer_fit_text(student_trainer.get(), dataset.get(), &again, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("above the trainer's 2") != std::string::npos);
    distill::Model short_teacher = distill::Model::create(config(vocab, context / 2), 8);
    again.steps = 4;
    again.teacher = short_teacher.get();
    CHECK(distill_trainer_fit_text(student_trainer.get(), dataset.get(), &again, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("shorter than the dataset's windows of 16") != std::string::npos);
    CHECK(distill_trainer_fit_text(student_trainer.get(), dataset.get(), nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(student_trainer.position().second == 2);
}

namespace {

// A store of answers as an HTTP teacher leaves them: a prompt request, the
// completion's positions (text and bytes of the student's tokens; the
// server's id on every other position, as llama.cpp gives them, none on the
// rest, as OpenAI) with two alternatives each.
void put_answers(const std::string & path, const distill::Tokenizer & tokenizer,
                 const std::vector<std::string> & prompts, const std::vector<std::string> & completions,
                 const std::string & teacher_json, int64_t salt = 0) {
    distill::Store store(path);
    for (size_t i = 0; i < prompts.size(); ++i) {
        distill::TeacherRecord record;
        char key[65];
        std::snprintf(key, sizeof key, "%016llx%048llx", (unsigned long long)(i + 1 + salt * 1000),
                      0ull);
        record.set_string(DISTILL_RECORD_KEY, key);
        record.set_string(DISTILL_RECORD_TEXT, completions[i]);
        record.set_string(DISTILL_RECORD_MODEL, "teacher-model");
        record.set_string(DISTILL_RECORD_TEACHER_JSON, teacher_json);
        record.set_string(DISTILL_RECORD_PARAMETERS_JSON, "{}");
        record.set_string(DISTILL_RECORD_REQUEST_JSON,
                          "{\"prompt\":\"" + prompts[i] + "\"}");  // plain ASCII prompts
        const std::vector<int32_t> ids = tokenizer.encode(completions[i]);
        for (size_t p = 0; p < ids.size(); ++p) {
            const std::string bytes = tokenizer.decode({ids[p]});
            const int32_t other = (ids[p] + 1) % int32_t(vocab);
            const std::string other_bytes = tokenizer.decode({other});
            const bool with_id = p % 2 == 0;
            const int32_t top_ids[2] = {with_id ? ids[p] : -1, with_id ? other : -1};
            const char * top_tokens[2] = {bytes.c_str(), other_bytes.c_str()};
            const float top_logprobs[2] = {-0.25f, -1.75f};
            REQUIRE(distill_teacher_record_append_position(
                        record.get(), bytes.c_str(), reinterpret_cast<const uint8_t *>(bytes.data()),
                        bytes.size(), with_id ? ids[p] : -1, -0.25f, 2, top_ids, top_tokens,
                        top_logprobs) == DISTILL_STATUS_OK);
        }
        store.put(record);
    }
}

}  // namespace

TEST_CASE("lm ABI: distilling from stored answers (top-k by id and by bytes), and their evaluation") {
    const fortune_data data;
    const std::string store_path = (data.dir.path() / "answers.sqlite").string();
    const std::vector<std::string> prompts = {"Q: a cat?", "Q: the news", "Q: magic words"};
    const std::vector<std::string> completions = {" A cat is fine.", " Nothing new.", " Please."};
    put_answers(store_path, data.tokenizer, prompts, completions, R"({"name":"teacher-a"})");
    const distill::Context ctx = cpu();
    distill::Model model = distill::Model::create(config(vocab, 64), 6);  // rows up to 64 tokens
    distill::Store store(store_path, true);

    distill::LmEvalOptions eval;
    distill_stored_rows_info rows{};
    const distill_lm_eval_metrics before =
        distill::lm_evaluate_stored(ctx, model, store, data.tokenizer, "", eval, &rows);
    CHECK(rows.rows == 3);
    CHECK(rows.too_long == 0);
    CHECK(rows.topk == 2);
    CHECK(rows.unmapped == 0);
    CHECK(rows.by_id > 0);
    CHECK(rows.by_bytes > 0);
    CHECK(rows.by_id + rows.by_bytes == rows.alternatives);
    int64_t completion_tokens = 0;
    for (const std::string & c : completions) completion_tokens += int64_t(data.tokenizer.encode(c).size());
    CHECK(before.positions == completion_tokens);
    CHECK(std::isnan(before.mean_kl));

    distill::Trainer trainer = trainer_of(ctx, model, 1e-2f);
    distill::TextFitOptions fit;
    fit->steps = 60;
    fit->batch_windows = 3;
    const distill_text_fit_summary s = distill::fit_stored(trainer, store, data.tokenizer, "", fit);
    CHECK(s.global_step == 60);
    CHECK(s.validated == 0);
    const distill_lm_eval_metrics after =
        distill::lm_evaluate_stored(ctx, model, store, data.tokenizer, "", eval);
    CHECK(after.loss < before.loss - 1.0);
    CHECK(after.agreement > 0.9);  // the teacher's top-1 is its completion here

    // Two teachers: a choice is needed, and a choice that answered nothing is refused.
    put_answers(store_path, data.tokenizer, {"Q: more"}, {" Yes."}, R"({"name":"teacher-b"})", 1);
    distill::Store both(store_path, true);
    distill_lm_eval_metrics out = distill::sized<distill_lm_eval_metrics>();
    CHECK(distill_lm_evaluate_stored(ctx.get(), model.get(), both.get(), data.tokenizer.get(), nullptr,
                                     nullptr, nullptr, &out) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("teacher-b") != std::string::npos);
    CHECK(message().find("(3 answers)") != std::string::npos);
    CHECK(distill_lm_evaluate_stored(ctx.get(), model.get(), both.get(), data.tokenizer.get(),
                                     R"({"name": "teacher-b"})", nullptr, nullptr, &out) ==
          DISTILL_STATUS_OK);
    CHECK(out.positions == int64_t(data.tokenizer.encode(" Yes.").size()));
    CHECK(distill_lm_evaluate_stored(ctx.get(), model.get(), both.get(), data.tokenizer.get(),
                                     R"({"name": "nobody"})", nullptr, nullptr, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("no answer") != std::string::npos);

    // A student whose context cannot hold any answer: nothing to train on, counted.
    distill::Model tiny = distill::Model::create(config(vocab, 3), 1);
    distill::Trainer tiny_trainer = trainer_of(ctx, tiny);
    distill_text_fit_options c = fit.get();
    CHECK(distill_trainer_fit_stored(tiny_trainer.get(), both.get(), data.tokenizer.get(),
                                     R"({"name":"teacher-a"})", &c, nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("3 longer than the context of 3") != std::string::npos);
    c.teacher = model.get();
    CHECK(distill_trainer_fit_stored(trainer.get(), both.get(), data.tokenizer.get(), nullptr, &c,
                                     nullptr, nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("options.teacher") != std::string::npos);
}

TEST_CASE("lm ABI: answers without log-probabilities train by their text (sequence-level)") {
    const fortune_data data;
    const std::string store_path = (data.dir.path() / "plain.sqlite").string();
    {
        distill::Store store(store_path);
        const std::vector<std::pair<std::string, std::string>> answers = {
            {"Q: one", " The first answer."}, {"Q: two", " A second one."}, {"Q: empty", ""}};
        for (size_t i = 0; i < answers.size(); ++i) {
            distill::TeacherRecord record;
            char key[65];
            std::snprintf(key, sizeof key, "%064zx", i + 1);
            record.set_string(DISTILL_RECORD_KEY, key);
            record.set_string(DISTILL_RECORD_TEXT, answers[i].second);
            record.set_string(DISTILL_RECORD_TEACHER_JSON, R"({"name":"plain"})");
            record.set_string(DISTILL_RECORD_PARAMETERS_JSON, "{}");
            record.set_string(DISTILL_RECORD_REQUEST_JSON,
                              R"({"messages":[{"role":"user","content":")" + answers[i].first + R"("}]})");
            store.put(record);
        }
    }
    const distill::Context ctx = cpu();
    distill::Store store(store_path, true);
    distill::Model model = distill::Model::create(config(vocab, 64), 3);

    // The default loss (soft_weight 1, hard_weight 0) cannot learn from text alone.
    distill::Trainer soft_only = trainer_of(ctx, model);
    distill::TextFitOptions fit;
    fit->steps = 30;
    fit->batch_windows = 2;
    distill_text_fit_options c = fit.get();
    distill_stored_rows_info untouched = distill::sized<distill_stored_rows_info>();
    untouched.rows = -7;
    CHECK(distill_trainer_fit_stored(soft_only.get(), store.get(), data.tokenizer.get(), nullptr, &c,
                                     &untouched, nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("hard_weight") != std::string::npos);
    CHECK(untouched.rows == -7);  // a failed call leaves its outs untouched
    CHECK(soft_only.position().second == 0);

    distill_kd_loss_options loss;
    REQUIRE(distill_kd_loss_options_init(&loss) == DISTILL_STATUS_OK);
    loss.soft_weight = 0.0f;
    loss.hard_weight = 1.0f;
    distill::TrainerOptions options;
    options->optimizer_json = R"({"kind": "adamw", "lr": 0.01})";
    options->loss = &loss;
    distill::Trainer trainer(ctx, model, options);
    distill::LmEvalOptions eval;
    distill_stored_rows_info rows{};
    const distill_lm_eval_metrics before =
        distill::lm_evaluate_stored(ctx, model, store, data.tokenizer, "", eval, &rows);
    CHECK(rows.rows == 2);
    CHECK(rows.text_only == 2);
    CHECK(rows.empty == 1);
    CHECK(std::isnan(before.agreement));
    const int64_t expected = int64_t(data.tokenizer.encode(" The first answer.").size() +
                                     data.tokenizer.encode(" A second one.").size());
    CHECK(before.positions == expected);
    distill::fit_stored(trainer, store, data.tokenizer, "", fit);
    const distill_lm_eval_metrics after =
        distill::lm_evaluate_stored(ctx, model, store, data.tokenizer, "", eval);
    CHECK(after.loss < before.loss - 2.0);
    CHECK(after.accuracy > 0.9);
}
