"""distill.tokenize_files and distill.TextDataset on real text (Debian's
fortunes, else tokenizer_corpus's generated text): every window holds the ids
of encoding each document on its own (with distill.Tokenizer and with the
`tokenizers` package loading the same tokenizer.json) followed by the
end-of-document id; window views are read-only and keep the mapping alive;
damaged, missing and malformed inputs raise the distill error of their kind;
the progress callback is called and can cancel."""
import gc
import hashlib
import json
import os
import sys

import numpy as np
import pytest

import distill

sys.path.insert(0, os.path.dirname(__file__))
from tokenizer_corpus import fortunes_text, mixed_text  # noqa: E402

tokenizers = pytest.importorskip("tokenizers")

EOS = "<|endoftext|>"
CONTEXT = 32


def fortune_documents(limit=300_000):
    """Fortunes cut at their "%" separator lines: short real documents."""
    text = fortunes_text(limit) or mixed_text(limit)
    docs = [d.strip("\n") for d in text.replace("\r\n", "\n").split("\n%\n")]
    return [d for d in docs if d.strip()]


@pytest.fixture(scope="module")
def docs():
    out = fortune_documents()
    assert len(out) > 200
    return out


@pytest.fixture(scope="module")
def tok_pair(docs, tmp_path_factory):
    """(distill.Tokenizer, tokenizers.Tokenizer) of one tokenizer.json."""
    ours = distill.Tokenizer.train(docs, vocab_size=1200, special_tokens=[EOS, "<|pad|>"])
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    ours.save(str(path))
    return ours, tokenizers.Tokenizer.from_file(str(path))


def expected_stream(docs, tok_pair):
    """The ids of each document encoded alone, each followed by the EOS id;
    the same from both tokenizers."""
    ours, theirs = tok_pair
    eos = ours.token_to_id(EOS)
    stream = []
    for doc in docs:
        ids = ours.encode(doc).tolist()
        assert ids == theirs.encode(doc, add_special_tokens=False).ids
        stream += ids + [eos]
    return stream


def served(dataset, split):
    """A split's windows laid end to end (consecutive windows share a token)."""
    count = dataset.info[split + "_windows"]
    out = []
    for i in range(count):
        w = dataset.window(split, i).tolist()
        if out:
            assert out[-1] == w[0]
            w = w[1:]
        out += w
    return out


def write_files(tmp_path, docs):
    paths = []
    for i, doc in enumerate(docs):
        path = tmp_path / f"doc{i:04d}.txt"
        path.write_bytes(doc.encode())
        paths.append(path)
    return paths


def test_windows_are_each_document_encoded_alone(docs, tok_pair, tmp_path):
    ours, _ = tok_pair
    chosen = docs[:150]
    paths = write_files(tmp_path, chosen)
    out = tmp_path / "corpus.tokens"
    summary = distill.tokenize_files(ours, paths, out, context=CONTEXT)
    stream = expected_stream(chosen, tok_pair)
    assert summary["train_documents"] == len(chosen)
    assert summary["validation_documents"] == 0
    assert summary["train_tokens"] == len(stream)
    assert summary["train_windows"] == (len(stream) - 1) // CONTEXT
    assert summary["token_bytes"] == 2
    assert summary["file_bytes"] == os.path.getsize(out)
    with distill.TextDataset(out) as ds:
        info = ds.info
        assert info["context"] == CONTEXT
        assert info["vocab_size"] == ours.vocab_size
        assert info["eos_id"] == ours.token_to_id(EOS)
        assert info["train_tokens"] == len(stream)
        assert info["train_windows"] == summary["train_windows"]
        assert info["tokenizer_sha256"] == hashlib.sha256(ours.to_str().encode()).digest()
        got = served(ds, "train")
        assert got == stream[:len(got)]
        assert len(got) == info["train_windows"] * CONTEXT + 1
        w = ds.window("train", 3)
        assert w.dtype == np.uint16 and w.shape == (CONTEXT + 1,)
        assert w.tolist() == stream[3 * CONTEXT:4 * CONTEXT + 1]


def test_the_same_corpus_gives_the_same_file(docs, tok_pair, tmp_path):
    paths = write_files(tmp_path, docs[:40])
    a, b = tmp_path / "a.tokens", tmp_path / "b.tokens"
    distill.tokenize_files(tok_pair[0], paths, a, context=8, validation_fraction=0.25, seed=5)
    distill.tokenize_files(tok_pair[0], [str(p) for p in paths], str(b), context=8,
                           validation_fraction=0.25, seed=5)
    assert a.read_bytes() == b.read_bytes()


