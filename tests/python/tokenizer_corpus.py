"""A deterministic mixed corpus of at least 1 MB for the tokenizer tests and bench.

English prose from Debian's `fortunes` (/usr/share/games/fortunes) when it is
installed, else generated sentences; then generated text with accents, Greek
and Cyrillic, CJK, emoji (with skin tones, ZWJ sequences and flags), source
code, numbers, contractions in both cases, and runs of spaces, tabs and
newlines. `with_invalid_utf8` adds bytes that are not UTF-8.
"""
import os
import random

FORTUNES = "/usr/share/games/fortunes"

ACCENTED = ["café", "naïve", "Zürich", "São Paulo", "Ångström", "façade", "jalapeño",
            "crème brûlée", "Dvořák", "Łódź", "İstanbul", "ÉCOLE", "smörgåsbord"]
OTHER_SCRIPTS = ["Ελληνικά γράμματα", "русский язык", "東京", "北京大学", "日本語のテキストです",
                 "한국어 문장", "中文，标点。", "ภาษาไทย", "עברית", "العربية", "हिन्दी"]
EMOJI = ["🙂", "👍🏽", "👨‍👩‍👧", "🇫🇷", "🚀🚀", "❤️", "🤖", "🎉✨"]
WORDS = ("the of and to in is was for that with as on by at from his her an were "
         "which are this be has had not but they or its one new first also after "
         "time two can only people over would").split()
CODE = [
    "def merge(pairs, rank):\n    for i in range(len(pairs) - 1):\n        if pairs[i] == rank:\n            return i\n    return -1\n",
    "int main(int argc, char ** argv) {\n\tstd::vector<int32_t> ids{1, 2, 3};\n\treturn ids.size() > 2 ? 0 : 1;\n}\n",
    "SELECT id, name FROM users WHERE created_at >= '2024-01-01' ORDER BY id DESC;\n",
    "    if (x != nullptr && *x == '\\n') { y += 0x1F; }  // comment\n",
    "{\"key\": [1, 2.5, -3e10, null, true], \"nested\": {\"a\": \"b\"}}\n",
]
SPACING = ["  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", " \n ", "\r\n", "        \n",
           "\u00a0", "\u3000", "\u2028", "\u0085"]
CONTRACTIONS = ["don't", "I'M", "we'll", "they've", "She'D", "it's", "YOU'RE"]


def fortunes_text(limit):
    if not os.path.isdir(FORTUNES):
        return ""
    parts, total = [], 0
    for name in sorted(os.listdir(FORTUNES)):
        path = os.path.join(FORTUNES, name)
        if "." in name or not os.path.isfile(path) or os.path.islink(path):
            continue
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        parts.append(text)
        total += len(text)
        if total >= limit:
            break
    return "".join(parts)[:limit]


def generated_text(rng, size):
    pieces, total = [], 0
    while total < size:
        kind = rng.randrange(8)
        if kind == 0:
            piece = rng.choice(ACCENTED)
        elif kind == 1:
            piece = rng.choice(OTHER_SCRIPTS)
        elif kind == 2:
            piece = rng.choice(EMOJI)
        elif kind == 3:
            piece = rng.choice(CODE)
        elif kind == 4:
            piece = rng.choice(SPACING) * rng.randrange(1, 4)
        elif kind == 5:
            piece = str(rng.randrange(10 ** rng.randrange(1, 12)))
        elif kind == 6:
            piece = rng.choice(CONTRACTIONS)
        else:
            piece = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 12)))
            if rng.random() < 0.3:
                piece = piece.capitalize() + rng.choice([".", "!", "?", ",", ";", "..."])
        pieces.append(piece)
        pieces.append(rng.choice([" ", " ", " ", "\n", "", "  "]))
        total += len(piece.encode()) + 1
    return "".join(pieces)


def mixed_text(size=1 << 20, seed=13):
    """At least `size` bytes of UTF-8: about half prose, half generated mix."""
    rng = random.Random(seed)
    prose = fortunes_text(size // 2)
    if not prose:
        prose = generated_text(random.Random(seed + 1), size // 2)
    text = prose + generated_text(rng, size - len(prose.encode()))
    assert len(text.encode()) >= size
    return text


def documents(text, length=4096):
    """The text cut at line ends into documents of about `length` characters."""
    out, start = [], 0
    while start < len(text):
        end = text.find("\n", start + length)
        end = len(text) if end < 0 else end + 1
        out.append(text[start:end])
        start = end
    return out


def with_invalid_utf8(text, seed=13):
    """The UTF-8 of text with invalid sequences spliced in every few hundred bytes."""
    rng = random.Random(seed)
    bad = [b"\xff", b"\xfe\xfe", b"\xc3(", b"\xed\xa0\x80", b"\xf0\x9f\x99", b"\x80", b"\xc0\xaf"]
    data = text.encode()
    out, position = [], 0
    while position < len(data):
        step = rng.randrange(100, 600)
        out.append(data[position:position + step])
        out.append(rng.choice(bad))
        position += step
    return b"".join(out)
