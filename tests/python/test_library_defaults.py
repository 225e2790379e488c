"""The Python defaults and enum values are the library's (read from the
extension, which reads distill_*_options_init and distill.h's enums), not
numbers repeated in Python."""
import dataclasses
import inspect

import distill
from distill import _distill


def test_loss_enums_are_the_c_abi_values():
    assert _distill.DIVERGENCES == {"forward_kl": 0, "reverse_kl": 1, "jsd": 2, "tvd": 3}
    assert _distill.REDUCTIONS == {"batchmean": 0, "sum": 1, "none": 2}
    assert _distill.TAILS == {"renormalize": 0, "bucket": 1}


def test_loss_options_defaults_are_the_library_defaults():
    defaults = _distill.KD_LOSS_DEFAULTS
    assert defaults["ignore_index"] == -100 and defaults["temperature"] == 1.0
    for field in dataclasses.fields(distill.LossOptions):
        assert field.default == defaults[field.name], field.name
    kd = inspect.signature(distill.kd_loss).parameters
    for name in ("divergence", "beta", "temperature", "scale_by_t2", "soft_weight",
                 "ignore_index", "reduction", "tail"):
        assert kd[name].default == defaults[name], name


def test_http_teacher_keyword_defaults_come_from_the_library():
    doc = _distill.HttpTeacher.__init__.__doc__
    # distill_http_teacher_options_init: 600000 ms, 10000 ms, 60 s, 2 retries.
    for text in ("timeout: ", "= 600.0", "= 10.0", "low_speed_seconds: ", "= 60", "= 2"):
        assert text in doc, text


def test_tokenize_files_defaults_come_from_the_library():
    # distill_tokenize_options_init: no validation split, seed 0, layout AUTO.
    defaults = _distill.TOKENIZE_DEFAULTS
    assert defaults == {"validation_fraction": 0.0, "seed": 0, "layout": "auto"}
    assert _distill.CORPUS_LAYOUTS == {"auto": 0, "file": 1, "blank_lines": 2, "jsonl": 3}
    assert _distill.SPLITS == {"train": 0, "validation": 1}
    doc = distill.tokenize_files.__doc__
    for name, value in defaults.items():
        assert f"{name}: " in doc and f"= {value!r}" in doc, name
