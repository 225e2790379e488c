"""A transformer student from Python (distill.h section 15): its logits are
transformers' LlamaForCausalLM logits of the exported folder; a token step
reports torch's cross-entropy or KL of the logits before it (the top-k loss
kd_reference's); tensors go in borrowed (torch int32 works, int64 and
non-contiguous ones are refused, out= is written in place); fit_text on
Debian's fortunes lowers the validation loss, resumes from a checkpoint
bit-identically and cancels from its progress callback; evaluate_lm agrees
with the logits; fit_stored / evaluate_lm_stored learn from the top-k
answers a real OpenAI-compatible server on 127.0.0.1 gave distill's
HttpTeacher. Skipped without torch or transformers."""
import json
import math
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import distill

os.environ["HF_HUB_OFFLINE"] = "1"  # local folders only, never the network
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
torch = pytest.importorskip("torch")
F = torch.nn.functional

sys.path.insert(0, os.path.dirname(__file__))
from kd_reference import reference_kd_loss  # noqa: E402
from tokenizer_corpus import fortunes_text, mixed_text  # noqa: E402

EOS = "<|endoftext|>"
CONTEXT = 16


def config(vocab, context=CONTEXT, **extra):
    return {"kind": "transformer", "vocab": vocab, "dim": 32, "layers": 2, "heads": 4,
            "kv_heads": 2, "ffn": 48, "context": context, **extra}


@pytest.fixture(scope="module")
def docs():
    """Fortunes cut at their "%" lines: short real documents."""
    text = fortunes_text(400_000) or mixed_text(400_000)
    out = [d.strip("\n") for d in text.replace("\r\n", "\n").split("\n%\n")]
    out = [d for d in out if d.strip()]
    assert len(out) > 300
    return out


@pytest.fixture(scope="module")
def tokenizer(docs):
    return distill.Tokenizer.train(docs[:1500], vocab_size=300, special_tokens=[EOS])


@pytest.fixture(scope="module")
def dataset_file(docs, tokenizer, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm-data")
    corpus = folder / "fortunes.jsonl"
    corpus.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs[:600]))
    distill.tokenize_files(tokenizer, corpus, folder / "fortunes.tokens", context=CONTEXT,
                           validation_fraction=0.2, seed=3)
    return folder / "fortunes.tokens"


@pytest.fixture(scope="module")
def dataset(dataset_file):
    data = distill.TextDataset(dataset_file)
    assert data.info["validation_windows"] > 100 and data.info["train_windows"] > 500
    return data


def some_tokens(vocab, rows=3, length=CONTEXT, seed=0):
    return np.random.default_rng(seed).integers(0, vocab, (rows, length)).astype(np.int32)


def lm_trainer(model, lr=3e-3, **loss):
    return distill.Trainer(model, optimizer={"kind": "adamw", "lr": lr}, **loss)


def same(a, b):
    """Dicts of figures equal, NaN equal to NaN (a figure the run has not)."""
    return a.keys() == b.keys() and all(
        (isinstance(v, float) and math.isnan(v) and math.isnan(b[k])) or v == b[k]
        for k, v in a.items())


def parameters_copy(model):
    return {name: value.copy() for name, value in model.parameters().items()}


# --- the model --------------------------------------------------------------------------

def test_a_transformer_is_a_model_with_hugging_face_names(tmp_path):
    model = distill.Model(config(300), seed=1)
    assert model.inputs == CONTEXT and model.outputs == 300
    params = model.parameters()
    assert list(params)[0] == "model.embed_tokens.weight"
    assert params["model.embed_tokens.weight"].shape == (300, 32)
    assert params["model.layers.1.self_attn.k_proj.weight"].shape == (16, 32)  # 2 kv heads of 8
    assert params["lm_head.weight"].shape == (300, 32)
    assert model.parameter_count == sum(p.size for p in params.values())
    assert abs(params["model.embed_tokens.weight"].std() - 0.02) < 0.002  # normal(0, 0.02)
    np.testing.assert_array_equal(params["model.norm.weight"], 1)
    with pytest.raises(distill.InvalidArgumentError, match="lm_logits"):
        model.predict(np.zeros((1, CONTEXT), np.float32))

    # save / load of a model file and of a trainer's checkpoint keep the logits.
    tokens = some_tokens(300)
    logits = model.lm_logits(tokens)
    model.save(str(tmp_path / "lm.safetensors"))
    loaded = distill.Model.load(str(tmp_path / "lm.safetensors"))
    assert loaded.config == model.config and loaded.config["kind"] == "transformer"
    np.testing.assert_array_equal(loaded.lm_logits(tokens), logits)
    trainer = lm_trainer(loaded)
    trainer.step_tokens(tokens)
    trainer.save(str(tmp_path / "ckpt"))
    from_checkpoint = distill.Model.load(str(tmp_path / "ckpt"))
    np.testing.assert_array_equal(from_checkpoint.lm_logits(tokens), loaded.lm_logits(tokens))
    assert not np.array_equal(from_checkpoint.lm_logits(tokens), logits)  # the step changed it