def test_validation_split_takes_whole_documents_in_corpus_order(docs, tok_pair, tmp_path):
    ours, _ = tok_pair
    chosen = docs[:100]
    paths = write_files(tmp_path, chosen)
    out = tmp_path / "split.tokens"
    summary = distill.tokenize_files(ours, paths, out, context=8, validation_fraction=0.2, seed=7)
    assert summary["validation_documents"] == 20
    assert summary["train_documents"] == 80
    encoded = [expected_stream([d], tok_pair) for d in chosen]
    assert summary["train_tokens"] + summary["validation_tokens"] == sum(map(len, encoded))
    with distill.TextDataset(out) as ds:
        train, validation = served(ds, "train"), served(ds, "validation")
    # Walk the documents in order: each goes wholly to one split, in order.
    t = v = 0
    for ids in encoded:
        if train[t:t + len(ids)] == ids[:len(train) - t] and t < len(train):
            t += len(ids)
        else:
            assert validation[v:v + len(ids)] == ids[:max(0, len(validation) - v)]
            v += len(ids)
    assert t >= len(train) and v >= len(validation)


def test_blank_lines_and_jsonl_layouts(docs, tok_pair, tmp_path):
    ours, _ = tok_pair
    # Fortunes without blank lines inside, so that blank lines separate them.
    chosen = [d for d in docs if all(line.strip() for line in d.split("\n"))][:60]
    stream = expected_stream(chosen, tok_pair)
    blank = tmp_path / "corpus.txt"
    blank.write_text("\n \t\n\n".join(chosen) + "\n", encoding="utf-8")
    jsonl = tmp_path / "corpus.jsonl"
    lines = [json.dumps({"text": d, "id": i}) for i, d in enumerate(chosen)]
    jsonl.write_text("\n".join(lines[:5]) + "\n\n" + "\n".join(lines[5:]) + "\n", encoding="utf-8")
    for path, layout in ((blank, "blank_lines"), (jsonl, "auto"), (jsonl, "jsonl")):
        out = tmp_path / f"{layout}.tokens"
        summary = distill.tokenize_files(ours, path, out, context=CONTEXT, layout=layout)
        assert summary["train_documents"] == len(chosen), layout
        with distill.TextDataset(out) as ds:
            got = served(ds, "train")
        assert got == stream[:len(got)], layout
    # "file": the whole .txt is one document.
    summary = distill.tokenize_files(ours, blank, tmp_path / "one.tokens", context=CONTEXT,
                                     layout="file")
    assert summary["train_documents"] == 1


