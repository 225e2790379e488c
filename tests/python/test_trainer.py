"""distill.Trainer and distill.Dataset: fitting Fashion-MNIST, checkpoints
that resume bit-identically, Ctrl-C, and errors that name their argument."""
import os
import signal

import numpy as np
import pytest

import distill

MLP = {"kind": "mlp", "inputs": 784, "hidden": [64], "activation": "relu", "dropout": 0.1,
       "outputs": 10}
LABELS_ONLY = {"soft_weight": 0.0, "hard_weight": 1.0}


def fashion(split, limit):
    try:
        return distill.Dataset.fashion_mnist(split, limit=limit)
    except distill.InvalidArgumentError as e:
        pytest.skip(f"Fashion-MNIST is not installed: {e}")


@pytest.fixture(scope="module")
def train():
    return fashion("train", 3000)


@pytest.fixture(scope="module")
def test_set():
    return fashion("test", 1000)


def test_fit_improves_accuracy(train, test_set):
    model = distill.Model(MLP, seed=0)
    before = distill.evaluate(model, test_set)
    trainer = distill.Trainer(model, optimizer={"kind": "adamw", "lr": 3e-3}, **LABELS_ONLY)
    summary = trainer.fit(train, epochs=2, batch_size=64, validation=test_set, progress=False)
    after = distill.evaluate(model, test_set)
    assert before["accuracy"] < 0.3
    assert after["accuracy"] > 0.7
    assert summary["epochs_run"] == 2 and summary["steps"] == 2 * 47
    assert [e["epoch"] for e in summary["history"]] == [1, 2]
    assert summary["history"][-1]["val_accuracy"] == pytest.approx(after["accuracy"])
    assert summary["best_val_accuracy"] == pytest.approx(max(e["val_accuracy"] for e in summary["history"]))
    assert trainer.position == {"epoch": 2, "step": 94}
    assert set(after) == {"examples", "accuracy", "agreement", "mean_kl", "ece", "loss"}
    assert after["examples"] == 1000 and np.isnan(after["agreement"])


def test_resume_is_bit_identical(train, tmp_path):
    data = train.slice(0, 600)

    def fresh():
        return distill.Trainer(distill.Model(MLP, seed=4), optimizer={"kind": "adamw", "lr": 1e-3},
                               seed=2, **LABELS_ONLY)

    straight = fresh()
    straight.fit(data, epochs=3, batch_size=50, progress=False)

    first = fresh()
    first.fit(data, epochs=1, batch_size=50, checkpoint_dir=str(tmp_path / "ckpt"), progress=False)
    resumed = fresh()
    bias = resumed.model.parameters()["layers.0.bias"]  # a view: resume writes in place
    resumed.resume(str(tmp_path / "ckpt"))
    assert resumed.position == {"epoch": 1, "step": 12}
    resumed.fit(data, epochs=2, batch_size=50, progress=False)
    assert resumed.position == straight.position == {"epoch": 3, "step": 36}
    expected = straight.model.parameters()
    for name, value in resumed.model.parameters().items():
        assert np.array_equal(value, expected[name]), name
    assert np.array_equal(bias, expected["layers.0.bias"])
    # And the checkpoint's weights are a model of their own.
    loaded = distill.Model.load(str(tmp_path / "ckpt"))
    np.testing.assert_array_equal(loaded.parameters()["layers.0.bias"],
                                  first.model.parameters()["layers.0.bias"])


def test_progress_events_and_cancel(train, tmp_path):
    data = train.slice(0, 500)
    trainer = distill.Trainer(distill.Model(MLP), **LABELS_ONLY)
    events = []
    summary = trainer.fit(data, epochs=2, batch_size=100, progress=events.append)
    assert {e["event"] for e in events} == {"step", "epoch_end"}
    assert [e["epoch"] for e in events if e["event"] == "epoch_end"] == [1, 2]
    assert summary["steps"] == 10

    def stop(event):
        return event["event"] != "step" or event["done"] < 2

    with pytest.raises(distill.CancelledError):
        trainer.fit(data, epochs=5, batch_size=100, checkpoint_dir=str(tmp_path / "c"), progress=stop)
    assert os.path.exists(tmp_path / "c" / "manifest.json")  # saved on cancel


def test_ctrl_c_stops_fit_cleanly(train):
    trainer = distill.Trainer(distill.Model(MLP), **LABELS_ONLY)
    calls = []

    def interrupt(event):
        calls.append(event)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C in a notebook

    with pytest.raises(KeyboardInterrupt):
        trainer.fit(train.slice(0, 2000), epochs=5, batch_size=20, progress=interrupt)
    assert len(calls) <= 3
    assert trainer.position["step"] < 500
    trainer.step(train.inputs[:4], labels=train.labels[:4])  # still usable


def test_the_progress_bar_writes_to_stderr(train, capsys):
    trainer = distill.Trainer(distill.Model(MLP), **LABELS_ONLY)
    trainer.fit(train.slice(0, 200), epochs=1, batch_size=50)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "100%" in err and "4/4" in err


def test_step_with_topk_teacher():
    rng = np.random.default_rng(0)
    model = distill.Model({"kind": "mlp", "inputs": 8, "hidden": [16], "outputs": 5})
    trainer = distill.Trainer(model, loss=distill.LossOptions(temperature=2.0, tail="bucket"))
    x = rng.standard_normal((4, 8), dtype=np.float32)
    ids = np.tile(np.array([[0, 3]], np.int32), (4, 1))
    logprobs = np.log(np.tile(np.array([[0.6, 0.3]], np.float32), (4, 1)))
    metrics = trainer.step(x, teacher_topk=(ids, logprobs))
    assert metrics["step"] == 1 and np.isfinite(metrics["loss"]) and np.isnan(metrics["accuracy"])
    assert 0 <= metrics["agreement"] <= 1


