// distill.Trainer and distill.evaluate: the distillation step, the training
// loop with progress, validation and checkpoints, and evaluation.
#include <pybind11/pybind11.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "bindings.h"
#include "common.h"
#include "handles.h"

namespace distill_python {

namespace {

const char * const loss_fields[] = {"divergence",  "beta",        "temperature",  "scale_by_t2",
                                    "soft_weight", "hard_weight", "ignore_index", "tail"};

int32_t choice(py::handle value, const char * name,
               std::initializer_list<std::pair<const char *, int32_t>> table) {
    if (py::isinstance<py::str>(value)) {
        const std::string text = value.cast<std::string>();
        for (const auto & [key, code] : table)
            if (text == key) return code;
    }
    std::string expected;
    for (const auto & entry : table)
        expected += std::string(expected.empty() ? "" : ", ") + "\"" + entry.first + "\"";
    raise_argument(std::string("loss.") + name + ": expected one of " + expected + ", got " +
                   std::string(py::repr(value)));
}

// The loss options from a distill.LossOptions (or any object with its
// attributes), a dict, or None, overridden by keyword arguments.
distill::KdLossOptions loss_options(py::handle loss, const py::kwargs & overrides) {
    py::dict fields;
    if (py::isinstance<py::dict>(loss)) {
        fields = py::reinterpret_borrow<py::dict>(loss);
    } else if (!loss.is_none()) {
        for (const char * name : loss_fields)
            if (py::hasattr(loss, name)) fields[name] = loss.attr(name);
    }
    fields = fields.attr("copy")();
    for (auto item : overrides) fields[item.first] = item.second;
    distill::KdLossOptions options;
    distill_kd_loss_options & o = options.get();
    for (auto item : fields) {
        const std::string name = py::str(item.first);
        py::handle value = item.second;
        try {
            if (name == "divergence")
                o.divergence = choice(value, "divergence",
                                      {{"forward_kl", DISTILL_DIVERGENCE_FORWARD_KL},
                                       {"reverse_kl", DISTILL_DIVERGENCE_REVERSE_KL},
                                       {"jsd", DISTILL_DIVERGENCE_JSD},
                                       {"tvd", DISTILL_DIVERGENCE_TVD}});
            else if (name == "tail")
                o.tail = choice(
                    value, "tail",
                    {{"renormalize", DISTILL_TAIL_RENORMALIZE}, {"bucket", DISTILL_TAIL_BUCKET}});
            else if (name == "beta")
                o.beta = value.cast<float>();
            else if (name == "temperature")
                o.temperature = value.cast<float>();
            else if (name == "scale_by_t2")
                o.scale_by_t2 = value.cast<bool>() ? 1 : 0;
            else if (name == "soft_weight")
                o.soft_weight = value.cast<float>();
            else if (name == "hard_weight")
                o.hard_weight = value.cast<float>();
            else if (name == "ignore_index")
                o.ignore_index = value.cast<int64_t>();
            else
                raise_argument("loss: unknown option \"" + name +
                               "\" (expected divergence, beta, temperature, scale_by_t2, "
                               "soft_weight, hard_weight, ignore_index, tail)");
        } catch (const py::cast_error &) {
            raise_argument("loss." + name + ": expected a number, got " +
                           std::string(py::repr(value)));
        }
    }
    return options;
}

std::optional<std::string> optional_json(py::handle value, const char * name) {
    if (value.is_none()) return std::nullopt;
    return json_text(value, name);
}

py::dict step(PyTrainer & self, py::handle inputs, py::handle labels, py::handle teacher_logits,
              py::handle teacher_topk) {
    distill::Trainer & trainer = self.get();
    if (self.transformer)
        raise_argument(
            "Trainer.step: this trainer's model is a transformer; its batches are tokens: use "
            "Trainer.step_tokens(tokens, labels, teacher_logits, ...)");
    Borrowed x, y, t, ids, logprobs;
    x.acquire(inputs, "inputs", false);
    y.acquire(labels, "labels", false);
    t.acquire(teacher_logits, "teacher_logits", false);
    if (!teacher_topk.is_none()) {
        if (!py::isinstance<py::tuple>(teacher_topk) && !py::isinstance<py::list>(teacher_topk))
            raise_argument(
                "teacher_topk: expected a pair (ids [B, K], logprobs [B, K]), got " +
                std::string(py::str(py::type::handle_of(teacher_topk).attr("__name__"))));
        py::sequence pair = py::reinterpret_borrow<py::sequence>(teacher_topk);
        if (pair.size() != 2)
            raise_argument("teacher_topk: expected a pair (ids, logprobs), got " +
                           std::to_string(pair.size()) + " items");
        ids.acquire(pair[0], "teacher_topk_ids", false);
        logprobs.acquire(pair[1], "teacher_topk_logprobs", false);
    }
    if (x.get() == nullptr) raise_argument("inputs: expected float32 [B, D], got None");
    distill::Batch batch;
    batch->inputs = x.get();
    batch->labels = y.get();
    batch->teacher_logits = t.get();
    batch->teacher_topk_ids = ids.get();
    batch->teacher_topk_logprobs = logprobs.get();
    const distill_step_metrics metrics = released([&] { return trainer.step(batch); });
    py::dict out;
    out["step"] = metrics.step;
    out["loss"] = double(metrics.loss);
    out["learning_rate"] = double(metrics.learning_rate);
    out["grad_norm"] = double(metrics.grad_norm);
    out["accuracy"] = double(metrics.accuracy);
    out["agreement"] = double(metrics.agreement);
    return out;
}

// fit's progress callback: records each finished epoch in `history` and
// hands the event to `progress` (a callable or None).
bool fit_progress(const distill_progress & p, py::handle progress, py::list & history) {
    py::dict event;
    event["event"] = p.event == DISTILL_PROGRESS_EPOCH_END ? "epoch_end" : "step";
    event["done"] = p.done;
    event["total"] = p.total;
    event["epoch"] = p.epoch;
    event["epochs"] = p.epochs;
    event["loss"] = p.loss;
    event["val_accuracy"] = p.val_accuracy;
    event["val_agreement"] = p.val_agreement;
    event["seconds"] = p.elapsed_seconds;
    if (p.event == DISTILL_PROGRESS_EPOCH_END) {
        py::dict epoch;
        epoch["epoch"] = p.epoch;
        epoch["loss"] = p.loss;
        epoch["val_accuracy"] = p.val_accuracy;
        epoch["val_agreement"] = p.val_agreement;
        epoch["seconds"] = p.elapsed_seconds;
        history.append(epoch);
    }
    if (progress.is_none()) return true;
    return !progress(event).is(py::bool_(false));
}

py::dict fit(PyTrainer & self, PyDataset * train, int32_t epochs, int32_t batch_size,
             PyDataset * validation, int32_t patience, py::object checkpoint_dir, bool restore_best,
             py::object progress) {
    distill::Trainer & trainer = self.get();
    if (self.transformer)
        raise_argument(
            "Trainer.fit: this trainer's model is a transformer; it trains on a "
            "distill.TextDataset with Trainer.fit_text(dataset, steps), or on a teacher's "
            "stored answers with Trainer.fit_stored(store, tokenizer, steps)");
    const distill::Dataset & data = require_given(train, "train", "a distill.Dataset").get();
    const distill::Dataset * val = validation ? &validation->get() : nullptr;
    std::optional<std::string> dir;
    if (!checkpoint_dir.is_none()) dir = py::str(checkpoint_dir).cast<std::string>();

    const py::object callable = progress_callable(progress, "FitProgress");
    py::list history;
    distill::FitOptions options;
    options->epochs = epochs;
    options->batch_size = batch_size;
    options->validation = val ? val->get() : nullptr;
    options->early_stopping_patience = patience;
    options->checkpoint_dir = dir ? dir->c_str() : nullptr;
    options->restore_best = restore_best ? 1 : 0;
    // Always installed, so that Ctrl-C is noticed with or without a bar.
    options.on_progress([&](const distill_progress & p) {
        return in_python([&] {
            return fit_progress(p, callable, history) ? DISTILL_STATUS_OK
                                                      : DISTILL_STATUS_CANCELLED;
        }) == DISTILL_STATUS_OK;
    });
    distill_fit_summary summary{};
    try {
        summary = released([&] { return trainer.fit(data, options); });
    } catch (...) {
        close_progress(callable);
        throw;
    }
    close_progress(callable);
    py::dict out;
    out["epochs_run"] = summary.epochs_run;
    out["stopped_early"] = summary.stopped_early != 0;
    out["best_epoch"] = summary.best_epoch;
    out["best_val_accuracy"] = summary.best_val_accuracy;
    out["steps"] = summary.steps;
    out["seconds"] = summary.seconds;
    out["history"] = history;
    return out;
}

py::dict evaluate(PyModel * model, PyDataset * dataset, const std::string & device) {
    distill::Model & m = require_given(model, "model", "a distill.Model").get();
    if (is_transformer(m))
        raise_argument(
            "evaluate: model is a transformer; it is evaluated on a distill.TextDataset with "
            "distill.evaluate_lm(model, dataset)");
    const distill::Dataset & d = require_given(dataset, "dataset", "a distill.Dataset").get();
    const distill::Context & context = device_context(device);
    const distill_eval_metrics metrics =
        released([&] { return distill::evaluate(context, m, d); });
    py::dict out;
    out["examples"] = metrics.examples;
    out["accuracy"] = metrics.accuracy;
    out["agreement"] = metrics.agreement;
    out["mean_kl"] = metrics.mean_kl;
    out["ece"] = metrics.ece;
    out["loss"] = metrics.loss;
    return out;
}

}  // namespace

void bind_training(py::module_ & m) {
    // Keyword defaults are the library's (distill_*_options_init).
    const distill::TrainerOptions trainer_defaults;
    const distill::FitOptions fit_defaults;
    py::class_<PyTrainer>(m, "Trainer", R"doc(Trains a distill.Model: optimiser, schedule, loss.

Trainer(model, optimizer=None, schedule=None, loss=None, *, max_grad_norm=0,
seed=0, device="cpu", **loss_options)
  optimizer  dict or JSON: {"kind": "adamw", "lr": 1e-3, "betas": [0.9, 0.999],
             "eps": 1e-8, "weight_decay": 0.01} (default) or {"kind": "sgd",
             "lr": 0.1, "momentum": 0.9, "nesterov": False, "weight_decay": 0}
  schedule   {"kind": "constant"} (default) or {"kind": "warmup_cosine",
             "warmup_steps": 100, "total_steps": 1000, "min_lr": 0}
  loss       a distill.LossOptions or a dict of its fields; keyword
             arguments (temperature=4, soft_weight=1, hard_weight=0, ...)
             override it. soft_weight > 0 needs teacher targets, hard_weight
             > 0 labels; labels only: soft_weight=0, hard_weight=1.
  device     "cpu", "cuda" or "cuda:N": where the forward, loss and backward
             run; batches stay host arrays, the optimiser runs on the host,
             and fit's validation runs on the CPU.
A transformer's trainer (CPU only) trains with step_tokens, fit_text and
fit_stored, its loss per position reduced batchmean over the positions
whose label is not ignore_index; seed is then unused (fit_text has its own).)doc")
        .def(py::init([](py::object model, py::handle optimizer, py::handle schedule,
                         py::handle loss, float max_grad_norm, uint64_t seed,
                         const std::string & device, const py::kwargs & loss_overrides) {
                 if (!py::isinstance<PyModel>(model))
                     raise_argument(
                         "model: expected a distill.Model, got " +
                         std::string(py::str(py::type::handle_of(model).attr("__name__"))));
                 distill::Model & mm = model.cast<PyModel &>().get();
                 const std::optional<std::string> opt = optional_json(optimizer, "optimizer");
                 const std::optional<std::string> sched = optional_json(schedule, "schedule");
                 const distill::KdLossOptions loss_opts = loss_options(loss, loss_overrides);
                 distill::TrainerOptions options;
                 options->optimizer_json = opt ? opt->c_str() : nullptr;
                 options->schedule_json = sched ? sched->c_str() : nullptr;
                 options->loss = &loss_opts.get();
                 options->max_grad_norm = max_grad_norm;
                 options->seed = seed;
                 auto trainer = translated([&] {
                     return std::make_shared<distill::Trainer>(device_context(device), mm, options);
                 });
                 return PyTrainer{trainer, model, is_transformer(mm)};
             }),
             py::arg("model"), py::arg("optimizer") = py::none(), py::arg("schedule") = py::none(),
             py::arg("loss") = py::none(), py::kw_only(), py::arg("max_grad_norm") = trainer_defaults->max_grad_norm,
             py::arg("seed") = trainer_defaults->seed, py::arg("device") = "cpu")
        .def("step", &step, py::arg("inputs"), py::arg("labels") = py::none(),
             py::arg("teacher_logits") = py::none(), py::arg("teacher_topk") = py::none(),
             "One distillation step on a batch: inputs float32 [B, D]; labels int64 [B]; "
             "teacher_logits float32 [B, C] or teacher_topk (ids [B, K], logprobs [B, K]). "
             "Returns {step, loss, learning_rate, grad_norm, accuracy, agreement}.")
        .def("fit", &fit, py::arg("train"), py::arg("epochs") = fit_defaults->epochs,
             py::arg("batch_size") = fit_defaults->batch_size,
             py::arg("validation") = py::none(), py::arg("early_stopping_patience") = fit_defaults->early_stopping_patience,
             py::arg("checkpoint_dir") = py::none(), py::arg("restore_best") = fit_defaults->restore_best != 0,
             py::arg("progress") = true,
             "Trains for `epochs` more epochs. progress: True (a bar on stderr), False, or a "
             "callable(event: dict) (returning False cancels). Ctrl-C stops cleanly (a checkpoint "
             "is written when checkpoint_dir is set) and raises KeyboardInterrupt. Returns "
             "{epochs_run, stopped_early, best_epoch, best_val_accuracy, steps, seconds, history}.")
        .def(
            "save",
            [](const PyTrainer & self, py::handle dir) {
                const std::string path = py::str(dir);
                translated([&] { self.get().save(path); });
            },
            py::arg("dir"),
            "Writes a checkpoint directory (weights, optimizer, schedule, data order).")
        .def(
            "resume",
            [](PyTrainer & self, py::handle dir) {
                const std::string path = py::str(dir);
                translated([&] { self.get().resume(path); });
            },
            py::arg("dir"), "Loads a checkpoint: fit() then continues exactly where it stopped.")
        .def_property_readonly(
            "position",
            [](const PyTrainer & self) {
                const auto [epoch, step] = translated([&] { return self.get().position(); });
                py::dict out;
                out["epoch"] = epoch;
                out["step"] = step;
                return out;
            },
            "{\"epoch\": completed epochs, \"step\": optimizer steps}.")
        .def_property_readonly("model", [](const PyTrainer & self) { return self.model; })
        .def("close", [](PyTrainer & self) { self.handle.reset(); })
        .def_property_readonly("closed", [](const PyTrainer & self) { return !self.handle; });

    m.def("evaluate", &evaluate, py::arg("model"), py::arg("dataset"), py::arg("device") = "cpu",
          "Figures of `model` on `dataset` (eval mode): {examples, accuracy, agreement, mean_kl, "
          "ece, loss}; NaN where the dataset lacks labels or teacher targets. device: \"cpu\", "
          "\"cuda\" or \"cuda:N\" (where the forward runs; the metrics are computed on the "
          "host).");
}

}  // namespace distill_python
