"""distill.import_hf_folder / distill.export_hf_folder with transformers
itself: a tiny random LlamaForCausalLM saved by save_pretrained is imported
into distill's model file, exported back as a folder, and
AutoModelForCausalLM.from_pretrained of that folder gives the original
model's logits; the tokenizer goes along and AutoTokenizer encodes like
distill.Tokenizer. Missing, damaged and unsupported folders raise the
distill error of their kind. Skipped without torch or transformers."""
import json
import os

import pytest

import distill

os.environ["HF_HUB_OFFLINE"] = "1"  # local folders only, never the network
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

EOS = "<|endoftext|>"
TEXTS = ["Hello, world!", "  two  spaces\nand a newline", "caf\u00e9 \u65e5\u672c",
         "def f(x):\n    return x + 1"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """(folder saved by save_pretrained, the model, distill.Tokenizer in it)."""
    torch.manual_seed(3)
    config = transformers.LlamaConfig(
        vocab_size=300, hidden_size=32, intermediate_size=56, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=24,
        rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False, hidden_act="silu",
        attention_bias=False, mlp_bias=False, initializer_range=0.1)
    model = transformers.LlamaForCausalLM(config).float()
    with torch.no_grad():  # norms away from 1, so that their weights matter
        for p in model.parameters():
            if p.dim() == 1:
                p.copy_(1 + 0.2 * torch.randn_like(p))
    model.eval()
    folder = tmp_path_factory.mktemp("theirs") / "llama"
    model.save_pretrained(folder, safe_serialization=True)
    corpus = ["the quick brown fox jumps over the lazy dog", "hello world, hello there"] + TEXTS
    tok = distill.Tokenizer.train(corpus * 20, vocab_size=290, special_tokens=[EOS])
    tok.save(str(folder / "tokenizer.json"))
    return folder, model, tok


def logits_of(model, tokens):
    model.config._attn_implementation = "eager"
    with torch.no_grad():
        return model(input_ids=tokens).logits.float()


def test_import_export_round_trip_keeps_transformers_logits(checkpoint, tmp_path):
    folder, model, tok = checkpoint
    model_file = tmp_path / "student.safetensors"
    tok_file = tmp_path / "tokenizer.json"
    distill.import_hf_folder(folder, model_file, tok_file)
    assert model_file.stat().st_size > 0
    assert distill.Tokenizer.from_file(str(tok_file)).to_str() == tok.to_str()
    out = tmp_path / "ours"
    distill.export_hf_folder(model_file, out, tok_file)
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(os.listdir(out))
    again = transformers.AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32,
                                                              attn_implementation="eager")
    again.eval()
    tokens = torch.randint(0, 300, (2, 17), generator=torch.Generator().manual_seed(5))
    want, got = logits_of(model, tokens), logits_of(again, tokens)
    assert got.shape == want.shape == (2, 17, 300)
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-5), (got - want).abs().max()
    hf_tok = transformers.AutoTokenizer.from_pretrained(out)
    for text in TEXTS:
        assert hf_tok(text, add_special_tokens=False)["input_ids"] == tok.encode(text).tolist()


def test_export_without_tokenizer_and_replacing_a_folder(checkpoint, tmp_path):
    folder, _, _ = checkpoint
    model_file = tmp_path / "m.safetensors"
    distill.import_hf_folder(str(folder), str(model_file))  # tokenizer.json not read
    out = tmp_path / "ours"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    distill.export_hf_folder(model_file, out)
    names = set(os.listdir(out))
    assert "model.safetensors" in names and "config.json" in names
    assert "tokenizer.json" not in names and "stale.txt" not in names


def test_missing_damaged_and_unsupported_folders(checkpoint, tmp_path):
    folder, _, _ = checkpoint
    model_file = tmp_path / "m.safetensors"
    with pytest.raises(distill.NotFoundError) as caught:
        distill.import_hf_folder(tmp_path / "absent", model_file)
    assert isinstance(caught.value, FileNotFoundError)
    with pytest.raises(distill.NotFoundError):
        distill.export_hf_folder(tmp_path / "absent.safetensors", tmp_path / "out")

    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (broken / name).write_bytes((folder / name).read_bytes())
    weights = (folder / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(weights[:len(weights) // 2])
    with pytest.raises(distill.CorruptFileError):
        distill.import_hf_folder(broken, model_file)
    (broken / "model.safetensors").write_bytes(weights)
    os.remove(broken / "tokenizer.json")
    with pytest.raises(distill.NotFoundError, match="tokenizer"):
        distill.import_hf_folder(broken, model_file, tmp_path / "t.json")

    config = json.loads((folder / "config.json").read_text())
    config["hidden_act"] = "gelu"
    (broken / "config.json").write_text(json.dumps(config))
    with pytest.raises(distill.UnsupportedError, match="hidden_act"):
        distill.import_hf_folder(broken, model_file)
    (broken / "config.json").write_text("{not json")
    with pytest.raises(distill.CorruptFileError):
        distill.import_hf_folder(broken, model_file)
    assert not model_file.exists()
    with pytest.raises(distill.InvalidArgumentError, match="model_path"):
        distill.import_hf_folder(folder, 3)