@pytest.mark.parametrize("extra", [{}, {"tie_embeddings": True, "kv_heads": 4, "rope_theta": 500.0}])
def test_logits_are_transformers_llama_logits(tmp_path, extra):
    transformers = pytest.importorskip("transformers")
    model = distill.Model(config(300, **extra), seed=5)
    rng = np.random.default_rng(1)
    for value in model.parameters().values():  # norms away from 1, so that their weights matter
        if value.ndim == 1:
            value[...] = 1 + 0.2 * rng.standard_normal(value.shape).astype(np.float32)
    model.save(str(tmp_path / "lm.safetensors"))
    distill.export_hf_folder(tmp_path / "lm.safetensors", tmp_path / "hf")
    theirs = transformers.AutoModelForCausalLM.from_pretrained(
        tmp_path / "hf", torch_dtype=torch.float32, attn_implementation="eager").eval()
    assert type(theirs).__name__ == "LlamaForCausalLM"
    tokens = some_tokens(300, rows=2, seed=2)
    ours = model.lm_logits(tokens)
    with torch.no_grad():
        reference = theirs(input_ids=torch.from_numpy(tokens).long()).logits.numpy()
    assert ours.shape == reference.shape == (2, CONTEXT, 300) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, atol=1e-4, rtol=0)
    # A shorter row sees the same prefix: causal.
    prefix = np.ascontiguousarray(tokens[:, :5])
    np.testing.assert_allclose(model.lm_logits(prefix), ours[:, :5], atol=1e-5, rtol=0)


def test_tensors_are_borrowed_torch_int32_works_int64_and_strided_are_refused():
    model = distill.Model(config(300), seed=2)
    tokens = some_tokens(300, rows=2)
    expected = model.lm_logits(tokens)
    torch_tokens = torch.from_numpy(tokens)
    np.testing.assert_array_equal(model.lm_logits(torch_tokens), expected)
    # Views with an offset into their storage are read where they point (a row
    # alone may round differently from a batch of two: GEMM blocking).
    np.testing.assert_allclose(model.lm_logits(torch_tokens[1:]), expected[1:], atol=1e-5, rtol=0)
    np.testing.assert_allclose(model.lm_logits(tokens[1:]), expected[1:], atol=1e-5, rtol=0)
    out = torch.full((2, CONTEXT, 300), float("nan"))
    assert model.lm_logits(torch_tokens, out=out) is out  # written in place, no copy back
    np.testing.assert_array_equal(out.numpy(), expected)
    out_np = np.empty((2, CONTEXT, 300), np.float32)
    assert model.lm_logits(tokens, out=out_np) is out_np
    np.testing.assert_array_equal(out_np, expected)

    with pytest.raises(distill.InvalidArgumentError, match="int32"):
        model.lm_logits(torch_tokens.long())
    with pytest.raises(distill.InvalidArgumentError, match="int32"):
        model.lm_logits(tokens.astype(np.int64))
    wide = torch.from_numpy(some_tokens(300, rows=2, length=2 * CONTEXT))
    with pytest.raises(distill.InvalidArgumentError, match="contiguous"):
        model.lm_logits(wide[:, ::2])
    with pytest.raises(distill.InvalidArgumentError, match="contiguous"):
        model.lm_logits(np.asfortranarray(tokens))
    with pytest.raises(distill.InvalidArgumentError, match="300"):
        model.lm_logits(np.full((1, 4), 300, np.int32))  # an id outside the vocabulary
    with pytest.raises(distill.InvalidArgumentError, match=str(CONTEXT)):
        model.lm_logits(some_tokens(300, rows=1, length=CONTEXT + 1))
    with pytest.raises(distill.InvalidArgumentError, match="out"):
        model.lm_logits(tokens, out=np.empty((2, CONTEXT, 299), np.float32))
    with pytest.raises(distill.InvalidArgumentError, match=r"\[B, T\]"):
        model.lm_logits(tokens[0])
    with pytest.raises(TypeError, match="writable"):
        model.lm_logits(tokens, out=b"x" * 10)
    with pytest.raises(distill.InvalidArgumentError, match="transformer"):
        distill.Model({"kind": "mlp", "inputs": 4, "hidden": [8], "outputs": 3}).lm_logits(tokens)


