"""Reference values for distill's Hugging Face model folders
(core/train/hf_folder.h), both ways, with transformers itself:

(a) Our exports. For each name in <dir>/ours/cases.txt (written by the C++
    test "hf folder: export the folders transformers checks"), the folder
    <dir>/ours/<name> is loaded with AutoModelForCausalLM.from_pretrained and
    AutoTokenizer.from_pretrained (local path, HF_HUB_OFFLINE=1), and what
    they give for <dir>/ours/<name>.probe.json ({"tokens": [[...]],
    "strings": [...]}) goes to <dir>/ours/<name>.hf.safetensors:
      logits   F32 [B, T, V]
      __metadata__ {"ids": JSON list of tokenizer(s, add_special_tokens=False)
                    ids per string, "ids_default": the same with the default
                    add_special_tokens (no BOS may appear)}

(b) Their checkpoints. Random LlamaForCausalLM models (GQA and not, tied and
    untied, one saved in bfloat16) are written with save_pretrained
    (safe_serialization) beside a byte-level BPE PreTrainedTokenizerFast
    into <dir>/theirs/<name>, and <dir>/theirs/<name>.expected.safetensors
    holds tokens (I32 [B, T]), their logits (F32, computed in fp32 from the
    weights as saved) and __metadata__ {"strings", "ids"}.
    <dir>/theirs/cases.txt lists the names.

Exits 77 (CTest's skip), leaving <dir>/SKIPPED with the reason, when torch or
transformers cannot be imported.

Usage: python make_hf_folder_reference.py DIR
"""
import json
import os
import shutil
import sys

if len(sys.argv) != 2:
    raise SystemExit("usage: make_hf_folder_reference.py DIR")
DIR = sys.argv[1]
os.makedirs(DIR, exist_ok=True)
if os.path.exists(os.path.join(DIR, "SKIPPED")):
    os.remove(os.path.join(DIR, "SKIPPED"))
os.environ["HF_HUB_OFFLINE"] = "1"  # local folders only, never the network
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
try:
    import torch
    from safetensors.torch import save_file
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (AutoModelForCausalLM, AutoTokenizer, LlamaConfig,
                              LlamaForCausalLM, PreTrainedTokenizerFast)
except ImportError as exc:
    reason = f"transformers is not importable by {sys.executable} ({exc})"
    with open(os.path.join(DIR, "SKIPPED"), "w") as f:
        f.write(reason + "\n")
    print(f"make_hf_folder_reference: skipped, {reason}")
    sys.exit(77)

STRINGS = ["Hello, world!", "  two  spaces\nand a newline", "caf\u00e9 \u65e5\u672c \U0001F600",
           "def f(x):\n    return x + 1", "<|endoftext|>after the special token"]

# (name, LlamaConfig fields, dtype of the saved weights, seed)
THEIRS = [
    ("gqa_untied", dict(vocab_size=300, hidden_size=48, intermediate_size=70, num_hidden_layers=2,
                        num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=32,
                        rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False),
     torch.float32, 11),
    ("mha_tied", dict(vocab_size=310, hidden_size=32, intermediate_size=50, num_hidden_layers=3,
                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=24,
                      rms_norm_eps=1e-6, rope_theta=500000.0, tie_word_embeddings=True),
     torch.float32, 12),
    ("bf16_gqa_tied", dict(vocab_size=300, hidden_size=64, intermediate_size=96,
                           num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=2,
                           max_position_embeddings=40, rms_norm_eps=1e-5, rope_theta=10000.0,
                           tie_word_embeddings=True),
     torch.bfloat16, 13),
]
BATCH, LENGTH = 2, 17


def load_ours(name):
    folder = os.path.join(DIR, "ours", name)
    with open(folder + ".probe.json") as f:
        probe = json.load(f)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokens = torch.tensor(probe["tokens"], dtype=torch.int64)
    with torch.no_grad():
        logits = model(input_ids=tokens).logits.float().contiguous()
    if model.config.eos_token_id is not None or model.generation_config.eos_token_id is not None:
        raise SystemExit(f"ours/{name}: transformers reads an eos_token_id "
                         f"({model.config.eos_token_id}): generate() would stop at it")
    ids = [tokenizer(s, add_special_tokens=False)["input_ids"] for s in probe["strings"]]
    ids_default = [tokenizer(s)["input_ids"] for s in probe["strings"]]
    save_file({"logits": logits}, folder + ".hf.safetensors",
              metadata={"ids": json.dumps(ids), "ids_default": json.dumps(ids_default)})
    print(f"ours/{name}: {type(model).__name__}, {type(tokenizer).__name__}, logits "
          f"{list(logits.shape)}")


def make_tokenizer(vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    corpus = ["the quick brown fox jumps over the lazy dog", "hello world, hello there",
              "def f(x):\n    return x + 1\n", "caf\u00e9 na\u00efve \u65e5\u672c\u8a9e"]
    tok.train_from_iterator(corpus * 20, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")


def make_theirs(name, fields, dtype, seed):
    torch.manual_seed(seed)
    config = LlamaConfig(**fields, hidden_act="silu", attention_bias=False, mlp_bias=False,
                         initializer_range=0.1)
    model = LlamaForCausalLM(config).float()
    with torch.no_grad():  # norms away from 1, so their weights matter in the check
        for p in model.parameters():
            if p.dim() == 1:
                p.copy_(1 + 0.2 * torch.randn_like(p))
        if dtype != torch.float32:  # the logits of the weights as they are saved
            for p in model.parameters():
                p.copy_(p.to(dtype).float())
    model.eval()
    tokens = torch.randint(0, fields["vocab_size"], (BATCH, LENGTH), dtype=torch.int64)
    with torch.no_grad():
        model.config._attn_implementation = "eager"
        logits = model(input_ids=tokens).logits.float().contiguous()
    folder = os.path.join(DIR, "theirs", name)
    shutil.rmtree(folder, ignore_errors=True)
    model.to(dtype).save_pretrained(folder, safe_serialization=True)
    tokenizer = make_tokenizer(fields["vocab_size"])
    tokenizer.save_pretrained(folder)
    ids = [tokenizer(s, add_special_tokens=False)["input_ids"] for s in STRINGS]
    save_file({"tokens": tokens.to(torch.int32), "logits": logits},
              folder + ".expected.safetensors",
              metadata={"strings": json.dumps(STRINGS), "ids": json.dumps(ids)})
    print(f"theirs/{name}: {sorted(os.listdir(folder))}")


def main():
    torch.set_num_threads(1)
    ours_cases = os.path.join(DIR, "ours", "cases.txt")
    if not os.path.exists(ours_cases):
        raise SystemExit(f"{ours_cases} is missing: the C++ export step runs first")
    with open(ours_cases) as f:
        for name in f.read().split():
            load_ours(name)
    os.makedirs(os.path.join(DIR, "theirs"), exist_ok=True)
    for case in THEIRS:
        make_theirs(*case)
    with open(os.path.join(DIR, "theirs", "cases.txt"), "w") as f:
        f.write("\n".join(case[0] for case in THEIRS) + "\n")


if __name__ == "__main__":
    main()
