"""Reference ids for the Java and C# tokenizer tests (tests/java,
tests/csharp), made by Hugging Face `tokenizers` itself:

  <dir>/gpt2.json, <dir>/llama3.json  byte-level BPE tokenizers trained by
      tokenizers' BpeTrainer (GPT-2's ByteLevel split; Llama 3's Split then
      ByteLevel) on tests/python/tokenizer_corpus.py's mixed text, with the
      special tokens <|endoftext|> and <|pad|> (ids 0 and 1)
  <dir>/wordpiece.json  a WordPiece tokenizer.json, which distill refuses
  <dir>/vocab_sizes.tsv  NAME<TAB>get_vocab_size()
  <dir>/ids.tsv  NAME<TAB>HEX<TAB>IDS, one probe a line: HEX the probe's
      UTF-8 bytes in hex, IDS tokenizer.encode(text,
      add_special_tokens=False).ids separated by spaces (empty for none)

The probes are documents of another draw of the mixed text (prose, accents,
CJK, emoji with ZWJ sequences and flags, code, runs of spaces and newlines)
and short strings with the special tokens inside.

Exits 77 (CTest's skip), leaving <dir>/SKIPPED with the reason, when
tokenizers cannot be imported.

Usage: python make_tokenizer_ids_reference.py DIR
"""
import os
import random
import sys

if len(sys.argv) != 2:
    raise SystemExit("usage: make_tokenizer_ids_reference.py DIR")
DIR = sys.argv[1]
os.makedirs(DIR, exist_ok=True)
if os.path.exists(os.path.join(DIR, "SKIPPED")):
    os.remove(os.path.join(DIR, "SKIPPED"))
try:
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
except ImportError as exc:
    reason = f"tokenizers is not importable by {sys.executable} ({exc})"
    with open(os.path.join(DIR, "SKIPPED"), "w") as f:
        f.write(reason + "\n")
    print(f"make_tokenizer_ids_reference: skipped, {reason}")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from tokenizer_corpus import documents, generated_text, mixed_text  # noqa: E402

LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIALS = ["<|endoftext|>", "<|pad|>"]
VOCAB = 800
SHORT = ["", "a", " ", "Hello, world!", "  two  spaces\nand a newline\n\n\n", "caf\u00e9 na\u00efve",
         "\u6771\u4eac \u5317\u4eac\u5927\u5b66 \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
         "\U0001F642 \U0001F44D\U0001F3FD \U0001F468\u200d\U0001F469\u200d\U0001F467 \U0001F1EB\U0001F1F7",
         "<|endoftext|>", "before<|endoftext|>after", "x<|pad|><|pad|> y <|endoftext|>\n",
         "I'M sure we'll see they've DON'T", "def f(x):\n\treturn x + 1\n", "1234567890 3.14159",
         "\u00a0\u3000\u2028 mixed\r\nline ends\r\n"]


def train(style, texts):
    tok = Tokenizer(models.BPE())
    if style == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


corpus = documents(mixed_text(), 4096)[::3]  # a third of it: 350 kB, prose and the mix
probes = SHORT + documents(generated_text(random.Random(29), 60_000), 1500)
probes[-1] = probes[-1] + "<|endoftext|>" + probes[0]
with open(os.path.join(DIR, "ids.tsv"), "w") as ids, \
        open(os.path.join(DIR, "vocab_sizes.tsv"), "w") as sizes:
    for style in ("gpt2", "llama3"):
        tok = train(style, corpus)
        tok.save(os.path.join(DIR, f"{style}.json"))
        sizes.write(f"{style}\t{tok.get_vocab_size()}\n")
        for text in probes:
            encoded = tok.encode(text, add_special_tokens=False).ids
            ids.write(f"{style}\t{text.encode().hex()}\t{' '.join(map(str, encoded))}\n")
wordpiece = Tokenizer(models.WordPiece(vocab={"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
with open(os.path.join(DIR, "wordpiece.json"), "w") as f:
    f.write(wordpiece.to_str())
print(f"make_tokenizer_ids_reference: {len(probes)} probes for gpt2 and llama3 in {DIR}")