# --- token steps ------------------------------------------------------------------------

def test_step_loss_is_torch_cross_entropy_and_none_labels_are_the_shifted_tokens():
    vocab = 300
    tokens = some_tokens(vocab, rows=4, seed=7)
    labels = np.roll(tokens, -1, axis=1)
    labels[:, -1] = -100
    labels[0, :5] = -100  # a prompt that counts for nothing
    model = distill.Model(config(vocab), seed=3)
    logits = torch.from_numpy(model.lm_logits(tokens)).double()
    expected = F.cross_entropy(logits.reshape(-1, vocab), torch.from_numpy(labels).long().reshape(-1),
                               ignore_index=-100)
    m = lm_trainer(model).step_tokens(tokens, labels)
    assert m["step"] == 1 and m["positions"] == int((labels != -100).sum())
    assert m["loss"] == pytest.approx(expected.item(), rel=1e-5)
    assert m["hard_loss"] == pytest.approx(expected.item(), rel=1e-5)
    assert math.isnan(m["soft_loss"]) and m["grad_norm"] > 0 and m["learning_rate"] == pytest.approx(3e-3)

    # labels=None: the tokens shifted by one, the last position -100 (same update).
    shifted = np.roll(tokens, -1, axis=1)
    shifted[:, -1] = -100
    a, b = distill.Model(config(vocab), seed=4), distill.Model(config(vocab), seed=4)
    ma = lm_trainer(a).step_tokens(tokens)
    mb = lm_trainer(b).step_tokens(torch.from_numpy(tokens), torch.from_numpy(shifted))
    assert same(ma, mb) and ma["positions"] == 4 * (CONTEXT - 1)
    for name, value in a.parameters().items():
        np.testing.assert_array_equal(value, b.parameters()[name], err_msg=name)


def test_step_with_a_dense_teacher_is_torch_kl_over_the_counted_positions():
    vocab = 300
    tokens = some_tokens(vocab, rows=3, seed=8)
    labels = np.roll(tokens, -1, axis=1)
    labels[:, -1] = -100
    labels[1, :7] = -100
    teacher = (np.random.default_rng(9).standard_normal((3, CONTEXT, vocab)) * 2).astype(np.float32)
    model = distill.Model(config(vocab), seed=3)
    student = torch.from_numpy(model.lm_logits(tokens)).double()
    counted = torch.from_numpy(labels != -100)
    # KL(teacher || student) per position, summed over the vocabulary, mean over counted positions.
    kl = F.kl_div(F.log_softmax(student, -1), F.log_softmax(torch.from_numpy(teacher).double(), -1),
                  log_target=True, reduction="none").sum(-1)
    expected = kl[counted].mean().item()
    m = lm_trainer(model).step_tokens(tokens, labels, teacher_logits=teacher)  # soft 1, hard 0, T 1
    assert m["positions"] == int(counted.sum())
    assert m["loss"] == pytest.approx(expected, rel=1e-5)
    assert m["soft_loss"] == pytest.approx(expected, rel=1e-5)
    ce = F.cross_entropy(student[counted], torch.from_numpy(labels).long()[counted]).item()
    assert m["hard_loss"] == pytest.approx(ce, rel=1e-5)  # reported, unweighted

    # At temperature 2 with a hard term: kd_reference's mix, T² on the soft part.
    model2 = distill.Model(config(vocab), seed=3)
    flat = counted.reshape(-1)
    ref, _ = reference_kd_loss(student.reshape(-1, vocab)[flat],
                               torch.from_numpy(teacher).reshape(-1, vocab)[flat],
                               labels=torch.from_numpy(labels).long().reshape(-1)[flat],
                               temperature=2.0, soft_weight=0.7, hard_weight=0.3)
    m2 = lm_trainer(model2, temperature=2.0, soft_weight=0.7, hard_weight=0.3).step_tokens(
        tokens, labels, teacher_logits=torch.from_numpy(teacher))
    assert m2["loss"] == pytest.approx(ref.item(), rel=1e-5)


