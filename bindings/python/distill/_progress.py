"""Small progress bars on stderr for Trainer.fit, Dataset.ask_teacher,
distill.collect and distill.tokenize_files (``progress=True``), in the style of tqdm without needing it.

On a terminal or in Jupyter: one line redrawn with a carriage return at most
ten times a second, which both render in place. Anywhere else (a log file, a
pipe, CI): whole lines, at most one every ``log_interval`` seconds plus the
final one, so a log holds readable lines rather than carriage-return
redraws."""
from __future__ import annotations

import math
import sys
import time

_WIDTH = 24


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _redraws_in_place(stream) -> bool:
    """True for a terminal and for Jupyter's output streams (ipykernel's
    OutStream says it is no tty, yet the notebook renders ``\\r`` in place)."""
    if type(stream).__module__.startswith("ipykernel"):
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (ValueError, OSError):  # a closed or detached stream
        return False


class Bar:
    """``desc: 45%|██████▉       | 450/1000 [00:02<00:03, 150.0 ex/s, extra]``."""

    def __init__(self, unit: str, stream=None, min_interval: float = 0.1,
                 log_interval: float = 10.0):
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.in_place = _redraws_in_place(self.stream)
        self.min_interval = min_interval if self.in_place else log_interval
        self._last_draw = 0.0
        self._last_line = ""
        self._open = False

    def draw(self, desc: str, done: int, total: int, seconds: float, extra: str = "",
             force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        fraction = min(1.0, done / total) if total > 0 else 0.0
        filled = fraction * _WIDTH
        full = int(filled)
        partial = " ▏▎▍▌▋▊▉"[int((filled - full) * 8)] if full < _WIDTH else ""
        bar = ("█" * full + partial).ljust(_WIDTH)
        rate = done / seconds if seconds > 0 else 0.0
        left = (total - done) / rate if rate > 0 else float("nan")
        line = (f"{desc}: {fraction * 100:3.0f}%|{bar}| {done}/{total} "
                f"[{_duration(seconds)}<{_duration(left)}, {rate:.1f} {self.unit}/s"
                f"{', ' + extra if extra else ''}]")
        if self.in_place:
            pad = " " * max(0, len(self._last_line) - len(line))
            self.stream.write("\r" + line + pad)
            self._open = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._last_line = line

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


class FitProgress:
    """Trainer.fit: one bar per epoch (optimizer steps), the running loss,
    and the validation figures when the epoch ends."""

    def __init__(self, stream=None):
        self.bar = Bar("step", stream)
        self._epoch = None
        self._epoch_start = 0.0  # seconds into the call when this epoch began
        self._last_seconds = 0.0

    def __call__(self, event: dict) -> None:
        desc = f"epoch {event['epoch']}/{event['epochs']}"
        if event["epoch"] != self._epoch:
            if self._epoch is not None:
                self.bar.close()
                self._epoch_start = self._last_seconds
            self._epoch = event["epoch"]
        self._last_seconds = event["seconds"]
        extra = f"loss={event['loss']:.4f}" if math.isfinite(event["loss"]) else ""
        end = event["event"] == "epoch_end"
        if end and math.isfinite(event["val_accuracy"]):
            extra += f", val_acc={event['val_accuracy']:.4f}"
        self.bar.draw(desc, event["done"], event["total"], event["seconds"] - self._epoch_start,
                      extra, force=end)

    def close(self) -> None:
        self.bar.close()


class AskProgress:
    """Dataset.ask_teacher: examples answered, asked and from the store."""

    def __init__(self, stream=None):
        self.bar = Bar("ex", stream)

    def __call__(self, event: dict) -> None:
        extra = f"asked={event['asked']}, stored={event['from_store']}"
        self.bar.draw("teacher", event["done"], event["total"], event["seconds"], extra,
                      force=event["done"] == event["total"])

    def close(self) -> None:
        self.bar.close()


class CollectProgress:
    """distill.collect: requests done, failures, tokens and cost."""

    def __init__(self, stream=None):
        self.bar = Bar("req", stream)

    def __call__(self, summary: dict) -> None:
        done = summary["answered_from_store"] + summary["asked"]
        tokens = summary["prompt_tokens"] + summary["completion_tokens"]
        extra = f"failed={summary['failed']}, tokens={tokens}"
        if summary["cost_usd"] > 0:
            extra += f", ${summary['cost_usd']:.4f}"
        self.bar.draw("collect", done, summary["requests"], summary["seconds"], extra,
                      force=done == summary["requests"])

    def close(self) -> None:
        self.bar.close()


class TokenizeProgress:
    """distill.tokenize_files: megabytes of the input read, documents and
    tokens so far; the final line once the file is being written."""

    def __init__(self, stream=None):
        self.bar = Bar("MB", stream)

    def __call__(self, event: dict) -> None:
        extra = f"docs={event['documents']}, tokens={event['tokens']}"
        if event["writing"]:
            extra += ", writing"
        mb = 1 << 20
        self.bar.draw("tokenize", event["bytes_done"] // mb, -(-event["bytes_total"] // mb),
                      event["seconds"], extra, force=event["writing"])

    def close(self) -> None:
        self.bar.close()


class TextFitProgress:
    """Trainer.fit_text and Trainer.fit_stored: optimizer steps of this call
    towards the target step, the running loss, positions per second, and the
    validation loss and perplexity when a validation ends."""

    def __init__(self, stream=None):
        self.bar = Bar("step", stream)
        self._start = None  # the trainer's step before this call's first one
        self._validation = ""

    def __call__(self, event: dict) -> None:
        if self._start is None:
            self._start = event["step"] - (0 if event["event"] == "validation" else 1)
        extra = f"loss={event['loss']:.4f}" if math.isfinite(event["loss"]) else ""
        extra += f", {event['tokens_per_second']:.0f} tok/s"
        validation = event["validation"]
        if validation is not None and math.isfinite(validation["loss"]):
            self._validation = (f", val_loss={validation['loss']:.4f}, "
                                f"val_ppl={validation['perplexity']:.2f}")
        self.bar.draw(f"step {event['step']}/{event['steps']}", event["step"] - self._start,
                      event["steps"] - self._start, event["seconds"], extra + self._validation,
                      force=validation is not None or event["step"] == event["steps"])

    def close(self) -> None:
        self.bar.close()