def test_malformed_jsonl_line_is_named(tok_pair, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine"}\n{"text": "also fine"}\nnot json at all\n', encoding="utf-8")
    with pytest.raises(distill.CorruptFileError, match=r"line 3") as caught:
        distill.tokenize_files(tok_pair[0], path, tmp_path / "x.tokens", context=2)
    assert "bad.jsonl" in str(caught.value)
    assert not (tmp_path / "x.tokens").exists()


def test_bad_arguments_are_refused(docs, tok_pair, tmp_path):
    ours, _ = tok_pair
    paths = write_files(tmp_path, docs[:10])
    out = tmp_path / "x.tokens"
    with pytest.raises(distill.InvalidArgumentError, match="<none>"):
        distill.tokenize_files(ours, paths, out, context=4, eos_token="<none>")
    with pytest.raises(distill.InvalidArgumentError, match="layout"):
        distill.tokenize_files(ours, paths, out, context=4, layout="csv")
    with pytest.raises(distill.InvalidArgumentError):
        distill.tokenize_files(ours, paths, out, context=0)
    with pytest.raises(distill.InvalidArgumentError):
        distill.tokenize_files(ours, paths, out, context=4, validation_fraction=1.0)
    with pytest.raises(distill.NotFoundError) as caught:
        distill.tokenize_files(ours, [tmp_path / "absent.txt"], out, context=4)
    assert isinstance(caught.value, FileNotFoundError)
    assert "absent.txt" in str(caught.value)
    with pytest.raises(TypeError):
        distill.tokenize_files(ours, paths, out)  # context is required
    assert not out.exists()


@pytest.fixture
def dataset_file(docs, tok_pair, tmp_path):
    paths = write_files(tmp_path, docs[:80])
    out = tmp_path / "d.tokens"
    distill.tokenize_files(tok_pair[0], paths, out, context=16, validation_fraction=0.25, seed=1)
    return out


def test_window_view_is_read_only_and_keeps_the_mapping(dataset_file):
    ds = distill.TextDataset(dataset_file)
    w = ds.window("validation", 1)
    expected = w.copy()
    assert not w.flags.writeable and not w.flags.owndata
    with pytest.raises(ValueError):
        w[0] = 1
    ds.close()
    del ds
    gc.collect()
    assert np.array_equal(w, expected)
    again = distill.TextDataset(dataset_file)
    assert np.array_equal(again.window("validation", 1), expected)
    again.close()
    with pytest.raises(distill.InvalidArgumentError, match="closed"):
        again.window("train", 0)


def test_batch_and_shuffle(dataset_file, tok_pair):
    ours, _ = tok_pair
    with distill.TextDataset(dataset_file) as ds:
        n = ds.info["train_windows"]
        order = ds.shuffled_windows("train", 42)
        assert order.dtype == np.int64
        assert sorted(order.tolist()) == list(range(n))
        assert np.array_equal(order, ds.shuffled_windows("train", 42))
        assert not np.array_equal(order, ds.shuffled_windows("train", 43))
        pick = order[:5]
        tokens, targets = ds.batch("train", pick)
        assert tokens.dtype == np.int32 and targets.dtype == np.int32
        assert tokens.shape == targets.shape == (5, 16)
        for row, i in enumerate(pick):
            w = ds.window("train", int(i)).astype(np.int32)
            assert np.array_equal(tokens[row], w[:-1])
            assert np.array_equal(targets[row], w[1:])
        t, y = ds.batch("validation", [])
        assert t.shape == y.shape == (0, 16)
        with pytest.raises(distill.InvalidArgumentError):
            ds.batch("train", [n])
        with pytest.raises(distill.InvalidArgumentError):
            ds.window("validation", ds.info["validation_windows"])
        with pytest.raises(distill.InvalidArgumentError, match="split"):
            ds.window("test", 0)
        with pytest.raises(distill.InvalidArgumentError, match="indices"):
            ds.batch("train", [[0, 1]])
        with pytest.raises(distill.InvalidArgumentError, match="integer"):
            ds.batch("train", [1.5])
        small = np.array([2], dtype=np.uint8)
        assert np.array_equal(ds.batch("train", small)[0], ds.batch("train", [2])[0])
        ds.check_tokenizer(ours)
        other = distill.Tokenizer.train(["a b c d"] * 5, vocab_size=260, special_tokens=[EOS])
        with pytest.raises(distill.InvalidArgumentError):
            ds.check_tokenizer(other)
        ds.check_model(ours.vocab_size, 16)
        ds.check_model(ours.vocab_size + 10, 64)
        with pytest.raises(distill.InvalidArgumentError):
            ds.check_model(ours.vocab_size - 1, 16)
        with pytest.raises(distill.InvalidArgumentError):
            ds.check_model(ours.vocab_size, 15)


def test_truncated_and_missing_files(dataset_file, tmp_path):
    data = dataset_file.read_bytes()
    for size in (0, 10, len(data) // 2, len(data) - 1):
        cut = tmp_path / f"cut{size}.tokens"
        cut.write_bytes(data[:size])
        with pytest.raises(distill.CorruptFileError):
            distill.TextDataset(cut)
    other = tmp_path / "other.tokens"
    other.write_bytes(b"not a token dataset" + data[19:])
    with pytest.raises(distill.CorruptFileError):
        distill.TextDataset(other)
    with pytest.raises(distill.NotFoundError) as caught:
        distill.TextDataset(tmp_path / "absent.tokens")
    assert isinstance(caught.value, FileNotFoundError)
    assert "absent.tokens" in str(caught.value)


def test_progress_is_called_and_can_cancel(docs, tok_pair, tmp_path):
    ours, _ = tok_pair
    paths = write_files(tmp_path, docs[:50])
    out = tmp_path / "p.tokens"
    events = []
    distill.tokenize_files(ours, paths, out, context=8, progress=events.append)
    assert events and events[-1]["writing"] is True
    last = events[-1]
    assert last["files_done"] == last["files_total"] == 50
    assert last["bytes_done"] == last["bytes_total"] == sum(os.path.getsize(p) for p in paths)
    assert last["documents"] == 50
    out.unlink()
    calls = []

    def cancel(event):
        calls.append(event)
        return False

    with pytest.raises(distill.CancelledError):
        distill.tokenize_files(ours, paths, out, context=8, progress=cancel)
    assert len(calls) == 1 and not out.exists()

    def fail(event):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        distill.tokenize_files(ours, paths, out, context=8, progress=fail)
    assert not out.exists()


def test_progress_bar(docs, tok_pair, tmp_path, capsys):
    paths = write_files(tmp_path, docs[:20])
    distill.tokenize_files(tok_pair[0], paths, tmp_path / "b.tokens", context=8, progress=True)
    assert "tokenize:" in capsys.readouterr().err