def test_step_with_a_topk_teacher_is_kd_reference_renormalised():
    vocab, k = 300, 4
    tokens = some_tokens(vocab, rows=2, seed=10)
    rng = np.random.default_rng(11)
    ids = np.stack([rng.permutation(vocab)[:k] for _ in range(2 * CONTEXT)]).astype(np.int32)
    logprobs = np.log(rng.dirichlet(np.ones(k), 2 * CONTEXT) * 0.9).astype(np.float32)
    model = distill.Model(config(vocab), seed=6)
    student = torch.from_numpy(model.lm_logits(tokens)).reshape(-1, vocab)
    shifted = np.roll(tokens, -1, axis=1)
    shifted[:, -1] = -100
    flat = torch.from_numpy(shifted.reshape(-1) != -100)
    ref, _ = reference_kd_loss(student[flat], ids=torch.from_numpy(ids)[flat],
                               logprobs=torch.from_numpy(logprobs)[flat])
    m = lm_trainer(model).step_tokens(tokens, teacher_topk_ids=ids.reshape(2, CONTEXT, k),
                                      teacher_topk_logprobs=logprobs.reshape(2, CONTEXT, k))
    assert m["loss"] == pytest.approx(ref.item(), rel=1e-5)

    trainer = lm_trainer(distill.Model(config(vocab), seed=6))
    with pytest.raises(distill.InvalidArgumentError, match="both or neither"):
        trainer.step_tokens(tokens, teacher_topk_ids=ids.reshape(2, CONTEXT, k))
    with pytest.raises(distill.InvalidArgumentError, match="teacher_topk_logprobs"):
        trainer.step_tokens(tokens, teacher_topk_ids=ids.reshape(2, CONTEXT, k),
                            teacher_topk_logprobs=np.abs(logprobs).reshape(2, CONTEXT, k) + 0.5)
    assert trainer.position == {"epoch": 0, "step": 0}  # refused steps change nothing


def test_the_students_calls_refuse_the_other_kind(dataset):
    lm = distill.Model(config(300))
    mlp = distill.Model({"kind": "mlp", "inputs": CONTEXT, "hidden": [8], "outputs": 300})
    tokens = some_tokens(300, rows=1)
    with pytest.raises(distill.InvalidArgumentError, match="step_tokens|transformer"):
        lm_trainer(lm).step(np.zeros((1, CONTEXT), np.float32), labels=np.zeros(1, np.int64))
    with pytest.raises(distill.InvalidArgumentError, match="transformer"):
        lm_trainer(mlp).step_tokens(tokens)
    with pytest.raises(distill.InvalidArgumentError, match="transformer|lm"):
        distill.evaluate(lm, distill.Dataset(np.zeros((2, CONTEXT), np.float32),
                                             np.zeros(2, np.int64)))
    with pytest.raises(distill.InvalidArgumentError, match="fit_text"):
        lm_trainer(lm).fit(distill.Dataset(np.zeros((2, CONTEXT), np.float32), np.zeros(2, np.int64)),
                           progress=False)
    with pytest.raises(distill.InvalidArgumentError, match="fit_text"):
        distill.ModelTeacher(lm)
    with pytest.raises(distill.InvalidArgumentError, match="tokens"):
        lm_trainer(lm).step_tokens(None)
    with pytest.raises(distill.InvalidArgumentError, match="labels.*int32"):
        lm_trainer(lm).step_tokens(tokens, labels=tokens.astype(np.int64))
    with pytest.raises(distill.InvalidArgumentError, match="teacher_logits"):
        lm_trainer(lm).step_tokens(tokens, teacher_logits=np.zeros((1, CONTEXT, 299), np.float32))
    with pytest.raises(distill.InvalidArgumentError, match="transformer"):
        distill.evaluate_lm(mlp, dataset)
    with pytest.raises(distill.InvalidArgumentError, match="transformer"):
        lm_trainer(mlp).fit_text(dataset, steps=1, progress=False)
    closed = distill.Model(config(300))
    closed.close()
    with pytest.raises(distill.InvalidArgumentError, match="closed"):
        closed.lm_logits(tokens)


