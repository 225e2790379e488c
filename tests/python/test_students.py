"""distill.Model against PyTorch: the same forward, and the same training
steps from the same initial weights (llm.c's check against its reference),
plus parameter views, save/load and safetensors interchange."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import distill
from student_torch_reference import build_torch_student

MLP = {"kind": "mlp", "inputs": 20, "hidden": [32, 16], "activation": "gelu", "dropout": 0.0,
       "outputs": 10}
CNN = {"kind": "cnn", "input_shape": [1, 8, 8], "conv": [{"channels": 4, "kernel": 3, "padding": 1}],
       "hidden": [16], "activation": "relu", "dropout": 0.0, "outputs": 5}


def torch_twin(model):
    """The torch module of model's config, loaded with a copy of its weights."""
    module = build_torch_student(model.config)
    module.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.parameters().items()})
    return module


def batches(steps, batch, inputs, classes, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = rng.standard_normal((batch, inputs), dtype=np.float32)
        teacher = rng.standard_normal((batch, classes), dtype=np.float32) * 3
        y = rng.integers(0, classes, batch, dtype=np.int64)
        yield x, teacher, y


def torch_distillation_loss(student, teacher, labels, temperature, soft_weight, hard_weight):
    """Hinton's loss, written independently: soft_weight·T²·KL(teacher‖student)
    at temperature T (batch mean) + hard_weight·CE(labels)."""
    t = temperature
    kl = F.kl_div(F.log_softmax(student / t, dim=-1), F.log_softmax(teacher / t, dim=-1),
                  log_target=True, reduction="batchmean")
    return soft_weight * t * t * kl + hard_weight * F.cross_entropy(student, labels)


def assert_same_weights(model, module, atol):
    ours = model.parameters()
    for name, value in module.state_dict().items():
        np.testing.assert_allclose(ours[name], value.numpy(), rtol=1e-5, atol=atol, err_msg=name)


@pytest.mark.parametrize("optimizer, steps", [
    ({"kind": "adamw", "lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1}, 10),
    ({"kind": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": False, "weight_decay": 0.01}, 5),
])
def test_training_steps_match_pytorch(optimizer, steps):
    model = distill.Model(MLP, seed=3)
    module = torch_twin(model)
    trainer = distill.Trainer(model, optimizer=optimizer, temperature=2.0, soft_weight=1.0,
                              hard_weight=0.5)
    if optimizer["kind"] == "adamw":
        reference = torch.optim.AdamW(module.parameters(), lr=optimizer["lr"],
                                      betas=tuple(optimizer["betas"]), eps=optimizer["eps"],
                                      weight_decay=optimizer["weight_decay"])
    else:
        reference = torch.optim.SGD(module.parameters(), lr=optimizer["lr"],
                                    momentum=optimizer["momentum"],
                                    weight_decay=optimizer["weight_decay"])
    for step, (x, teacher, y) in enumerate(batches(steps, 32, 20, 10, seed=step_seed(optimizer))):
        metrics = trainer.step(x, labels=y, teacher_logits=teacher)
        reference.zero_grad()
        loss = torch_distillation_loss(module(torch.from_numpy(x)), torch.from_numpy(teacher),
                                       torch.from_numpy(y), 2.0, 1.0, 0.5)
        loss.backward()
        reference.step()
        assert metrics["step"] == step + 1
        assert metrics["loss"] == pytest.approx(loss.item(), rel=1e-4), f"step {step + 1}"
    assert_same_weights(model, module, atol=1e-6)


def step_seed(optimizer):
    return 7 if optimizer["kind"] == "adamw" else 8


def test_training_moves_the_weights():
    # Guards the comparison above: a trainer that did nothing would match a
    # reference that did nothing too, but not one that learns.
    model = distill.Model(MLP, seed=3)
    before = {k: v.copy() for k, v in model.parameters().items()}
    trainer = distill.Trainer(model, optimizer={"kind": "sgd", "lr": 0.1}, soft_weight=0, hard_weight=1)
    x, _, y = next(batches(1, 16, 20, 10, seed=1))
    trainer.step(x, labels=y)
    assert any(not np.array_equal(before[k], v) for k, v in model.parameters().items())


@pytest.mark.parametrize("config", [MLP, CNN], ids=["mlp", "cnn"])
def test_predict_matches_torch_forward(config):
    model = distill.Model(config, seed=11)
    module = torch_twin(model).eval()
    x = torch.randn(6, model.inputs)
    with torch.no_grad():
        logits = module(x)
    np.testing.assert_allclose(model.predict(x.numpy()), logits.numpy(), rtol=1e-5, atol=1e-5)
    # A torch tensor is read in place as well.
    np.testing.assert_allclose(model.predict(x, output="probabilities"),
                               F.softmax(logits, -1).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(x, output="log_probabilities"),
                               F.log_softmax(logits, -1).numpy(), rtol=1e-5, atol=1e-5)


def test_parameters_are_views_of_the_model():
    model = distill.Model(MLP, seed=1)
    x = np.random.default_rng(0).standard_normal((3, 20), dtype=np.float32)
    before = model.predict(x)
    params = model.parameters()
    assert list(params) == ["layers.0.weight", "layers.0.bias", "layers.3.weight", "layers.3.bias",
                            "layers.6.weight", "layers.6.bias"]
    assert params["layers.0.weight"].shape == (32, 20) and params["layers.0.weight"].dtype == np.float32
    assert np.shares_memory(params["layers.6.bias"], model.parameters()["layers.6.bias"])
    params["layers.6.bias"][:] += 1.0  # every logit up by one
    np.testing.assert_allclose(model.predict(x), before + 1.0, rtol=1e-5, atol=1e-5)
    # The views keep the memory alive after the model object is closed and gone.
    bias = params["layers.6.bias"]
    model.close()
    del model, params
    assert float(bias.sum()) == pytest.approx(float(bias.copy().sum()))


def test_torch_weights_load_through_the_views():
    model = distill.Model(MLP, seed=1)
    module = build_torch_student(MLP).eval()  # torch's own initialisation
    for name, value in module.state_dict().items():
        model.parameters()[name][...] = value.numpy()
    x = torch.randn(4, 20)
    with torch.no_grad():
        np.testing.assert_allclose(model.predict(x), module(x).numpy(), rtol=1e-5, atol=1e-5)


def test_closed_model_raises():
    model = distill.Model(MLP)
    model.close()
    assert model.closed
    with pytest.raises(distill.InvalidArgumentError, match="closed"):
        model.predict(np.zeros((1, 20), np.float32))
    with pytest.raises(distill.InvalidArgumentError, match="closed"):
        model.parameters()


def test_save_load_round_trip(tmp_path):
    model = distill.Model(CNN, seed=5)
    path = tmp_path / "cnn.safetensors"
    model.save(str(path))
    loaded = distill.Model.load(str(path))
    assert loaded.config == model.config
    for name, value in model.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[name], value)
    x = np.random.default_rng(2).standard_normal((4, 64), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_load_refuses_a_tampered_file(tmp_path):
    path = tmp_path / "model.safetensors"
    distill.Model(MLP).save(str(path))
    data = bytearray(path.read_bytes())
    header_size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + header_size])
    header["layers.0.bias"]["data_offsets"][1] += 4  # overlaps the next tensor
    text = json.dumps(header, separators=(",", ":")).encode().ljust(header_size)
    assert len(text) == header_size
    data[8:8 + header_size] = text
    path.write_bytes(bytes(data))
    with pytest.raises(distill.CorruptFileError, match="layers.0.bias|offset"):
        distill.Model.load(str(path))
    path.write_bytes(bytes(data[: len(data) // 2]))  # truncated
    with pytest.raises(distill.CorruptFileError):
        distill.Model.load(str(path))
    with pytest.raises(distill.NotFoundError):
        distill.Model.load(str(tmp_path / "missing.safetensors"))


def test_pytorch_loads_the_saved_weights(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    model = distill.Model(MLP, seed=9)
    path = tmp_path / "mlp.safetensors"
    model.save(str(path))
    module = build_torch_student(model.config)
    module.load_state_dict(safetensors_torch.load_file(str(path)))  # strict: names and shapes
    x = torch.randn(5, 20)
    with torch.no_grad():
        np.testing.assert_allclose(module.eval()(x).numpy(), model.predict(x), rtol=1e-5, atol=1e-5)


def test_model_errors_name_the_argument():
    with pytest.raises(distill.InvalidArgumentError, match="kind"):
        distill.Model({"kind": "rnn"})
    with pytest.raises(distill.InvalidArgumentError, match="vocab"):  # a transformer since ABI 10
        distill.Model({"kind": "transformer"})
    model = distill.Model(MLP)
    with pytest.raises(distill.InvalidArgumentError, match="inputs"):
        model.predict(np.zeros((2, 21), np.float32))
    with pytest.raises(distill.InvalidArgumentError, match="inputs"):
        model.predict(np.zeros((2, 20), np.float64))
    with pytest.raises(distill.InvalidArgumentError, match="output"):
        model.predict(np.zeros((2, 20), np.float32), output="softmax")
    with pytest.raises(distill.InvalidArgumentError, match="inputs"):
        model.predict(None)
