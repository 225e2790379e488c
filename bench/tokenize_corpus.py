"""Corpus to token file: distill.tokenize_files against the same pipeline
written with Hugging Face `tokenizers`, in the same run, on the same
tokenizer.json and the same JSONL corpus.

    .venv/bin/python bench/tokenize_corpus.py [--megabytes 8] [--repeat 3] [--vocab 8000]

The corpus is Debian's fortunes (/usr/share/games/fortunes), one fortune
per JSONL line ({"text": ...}), repeated until it holds --megabytes; the
tokenizer is GPT-2-style byte-level BPE trained by `tokenizers` with
<|endoftext|> as an added token. Each side reads the JSONL, encodes every
document on one thread, appends the end-of-document id and writes the ids
as uint16:
  * distill: tokenize_files (it also splits by document, 1% validation,
    hashes the tokenizer and writes the file atomically with fsync), and
  * tokenizers: json.loads per line, Tokenizer.encode(add_special_tokens=
    False) per document (RAYON_NUM_THREADS=1), numpy uint16 tofile.
Both must count the same tokens. The best of --repeat passes counts (a
first pass warms both word caches, and the page cache). Prints MB/s,
M tokens/s and ours/theirs.
"""
import argparse
import json
import os
import tempfile
import time

os.environ["RAYON_NUM_THREADS"] = "1"  # tokenizers' thread pool: one thread
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import numpy as np  # noqa: E402

import distill  # noqa: E402
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402

FORTUNES = "/usr/share/games/fortunes"
EOS = "<|endoftext|>"


def fortunes():
    """Every fortune of every plain fortune file (the .dat indexes skipped)."""
    out = []
    for name in sorted(os.listdir(FORTUNES)):
        path = os.path.join(FORTUNES, name)
        if name.endswith((".dat", ".u8")) or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            out += [doc.strip("\n") for doc in f.read().split("\n%\n") if doc.strip()]
    return out


def write_corpus(path, docs, megabytes):
    size = 0
    with open(path, "w", encoding="utf-8") as f:
        while size < megabytes * 1e6:
            for doc in docs:
                line = json.dumps({"text": doc}, ensure_ascii=False) + "\n"
                f.write(line)
                size += len(line.encode())
    return size


def train(docs, vocab):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(docs, trainer=trainers.BpeTrainer(
        vocab_size=vocab, show_progress=False, special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return tok


def theirs_pipeline(tok, corpus, out):
    eos = tok.token_to_id(EOS)
    ids = []
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            ids += tok.encode(json.loads(line)["text"], add_special_tokens=False).ids
            ids.append(eos)
    np.asarray(ids, dtype=np.uint16).tofile(out)
    return len(ids)


def ours_pipeline(tok, corpus, out):
    summary = distill.tokenize_files(tok, [corpus], out, context=256, validation_fraction=0.01,
                                     eos_token=EOS)
    return summary["train_tokens"] + summary["validation_tokens"]


def best_seconds(fn, repeat):
    count = fn()  # warm the caches
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best, count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--vocab", type=int, default=8000)
    args = parser.parse_args()
    docs = fortunes()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.jsonl")
        size = write_corpus(corpus, docs, args.megabytes)
        theirs = train(docs, args.vocab)
        tokenizer_path = os.path.join(tmp, "tokenizer.json")
        theirs.save(tokenizer_path)
        ours = distill.Tokenizer.from_file(tokenizer_path)
        t_theirs, n_theirs = best_seconds(
            lambda: theirs_pipeline(theirs, corpus, os.path.join(tmp, "theirs.u16")), args.repeat)
        t_ours, n_ours = best_seconds(
            lambda: ours_pipeline(ours, corpus, os.path.join(tmp, "ours.tokens")), args.repeat)
    assert n_ours == n_theirs, f"token counts differ: distill {n_ours}, tokenizers {n_theirs}"
    megabytes = size / 1e6
    print(f"corpus: {megabytes:.2f} MB of JSONL, {n_ours / 1e6:.2f} M tokens; vocab {args.vocab}; "
          "one thread")
    for name, seconds in [("tokenizers", t_theirs), ("distill", t_ours)]:
        print(json.dumps({"bench": "tokenize_corpus", "pipeline": name, "seconds": seconds,
                          "megabytes_per_second": megabytes / seconds,
                          "tokens_per_second": n_ours / seconds}))
    print(json.dumps({"bench": "tokenize_corpus_ratio", "distill_vs_tokenizers": t_theirs / t_ours}))


if __name__ == "__main__":
    main()