# --- training on text -------------------------------------------------------------------

def test_fit_text_lowers_the_validation_loss_and_reports_progress(dataset):
    model = distill.Model(config(300), seed=11)
    before = distill.evaluate_lm(model, dataset)
    assert before["loss"] > math.log(300) - 0.5  # about uniform at initialisation
    events = []
    summary = lm_trainer(model).fit_text(dataset, steps=80, batch_windows=8, eval_interval=40,
                                         eval_windows=60, progress=events.append)
    assert summary["steps_run"] == 80 and summary["global_step"] == 80 and summary["validated"]
    assert [e["step"] for e in events if e["event"] == "step"] == list(range(1, 81))
    assert [e["step"] for e in summary["history"]] == [40, 80]
    assert same(summary["history"][-1]["validation"], summary["validation"])
    assert summary["validation"]["windows"] == 60
    assert events[-1]["tokens_per_second"] > 0 and math.isfinite(summary["final_loss"])
    after = distill.evaluate_lm(model, dataset)
    assert after["loss"] < before["loss"] - 1.0
    assert after["windows"] == dataset.info["validation_windows"]


def test_fit_text_resumes_from_a_checkpoint_exactly(dataset, tmp_path):
    straight = distill.Model(config(300), seed=12)
    lm_trainer(straight).fit_text(dataset, steps=30, batch_windows=4, seed=5, progress=False)

    first = distill.Model(config(300), seed=12)
    lm_trainer(first).fit_text(dataset, steps=12, batch_windows=4, seed=5, eval_windows=8,
                               checkpoint_dir=tmp_path / "ckpt", progress=False)
    halfway = parameters_copy(first)
    np.testing.assert_array_equal(distill.Model.load(str(tmp_path / "ckpt")).parameters()[
        "lm_head.weight"], halfway["lm_head.weight"])
    resumed_model = distill.Model(config(300), seed=99)  # other weights: all come from the checkpoint
    resumed = lm_trainer(resumed_model)
    resumed.resume(str(tmp_path / "ckpt"))
    assert resumed.position == {"epoch": 0, "step": 12}
    summary = resumed.fit_text(dataset, steps=30, batch_windows=4, seed=5, progress=False)
    assert summary["steps_run"] == 18 and summary["global_step"] == 30
    for name, value in straight.parameters().items():
        np.testing.assert_array_equal(resumed_model.parameters()[name], value, err_msg=name)
    with pytest.raises(distill.InvalidArgumentError, match="30"):
        resumed.fit_text(dataset, steps=30, progress=False)  # not above the trainer's step


def test_fit_text_cancels_from_progress_and_ctrl_c(dataset, tmp_path, capsys):
    trainer = lm_trainer(distill.Model(config(300), seed=13))
    with pytest.raises(distill.CancelledError):
        trainer.fit_text(dataset, steps=50, eval_windows=4, checkpoint_dir=tmp_path / "c",
                         progress=lambda e: e["step"] < 3)
    assert trainer.position["step"] == 3
    assert os.path.exists(tmp_path / "c" / "manifest.json")  # saved on cancel

    def interrupt(event):
        if event["step"] == 5:
            os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C in a notebook

    with pytest.raises(KeyboardInterrupt):
        trainer.fit_text(dataset, steps=50, progress=interrupt)
    assert trainer.position["step"] <= 6

    def failing(event):
        raise RuntimeError("a callback bug")

    with pytest.raises(RuntimeError, match="a callback bug"):
        trainer.fit_text(dataset, steps=50, progress=failing)
    step = trainer.position["step"]
    capsys.readouterr()
    trainer.fit_text(dataset, steps=step + 4, eval_windows=4)  # the default bar, on stderr
    err = capsys.readouterr().err
    assert f"step {step + 4}/{step + 4}" in err and "100%" in err and "val_ppl=" in err
    with pytest.raises(distill.InvalidArgumentError, match="progress"):
        trainer.fit_text(dataset, steps=step + 10, progress="yes")
    with pytest.raises(distill.InvalidArgumentError, match="dataset"):
        trainer.fit_text(None, steps=step + 10)