def test_errors_name_the_argument():
    model = distill.Model({"kind": "mlp", "inputs": 8, "outputs": 3})
    trainer = distill.Trainer(model, temperature=2.0)
    x = np.zeros((4, 8), np.float32)
    teacher = np.zeros((4, 3), np.float32)
    with pytest.raises(distill.InvalidArgumentError, match="inputs"):
        trainer.step(np.zeros((4, 9), np.float32), teacher_logits=teacher)
    with pytest.raises(distill.InvalidArgumentError, match="inputs"):
        trainer.step(x.astype(np.float64), teacher_logits=teacher)
    with pytest.raises(distill.InvalidArgumentError, match="teacher"):
        trainer.step(x)  # soft_weight 1 needs teacher targets
    with pytest.raises(distill.InvalidArgumentError, match="teacher_logits"):
        trainer.step(x, teacher_logits=np.zeros((4, 4), np.float32))
    with pytest.raises(distill.InvalidArgumentError, match="labels"):
        distill.Trainer(model, hard_weight=1.0).step(x, labels=np.zeros(4, np.int32),
                                                     teacher_logits=teacher)
    with pytest.raises(distill.InvalidArgumentError, match="teacher_topk"):
        trainer.step(x, teacher_topk=np.zeros((4, 2), np.int32))
    with pytest.raises(distill.InvalidArgumentError, match="inputs"):
        trainer.step(None)
    with pytest.raises(distill.InvalidArgumentError, match="temprature"):
        distill.Trainer(model, temprature=2.0)
    with pytest.raises(distill.InvalidArgumentError, match="divergence"):
        distill.Trainer(model, divergence="kl")
    with pytest.raises(distill.InvalidArgumentError, match="optimizer"):
        distill.Trainer(model, optimizer={"kind": "adam"})
    with pytest.raises(distill.InvalidArgumentError, match="optimizer"):
        distill.Trainer(model, optimizer="{not json")
    with pytest.raises(distill.InvalidArgumentError, match="model"):
        distill.Trainer(None)
    with pytest.raises(distill.InvalidArgumentError, match="dataset"):
        distill.evaluate(model, None)
    with pytest.raises(distill.InvalidArgumentError, match="device"):
        distill.evaluate(model, distill.Dataset(np.zeros((2, 5), np.float32)), device="tpu")
    with pytest.raises(distill.InvalidArgumentError, match="train"):
        trainer.fit(None)
    with pytest.raises(distill.InvalidArgumentError, match="features|inputs"):
        distill.evaluate(model, distill.Dataset(np.zeros((2, 5), np.float32)))
    with pytest.raises(distill.NotFoundError):
        trainer.resume("/nonexistent/checkpoint")


def test_closed_objects_raise_never_crash():
    model = distill.Model({"kind": "mlp", "inputs": 8, "outputs": 3})
    trainer = distill.Trainer(model, **LABELS_ONLY)
    data = distill.Dataset(np.zeros((4, 8), np.float32), np.zeros(4, np.int64))
    model.close()  # the trainer keeps its own reference
    assert trainer.step(data.inputs, labels=data.labels)["step"] == 1
    with pytest.raises(distill.InvalidArgumentError, match="closed"):
        distill.Trainer(model)
    trainer.close()
    with pytest.raises(distill.InvalidArgumentError, match="closed"):
        trainer.fit(data, epochs=1, progress=False)
    with pytest.raises(distill.InvalidArgumentError, match="closed"):
        trainer.position
    data.close()
    with pytest.raises(distill.InvalidArgumentError, match="closed"):
        len(data)
    with pytest.raises(distill.InvalidArgumentError, match="closed"):
        distill.evaluate(distill.Model({"kind": "mlp", "inputs": 8, "outputs": 3}), data)


def test_dataset_fields_are_views():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.array([0, 1, 2, 1])
    data = distill.Dataset(x, y)
    assert len(data) == 4 and data.features == 3
    np.testing.assert_array_equal(data.inputs, x)
    np.testing.assert_array_equal(data.labels, y)
    assert not data.inputs.flags.writeable
    assert np.shares_memory(data.inputs, data.inputs)  # the library's memory, not a copy each time
    assert data.teacher_logits is None and data.teacher_topk is None
    first = np.ones((4, 2), np.float32)
    data.set_teacher_logits(first)
    view = data.teacher_logits
    data.set_teacher_logits(first * 5)  # a view is alive: the old memory stays valid
    np.testing.assert_array_equal(view, first)
    np.testing.assert_array_equal(data.teacher_logits, first * 5)
    data.set_teacher_topk(np.array([[1], [0], [1], [0]], np.int64), np.zeros((4, 1), np.float32))
    ids, logprobs = data.teacher_topk
    assert ids.dtype == np.int32 and ids[:, 0].tolist() == [1, 0, 1, 0]
    assert data.teacher_logits is None
    part = data.slice(1, 2)
    np.testing.assert_array_equal(part.inputs, x[1:3])
    assert part.teacher_topk[0][:, 0].tolist() == [0, 1]
    with pytest.raises(distill.InvalidArgumentError, match="begin"):
        data.slice(3, 5)
    with pytest.raises(distill.InvalidArgumentError, match="logits"):
        data.set_teacher_logits(np.ones((3, 2), np.float32))
    with pytest.raises(distill.InvalidArgumentError, match="inputs"):
        distill.Dataset(np.zeros((2, 3), np.float64))
    with pytest.raises(distill.InvalidArgumentError, match="labels"):
        distill.Dataset(x, np.zeros(5, np.int64))
