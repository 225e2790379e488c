"""distill.Tokenizer against Hugging Face `tokenizers`: the same ids, token for
token, on 1 MB of mixed text (tokenizer_corpus.py) for tokenizers trained by
`tokenizers` (GPT-2 and Llama 3 pre-tokenizers) and trained by us (loaded
back by `tokenizers`); byte-exact round trips with invalid UTF-8; refusals.
"""
import json
import os
import sys

import numpy as np
import pytest

import distill

sys.path.insert(0, os.path.dirname(__file__))
from tokenizer_corpus import documents, mixed_text, with_invalid_utf8  # noqa: E402

tokenizers = pytest.importorskip("tokenizers")
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402

LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIALS = ["<|endoftext|>", "<|pad|>"]
VOCAB = 3000


@pytest.fixture(scope="module")
def text():
    body = mixed_text()
    # Special tokens inside the text, matched before the split.
    return body[:5000] + "<|endoftext|>" + body[5000:9000] + "<|pad|><|pad|>x" + body[9000:]


@pytest.fixture(scope="module")
def docs(text):
    return documents(text)


def hf_pre_tokenizer(style):
    if style == "gpt2":
        return pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])


def hf_trained(style, docs):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = hf_pre_tokenizer(style)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(docs, trainer=trainer)
    return tok


def assert_same_ids(ours, theirs, docs):
    """ids of every document equal, token for token; names the first difference."""
    total = 0
    for d, doc in enumerate(docs):
        expected = theirs.encode(doc, add_special_tokens=False).ids
        got = ours.encode(doc)
        assert got.dtype == np.int32
        if got.tolist() != expected:
            got = got.tolist()
            i = next((k for k in range(min(len(got), len(expected))) if got[k] != expected[k]),
                     min(len(got), len(expected)))
            context = theirs.decode(expected[max(0, i - 3):i + 3])
            pytest.fail(f"document {d}, token {i}: ours {got[i:i + 5]}, tokenizers "
                        f"{expected[i:i + 5]} near {context!r}")
        total += len(expected)
    return total


@pytest.fixture(scope="module", params=["gpt2", "llama3"])
def hf_pair(request, docs, tmp_path_factory):
    theirs = hf_trained(request.param, docs)
    path = tmp_path_factory.mktemp("tok") / f"{request.param}.json"
    theirs.save(str(path))
    return request.param, theirs, distill.Tokenizer.from_file(str(path)), path


def test_corpus_is_mixed_and_large(text):
    data = text.encode()
    assert len(data) >= 1 << 20
    for sample in ["é", "東京", "🙂", "    ", "\n\n", "int main", "I'M"]:
        assert sample in text


def test_same_ids_as_tokenizers_on_a_tokenizer_it_trained(hf_pair, docs, text):
    _, theirs, ours, _ = hf_pair
    assert ours.vocab_size == theirs.get_vocab_size()
    count = assert_same_ids(ours, theirs, docs)
    assert count < len(text.encode()) / 2  # merges were used
    # One long call as well (no document boundaries).
    assert ours.encode(text).tolist() == theirs.encode(text, add_special_tokens=False).ids


def test_decode_matches_tokenizers_and_round_trips(hf_pair, docs):
    _, theirs, ours, _ = hf_pair
    for doc in docs[:50] + docs[-50:]:
        ids = ours.encode(doc)
        assert ours.decode(ids) == doc
        assert theirs.decode(ids.tolist(), skip_special_tokens=False) == doc


def test_invalid_utf8_bytes_round_trip_exactly(hf_pair, text):
    _, theirs, ours, _ = hf_pair
    data = with_invalid_utf8(text)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    ids = ours.encode(data)
    assert ours.decode_bytes(ids) == data
    # tokenizers takes str only: on the same bytes decoded with U+FFFD the
    # ids agree too.
    replaced = data.decode("utf-8", errors="replace")
    assert ours.encode(replaced).tolist() == theirs.encode(replaced, add_special_tokens=False).ids