def test_fit_text_with_an_in_process_teacher(dataset, dataset_file):
    teacher = distill.Model(config(300, dim=48), seed=14)
    lm_trainer(teacher).fit_text(dataset, steps=40, progress=False)
    student = distill.Model(config(300), seed=15)
    before = distill.evaluate_lm(student, dataset, max_windows=64, teacher=teacher)
    lm_trainer(student).fit_text(dataset, steps=40, teacher=teacher, progress=False)
    after = distill.evaluate_lm(student, dataset, max_windows=64, teacher=teacher)
    assert after["mean_kl"] < before["mean_kl"] / 2

    # Closing the teacher or the dataset during the run releases the Python
    # objects only: the run keeps what it uses.
    data = distill.TextDataset(dataset_file)
    closing = distill.Model(config(300), seed=14)

    def close_them(event):
        if event["step"] == 2:
            closing.close()
            data.close()

    summary = lm_trainer(student).fit_text(data, steps=50, teacher=closing, eval_windows=4,
                                           progress=close_them)
    assert summary["global_step"] == 50 and closing.closed


# --- evaluation -------------------------------------------------------------------------

def test_evaluate_lm_is_the_logits_figures_and_a_copy_agrees_fully(dataset, tmp_path):
    model = distill.Model(config(300), seed=16)
    lm_trainer(model).fit_text(dataset, steps=20, progress=False)
    figures = distill.evaluate_lm(model, dataset, max_windows=40, batch_windows=7)
    assert figures["windows"] == 40 and figures["positions"] == 40 * CONTEXT
    assert figures["perplexity"] == pytest.approx(math.exp(figures["loss"]), rel=1e-12)
    assert math.isnan(figures["agreement"]) and math.isnan(figures["mean_kl"])
    tokens, targets = dataset.batch("validation", np.arange(40))
    logits = torch.from_numpy(model.lm_logits(tokens)).double().reshape(-1, 300)
    y = torch.from_numpy(targets).long().reshape(-1)
    assert figures["loss"] == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    assert figures["accuracy"] == pytest.approx((logits.argmax(-1) == y).double().mean().item())

    model.save(str(tmp_path / "copy.safetensors"))
    copy = distill.Model.load(str(tmp_path / "copy.safetensors"))
    with_teacher = distill.evaluate_lm(model, dataset, max_windows=40, batch_windows=7,
                                       teacher=copy)
    assert with_teacher["agreement"] == 1.0
    assert abs(with_teacher["mean_kl"]) < 1e-6
    assert with_teacher["loss"] == figures["loss"]
    train = distill.evaluate_lm(model, dataset, split="train", max_windows=10)
    assert train["windows"] == 10
    with pytest.raises(distill.InvalidArgumentError, match="split"):
        distill.evaluate_lm(model, dataset, split="test")
    with pytest.raises(distill.InvalidArgumentError, match="300|vocab"):
        distill.evaluate_lm(model, dataset, teacher=distill.Model(config(301)))
    with pytest.raises(distill.InvalidArgumentError, match="context|8"):
        distill.evaluate_lm(distill.Model(config(300, context=8)), dataset)


# --- from a teacher's stored answers: an OpenAI-compatible server on 127.0.0.1 ----------

