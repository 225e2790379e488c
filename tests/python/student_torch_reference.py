"""The PyTorch twin of distill's built-in students (core/students/model.h),
built from the same JSON config: the same parameter names and shapes (so a
state_dict of distill's parameters loads with load_state_dict) and the same
forward semantics. Written from the documented architecture, not from the
library, for the tests that compare the two."""
import torch
from torch import nn


def _activation(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "gelu":
        return nn.GELU()  # exact erf form, as distill
    raise ValueError(f'activation: expected "relu" or "gelu", got {name!r}')


def _mlp(inputs: int, config: dict) -> nn.Sequential:
    """Linear, activation, Dropout per hidden layer (three modules each, the
    Dropout present even with p = 0), then the output Linear."""
    modules = []
    width = inputs
    for hidden in config.get("hidden", []):
        modules += [nn.Linear(width, hidden), _activation(config.get("activation", "relu")),
                    nn.Dropout(config.get("dropout", 0.0))]
        width = hidden
    modules.append(nn.Linear(width, config["outputs"]))
    return nn.Sequential(*modules)


class MLPStudent(nn.Module):
    """layers.{3i}.weight / .bias; input [B, inputs] (anything that
    flattens to it)."""

    def __init__(self, config: dict):
        super().__init__()
        self.layers = _mlp(config["inputs"], config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(1))


class CNNStudent(nn.Module):
    """features.{3i} (Conv2d, activation, MaxPool2d(2)) and head.{3j} (the
    MLP over the flattened features); input [B, C·H·W] or [B, C, H, W]."""

    def __init__(self, config: dict):
        super().__init__()
        self.input_shape = tuple(config["input_shape"])
        channels, height, width = self.input_shape
        modules = []
        for conv in config["conv"]:
            padding = conv.get("padding", 0)
            modules += [nn.Conv2d(channels, conv["channels"], conv["kernel"], padding=padding),
                        _activation(config.get("activation", "relu")), nn.MaxPool2d(2)]
            channels = conv["channels"]
            height = (height + 2 * padding - conv["kernel"] + 1) // 2
            width = (width + 2 * padding - conv["kernel"] + 1) // 2
        self.features = nn.Sequential(*modules)
        self.head = _mlp(channels * height * width, config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(-1, *self.input_shape)
        return self.head(self.features(x).flatten(1))


def build_torch_student(config: dict) -> nn.Module:
    """The torch module of a distill student config (the JSON of
    core/students/model_config.h, as a dict)."""
    if config.get("kind") == "mlp":
        return MLPStudent(config)
    if config.get("kind") == "cnn":
        return CNNStudent(config)
    raise ValueError(f'kind: expected "mlp" or "cnn", got {config.get("kind")!r}')
