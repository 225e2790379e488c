"""Single-thread encode throughput: distill.Tokenizer against Hugging Face
`tokenizers`, in the same run, on the same tokenizer.json and the same 1 MB
of mixed text (tests/python/tokenizer_corpus.py).

    .venv/bin/python bench/tokenizer_encode.py [--repeat 3] [--vocab 8000]

For each pre-tokenizer (GPT-2's ByteLevel regex, Llama 3's Split regex) a
tokenizer is trained by `tokenizers` and loaded by both; each side encodes
every 4 KB document one call at a time (tokenizers' encode(...,
add_special_tokens=False), no batch threads) and the best of --repeat passes
counts. A first pass fills both word caches. Prints MB/s and ours/theirs.
"""
import argparse
import os
import sys
import tempfile
import time

os.environ["RAYON_NUM_THREADS"] = "1"  # tokenizers' thread pool: one thread
os.environ["TOKENIZERS_PARALLELISM"] = "false"

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
from tokenizer_corpus import documents, mixed_text  # noqa: E402

import distill  # noqa: E402
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402

LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def train(style, docs, vocab):
    tok = Tokenizer(models.BPE())
    if style == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(docs, trainer=trainers.BpeTrainer(
        vocab_size=vocab, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return tok


def best_seconds(fn, repeat):
    fn()  # warm the caches
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--vocab", type=int, default=8000)
    args = parser.parse_args()
    text = mixed_text()
    docs = documents(text)
    megabytes = len(text.encode()) / 1e6
    print(f"corpus: {megabytes:.2f} MB in {len(docs)} documents; vocab {args.vocab}; one thread")
    for style in ["gpt2", "llama3"]:
        theirs = train(style, docs, args.vocab)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "tokenizer.json")
            theirs.save(path)
            ours = distill.Tokenizer.from_file(path)
        assert all(ours.encode(d).tolist() == theirs.encode(d, add_special_tokens=False).ids
                   for d in docs), "the ids differ: fix that before timing"
        t_theirs = best_seconds(lambda: [theirs.encode(d, add_special_tokens=False) for d in docs],
                                args.repeat)
        t_ours = best_seconds(lambda: [ours.encode(d) for d in docs], args.repeat)
        print(f"{style:7s} tokenizers {megabytes / t_theirs:7.2f} MB/s   distill "
              f"{megabytes / t_ours:7.2f} MB/s   ours/theirs {t_theirs / t_ours:5.2f}x")


if __name__ == "__main__":
    main()