class TopLogprobServer:
    """Chat completions as OpenAI answers them with logprobs: each question's
    answer is a fixed text, given as the tokens of the student's tokenizer
    (token text and bytes, no ids, as OpenAI) with two alternatives each."""

    def __init__(self, tokenizer, answers):
        self.requests = []

        def position(token_id, logprob):
            data = tokenizer.decode_bytes([token_id])
            return {"token": data.decode("utf-8", "replace"), "logprob": logprob,
                    "bytes": list(data)}

        def content(text):
            out = []
            for token_id in tokenizer.encode(text).tolist():
                other = (token_id + 1) % tokenizer.vocab_size
                out.append({**position(token_id, -0.2),
                            "top_logprobs": [position(token_id, -0.2), position(other, -1.9)]})
            return out

        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                text = answers[body["messages"][-1]["content"]]
                data = json.dumps({
                    "id": f"chatcmpl-{len(server.requests)}", "object": "chat.completion",
                    "created": 0, "model": "fake-teacher",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text},
                                 "logprobs": {"content": content(text), "refusal": None}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5,
                              "total_tokens": 15}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_fit_stored_learns_an_http_teachers_top_k_answers(docs, tokenizer, tmp_path):
    answers = {}
    for doc in docs:
        line = " " + doc.split("\n")[0].strip()
        if line.isascii() and 3 <= len(tokenizer.encode(line)) <= 30 and len(answers) < 6:
            answers[f"fortune {len(answers)}?"] = line
    assert len(answers) == 6
    server = TopLogprobServer(tokenizer, answers)
    try:
        teacher = distill.HttpTeacher(server.url, model="fake-teacher", max_retries=0, timeout=10)
        store = distill.Store(str(tmp_path / "answers.db"))
        requests = [{"messages": [{"role": "user", "content": q}], "logprobs": True,
                     "top_logprobs": 2} for q in answers]
        collected = distill.collect(teacher, store, requests, concurrency=2, progress=False)
        assert collected["succeeded"] == 6 and len(server.requests) == 6
    finally:
        server.close()

    model = distill.Model(config(300, context=64), seed=17)
    before = distill.evaluate_lm_stored(model, store, tokenizer)
    rows = before["rows"]
    assert rows["rows"] == 6 and rows["topk"] == 2 and rows["failed"] == 0
    assert rows["too_long"] == 0 and rows["unmapped"] == 0
    assert rows["by_bytes"] == rows["alternatives"] > 0 and rows["by_id"] == 0  # no ids, as OpenAI
    completion_tokens = sum(len(tokenizer.encode(a)) for a in answers.values())
    assert before["positions"] == completion_tokens
    assert math.isnan(before["mean_kl"])
    assert before["perplexity"] == pytest.approx(math.exp(before["loss"]), rel=1e-12)

    events = []
    summary = lm_trainer(model, lr=1e-2).fit_stored(store, tokenizer, steps=150, batch_windows=6,
                                                    checkpoint_dir=tmp_path / "ckpt",
                                                    progress=events.append)
    assert summary["global_step"] == 150 and not summary["validated"]
    assert summary["validation"] is None and summary["rows"] == rows
    assert [e["step"] for e in events if e["event"] == "step"] == list(range(1, 151))
    assert len(events) == 150  # no validation split: no "validation" event
    assert summary["history"] == [] and os.path.exists(tmp_path / "ckpt" / "manifest.json")
    after = distill.evaluate_lm_stored(model, store, tokenizer, max_windows=6)
    assert after["loss"] < before["loss"] - 1.0
    assert after["agreement"] > 0.9  # the teacher's top-1 is its answer
    # Soft targets, not the answer alone: the cross-entropy against the answer
    # settles at the teacher's, -log(e^-0.2 / (e^-0.2 + e^-1.9)), not at 0.
    assert after["loss"] == pytest.approx(math.log1p(math.exp(-1.7)), abs=0.03)

    identity = store.get(teacher.request_key(requests[0])).provenance["teacher"]  # a dict
    chosen = distill.evaluate_lm_stored(model, store, tokenizer, teacher_identity=identity)
    assert chosen["loss"] == after["loss"]
    with pytest.raises(distill.InvalidArgumentError, match="no answer"):
        distill.evaluate_lm_stored(model, store, tokenizer, teacher_identity={"name": "nobody"})
    with pytest.raises(distill.InvalidArgumentError, match="longer than the context"):
        lm_trainer(distill.Model(config(300, context=3))).fit_stored(store, tokenizer, steps=5,
                                                                     progress=False)
    with pytest.raises(distill.InvalidArgumentError, match="store"):
        distill.evaluate_lm_stored(model, None, tokenizer)
