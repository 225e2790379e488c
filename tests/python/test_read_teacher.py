"""Dataset.read_teacher: the teacher's answers read offline from a store
file, with no teacher at all (the store was filled earlier by ask_teacher,
or shipped by a colleague)."""
import json

import numpy as np
import pytest

import distill


def fill_store(path, x, name="teacher", temperature=1.0, seed=5):
    """Asks a ModelTeacher about `x` through the store at `path`; returns the
    targets it gave and the (teacher, parameters) the store filed them under
    (the export's last line: this teacher's answers are the newest rows)."""
    model = distill.Model({"kind": "mlp", "inputs": x.shape[1], "hidden": [8], "outputs": 5},
                          seed=seed)
    with distill.Store(str(path)) as store:
        data = distill.Dataset(x)
        data.ask_teacher(distill.ModelTeacher(model, name=name, temperature=temperature),
                         store=store, progress=False)
        ids, logprobs = (np.array(a) for a in data.teacher_topk)
        export = path.parent / (path.name + ".jsonl")
        store.export_jsonl(str(export))
    with open(export) as lines:
        provenance = json.loads(lines.readlines()[-1])["provenance"]
    return ids, logprobs, provenance["teacher"], provenance["parameters"]


def inputs(rows, seed=1):
    return np.random.default_rng(seed).standard_normal((rows, 6)).astype(np.float32)


def test_read_teacher_gives_the_targets_ask_teacher_gave(tmp_path):
    x = inputs(40)
    path = tmp_path / "answers.db"
    ids, logprobs, identity, parameters = fill_store(path, x)

    # Later, elsewhere: the store file only, read-only, no teacher anywhere.
    with distill.Store(str(path), read_only=True) as store:
        offline = distill.Dataset(x, np.zeros(40, np.int64))
        assert offline.read_teacher(store) is None
        np.testing.assert_array_equal(offline.teacher_topk[0], ids)
        np.testing.assert_array_equal(offline.teacher_topk[1], logprobs)

        # The identity and parameters as dicts or as JSON text.
        named = distill.Dataset(x)
        named.read_teacher(store, teacher_identity=identity, teacher_parameters=parameters)
        np.testing.assert_array_equal(named.teacher_topk[1], logprobs)
        part = distill.Dataset(x[10:20])
        part.read_teacher(store, json.dumps(identity))
        np.testing.assert_array_equal(part.teacher_topk[0], ids[10:20])

    # A student distils from the offline targets as from asked ones.
    student = distill.Model({"kind": "mlp", "inputs": 6, "outputs": 5})
    trainer = distill.Trainer(student, optimizer={"kind": "adamw", "lr": 0.05})
    trainer.fit(offline, epochs=20, batch_size=10, progress=False)
    assert distill.evaluate(student, offline)["agreement"] > 0.6


def test_read_teacher_errors_name_what_is_missing_and_who_answered(tmp_path):
    x = inputs(30)
    path = tmp_path / "partial.db"
    fill_store(path, x[:25], name="first")
    with distill.Store(str(path), read_only=True) as store:
        data = distill.Dataset(x)
        with pytest.raises(distill.InvalidArgumentError,
                           match="for 25 of these 30 examples; 5 are missing, the first is "
                                 "example 25"):
            data.read_teacher(store)
        assert data.teacher_topk is None

        with pytest.raises(ValueError, match="teacher_identity_json: .*no answer to any of these "
                                             "25 examples from teacher .*someone.*it answers "
                                             "them from: .*first"):
            distill.Dataset(x[:25]).read_teacher(store, {"kind": "model", "name": "someone"})
        with pytest.raises(distill.InvalidArgumentError, match="teacher_identity_json: expected "
                                                               "valid JSON"):
            data.read_teacher(store, "{not json")
        with pytest.raises(ValueError, match="store"):
            data.read_teacher(None)

    # A second teacher answered the same examples: None no longer chooses.
    _, _, second, _ = fill_store(path, x[:25], name="second", seed=6)
    with distill.Store(str(path), read_only=True) as store:
        both = distill.Dataset(x[:25])
        with pytest.raises(distill.InvalidArgumentError,
                           match=r"from 2 teachers; pass the identity of one: .*\"first\"\} "
                                 r"\(25 examples\), .*\"second\"\} \(25 examples\)"):
            both.read_teacher(store)
        both.read_teacher(store, second)
        assert both.teacher_topk[0].shape == (25, 5)


def test_read_teacher_chooses_among_parameter_sets(tmp_path):
    x = inputs(12)
    path = tmp_path / "temperatures.db"
    _, cold, identity, cold_parameters = fill_store(path, x, temperature=1.0)
    _, warm, _, warm_parameters = fill_store(path, x, temperature=4.0)
    assert cold_parameters != warm_parameters
    with distill.Store(str(path), read_only=True) as store:
        data = distill.Dataset(x)
        with pytest.raises(distill.InvalidArgumentError,
                           match="teacher_parameters_json: .*asked with 2 parameter sets"):
            data.read_teacher(store, identity)
        data.read_teacher(store, identity, warm_parameters)
        np.testing.assert_array_equal(data.teacher_topk[1], warm)
        data.read_teacher(store, teacher_parameters=cold_parameters)
        np.testing.assert_array_equal(data.teacher_topk[1], cold)