def test_legacy_merges_and_ignore_merges_read_like_tokenizers(hf_pair, docs):
    style, theirs, _, path = hf_pair
    spec = json.loads(path.read_text())
    spec["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in spec["model"]["merges"]]
    spec["model"]["ignore_merges"] = True
    legacy = json.dumps(spec)
    theirs_legacy = Tokenizer.from_str(legacy)
    ours_legacy = distill.Tokenizer.from_str(legacy)
    assert_same_ids(ours_legacy, theirs_legacy, docs[:40])


def test_added_tokens_with_lstrip_and_rstrip_match_tokenizers(hf_pair, docs):
    _, theirs, _, _ = hf_pair
    tok = Tokenizer.from_str(theirs.to_str())
    tok.add_special_tokens([tokenizers.AddedToken("<mask>", lstrip=True, rstrip=False),
                            tokenizers.AddedToken("[END]", lstrip=False, rstrip=True)])
    tok.add_tokens(["hello world"])
    ours = distill.Tokenizer.from_str(tok.to_str())
    samples = ["a <mask> b", "x   <mask>[END]   y", "hello world<mask>\n\n[END]\nz", "<mask>"]
    samples += [d.replace("the", "<mask>").replace(".", "[END]") for d in docs[:10]]
    for s in samples:
        assert ours.encode(s).tolist() == tok.encode(s, add_special_tokens=False).ids, s


@pytest.mark.parametrize("style", ["gpt2", "llama3"])
def test_ours_trained_loads_in_tokenizers_and_encodes_identically(style, docs, text, tmp_path):
    ours = distill.Tokenizer.train(docs, vocab_size=VOCAB, split=style, special_tokens=SPECIALS)
    assert ours.vocab_size == VOCAB
    assert ours.token_to_id("<|pad|>") == 1
    again = distill.Tokenizer.train(docs, vocab_size=VOCAB, split=style, special_tokens=SPECIALS)
    assert again.to_str() == ours.to_str()  # deterministic
    path = tmp_path / "ours.json"
    ours.save(str(path))
    theirs = Tokenizer.from_file(str(path))
    assert theirs.get_vocab_size() == VOCAB
    count = assert_same_ids(ours, theirs, docs)
    assert count < len(text.encode()) / 2.5
    data = with_invalid_utf8(text[:100000])
    assert ours.decode_bytes(ours.encode(data)) == data
    assert distill.Tokenizer.from_file(str(path)).to_str() == ours.to_str()


def test_token_lookups():
    tok = distill.Tokenizer.train(["the cat the dog the end"] * 10, vocab_size=270,
                                  special_tokens=["<s>"])
    assert tok.token_to_id("<s>") == 0
    assert tok.id_to_token(0) == "<s>"
    assert tok.token_to_id("Ġthe") is not None
    assert tok.token_to_id("no such token") is None
    assert tok.id_to_token(100000) is None
    with pytest.raises(distill.InvalidArgumentError, match=r"ids\[1\]: expected a token id"):
        tok.decode([1, 100000])
    assert tok.decode(np.array([], dtype=np.int32)) == ""
    assert tok.encode("").shape == (0,)


def refused(error, json_text):
    with pytest.raises(error) as info:
        distill.Tokenizer.from_str(json_text)
    return str(info.value)


def test_other_model_types_are_refused_by_name():
    wordpiece = Tokenizer(models.WordPiece(vocab={"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    assert "model type WordPiece is not supported: expected BPE" in refused(
        distill.UnsupportedError, wordpiece.to_str())
    unigram = Tokenizer(models.Unigram([("a", -1.0), ("b", -2.0)]))
    assert "model type Unigram is not supported: expected BPE" in refused(
        distill.UnsupportedError, unigram.to_str())
    wordlevel = Tokenizer(models.WordLevel(vocab={"[UNK]": 0}, unk_token="[UNK]"))
    assert "model type WordLevel is not supported" in refused(distill.UnsupportedError,
                                                             wordlevel.to_str())


def test_unsupported_parts_and_malformed_files_are_refused():
    base = Tokenizer(models.BPE())
    base.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    base.decoder = decoders.ByteLevel()
    spec = json.loads(base.to_str())
    assert distill.Tokenizer.from_str(json.dumps(spec)).vocab_size == 0
    nfc = dict(spec, normalizer={"type": "NFC"})
    assert "normalizer NFC is not supported: expected null" in refused(distill.UnsupportedError,
                                                                      json.dumps(nfc))
    bert = dict(spec, pre_tokenizer={"type": "BertPreTokenizer"})
    assert "pre_tokenizer BertPreTokenizer is not supported" in refused(distill.UnsupportedError,
                                                                       json.dumps(bert))
    fallback = json.loads(json.dumps(spec))
    fallback["model"]["byte_fallback"] = True
    assert "model.byte_fallback" in refused(distill.UnsupportedError, json.dumps(fallback))
    bad_regex = dict(spec, pre_tokenizer={"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "(\\p{L"}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}]})
    assert "does not compile" in refused(distill.InvalidArgumentError, json.dumps(bad_regex))
    assert "not valid JSON" in refused(distill.InvalidArgumentError, '{"model": {')
    with pytest.raises(distill.NotFoundError, match="no/such/tokenizer.json"):
        distill.Tokenizer.from_file("no/such/tokenizer.json")
    with pytest.raises(distill.InvalidArgumentError, match="vocab_size: expected at least 256"):
        distill.Tokenizer.train(["abc"], vocab_size=10)
    with pytest.raises(distill.InvalidArgumentError, match="wrap a single text in a list"):
        distill.Tokenizer.train("one text", vocab_size=300)
    with pytest.raises(distill.InvalidArgumentError, match="text: expected str or bytes"):
        distill.Tokenizer.train(["abc"], vocab_size=300).encode(12)
