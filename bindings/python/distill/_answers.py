"""Helpers for teachers written in Python: read the example a
Dataset.ask_teacher request carries, and answer with class scores."""
from __future__ import annotations

import base64

import numpy as np


def request_features(request: dict) -> np.ndarray:
    """The float32 [D] features of a Dataset.ask_teacher request
    ``{"input": {"dtype": "uint8" | "float32", "shape": [D], "divisor": d,
    "data": base64}}`` (uint8 values are byte / divisor)."""
    try:
        item = request["input"]
        raw = base64.b64decode(item["data"], validate=True)
        shape = tuple(item["shape"])
        if item["dtype"] == "uint8":
            values = np.frombuffer(raw, dtype=np.uint8).astype(np.float32) / np.float32(item["divisor"])
        elif item["dtype"] == "float32":
            values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        else:
            raise ValueError(f"unknown dtype {item['dtype']!r}")
        return values.reshape(shape)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"request: expected a Dataset.ask_teacher request, got {str(request)[:80]}: {e}") from None


def classification_answer(logits, temperature: float = 1.0, top_k: int | None = None) -> dict:
    """A CallbackTeacher answer for one example from class logits [C] (NumPy,
    a list, or a torch tensor): one position whose top-k alternatives are the
    classes (id = class index, token = its decimal text) with their
    log-probabilities log_softmax(logits / temperature), most likely first —
    what Dataset.ask_teacher reads."""
    if hasattr(logits, "detach"):
        logits = logits.detach().cpu().numpy()
    z = np.asarray(logits, dtype=np.float64).reshape(-1) / float(temperature)
    logprobs = z - (z.max() + np.log(np.exp(z - z.max()).sum()))
    order = np.argsort(-logprobs, kind="stable")[: top_k or len(z)]
    top = [(int(c), str(int(c)), float(logprobs[c])) for c in order]
    best = top[0]
    return {"positions": [{"token": best[1], "id": best[0], "logprob": best[2], "top": top}],
            "logprobs_kind": "raw"}
