"""Teachers from Python: a CallbackTeacher over any callable, the SQLite
store, Dataset.ask_teacher, ModelTeacher, and an HttpTeacher talking to a
real OpenAI-compatible server on 127.0.0.1."""
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import distill


def answer_hello(request):
    return {"text": "Hello world",
            "positions": [{"token": "Hello", "id": 7, "logprob": -0.25,
                           "top": [(7, "Hello", -0.25), (9, "Hi", -1.75)]},
                          {"token": " world", "id": 3, "logprob": -0.5,
                           "top": [{"id": 3, "token": " world", "logprob": -0.5}]}],
            "embeddings": [[0.5, -1.0, 2.0]],
            "usage": {"prompt_tokens": 4, "completion_tokens": 2},
            "model": "hello-1", "logprobs_kind": "raw"}


def test_callback_teacher_query():
    seen = []

    def fn(request):
        seen.append(request)
        return answer_hello(request)

    teacher = distill.CallbackTeacher(fn, name="greeter", model="hello")
    record = teacher.query({"messages": [{"role": "user", "content": "hi"}]})
    assert seen == [{"messages": [{"role": "user", "content": "hi"}]}]
    assert record.error is None and record.error_status is None and not record.failed
    assert record.text == "Hello world"
    assert len(record.key) == 64 and record.key == teacher.request_key(seen[0])
    assert record.positions[0]["token"] == "Hello" and record.positions[0]["id"] == 7
    assert record.positions[0]["bytes"] == b"Hello"
    assert record.positions[0]["top"][1] == (9, "Hi", -1.75)
    ids, logprobs = record.topk_arrays()
    assert ids.dtype == np.int32 and logprobs.dtype == np.float32
    assert ids.tolist() == [[7, 9], [3, -1]]  # padded to the largest top-k
    assert logprobs[0].tolist() == [-0.25, -1.75] and logprobs[1, 1] == -math.inf
    np.testing.assert_array_equal(record.embeddings[0], [0.5, -1.0, 2.0])
    assert record.usage["prompt_tokens"] == 4 and record.usage["completion_tokens"] == 2
    prov = record.provenance
    assert prov["provider"] == "callback" and prov["endpoint"] == "greeter"
    assert prov["model"] == "hello-1" and prov["logprobs_kind"] == "raw"
    assert prov["request"] == seen[0] and prov["attempts"] >= 1


def test_query_cached_asks_once_through_a_store(tmp_path):
    calls = []

    def fn(request):
        calls.append(request)
        return answer_hello(request)

    teacher = distill.CallbackTeacher(fn)
    with distill.Store(str(tmp_path / "answers.db")) as store:
        first = teacher.query_cached(store, {"prompt": "hi"})
        second = teacher.query_cached(store, '{"prompt": "hi"}')  # same request, as JSON text
        assert len(calls) == 1
        assert second.key == first.key and second.text == "Hello world"
        assert second.topk_arrays()[0].tolist() == first.topk_arrays()[0].tolist()
        stats = store.stats()
        assert {k: stats[k] for k in ("records", "failures", "positions")} == {
            "records": 1, "failures": 0, "positions": 2}
        assert stats["finish_reasons"]["not_given"] == 1 and stats["other_model"] == 0
        assert store.get(first.key).text == "Hello world"
        assert store.get("0" * 64) is None
        store.export_jsonl(str(tmp_path / "out.jsonl"))
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["text"] == "Hello world"
    assert store.closed
    with pytest.raises(distill.InvalidArgumentError, match="closed"):
        store.stats()
    # Reopened read-only, the answer is still there.
    reopened = distill.Store(str(tmp_path / "answers.db"), read_only=True)
    assert reopened.get(first.key).text == "Hello world"


def test_exceptions_and_bad_answers_become_failed_records(tmp_path):
    mode = {"value": "raise"}

    def fn(request):
        if mode["value"] == "raise":
            raise ValueError("the teacher is down")
        if mode["value"] == "bad":
            return {"txt": "typo"}
        if mode["value"] == "error":
            return {"error": "refused"}
        return {"text": "ok"}

    teacher = distill.CallbackTeacher(fn)
    store = distill.Store(str(tmp_path / "s.db"))
    failed = teacher.query_cached(store, {"prompt": "x"})
    assert failed.failed and failed.error == "ValueError: the teacher is down"
    assert failed.error_status == "INTERNAL"
    assert store.stats()["failures"] == 1  # kept as data, not dropped
    mode["value"] = "bad"
    bad = teacher.query({"prompt": "x"})
    assert bad.error_status == "INVALID_ARGUMENT" and '"txt"' in bad.error
    mode["value"] = "error"
    assert teacher.query({"prompt": "x"}).error == "refused"
    mode["value"] = "ok"
    retried = teacher.query_cached(store, {"prompt": "x"})  # a stored failure is asked again
    assert retried.text == "ok" and store.stats() == {**store.stats(), "records": 1, "failures": 0}


def test_keyboard_interrupt_in_the_callback_propagates():
    def fn(request):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        distill.CallbackTeacher(fn).query({"prompt": "x"})


def test_teacher_argument_errors(tmp_path):
    with pytest.raises(distill.InvalidArgumentError, match="fn"):
        distill.CallbackTeacher("not callable")
    with pytest.raises(distill.InvalidArgumentError, match="parameters"):
        distill.CallbackTeacher(print, parameters={"bad": object()})
    teacher = distill.CallbackTeacher(answer_hello)
    with pytest.raises(distill.InvalidArgumentError, match="request"):
        teacher.query("{not json")
    with pytest.raises(distill.InvalidArgumentError, match="store"):
        teacher.query_cached(None, {"prompt": "x"})
    with pytest.raises(distill.InvalidArgumentError, match="base_url"):
        distill.HttpTeacher("ftp://example.com")
    with pytest.raises(distill.InvalidArgumentError, match="dialect"):
        distill.HttpTeacher("http://127.0.0.1:1/v1", dialect="gpt")
    with pytest.raises(distill.InvalidArgumentError, match="DISTILL_TEST_UNSET_KEY"):
        distill.HttpTeacher("http://127.0.0.1:1/v1", api_key_env="DISTILL_TEST_UNSET_KEY")
    with pytest.raises(distill.NotFoundError):
        distill.Store(str(tmp_path / "missing" / "dir" / "s.db"), read_only=True)
    teacher.close()
    with pytest.raises(distill.InvalidArgumentError, match="closed"):
        teacher.query({"prompt": "x"})


def classifier():
    """A fixed linear classifier over 6 features, 4 classes."""
    weights = np.random.default_rng(5).standard_normal((6, 4)).astype(np.float32)
    return lambda x: x @ weights


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def test_dataset_ask_teacher_with_a_python_teacher(tmp_path, capsys):
    logits_of = classifier()
    calls = []

    def fn(request):
        x = distill.request_features(request)
        calls.append(x)
        return distill.classification_answer(logits_of(x))

    x = np.random.default_rng(1).standard_normal((30, 6)).astype(np.float32)
    data = distill.Dataset(x, np.zeros(30, np.int64))
    store = distill.Store(str(tmp_path / "ask.db"))
    teacher = distill.CallbackTeacher(fn, name="linear")
    assert data.ask_teacher(teacher, store=store, batch_size=8) == {"asked": 30, "from_store": 0}
    assert "teacher: 100%" in capsys.readouterr().err
    np.testing.assert_array_equal(np.stack(calls), x)  # the exact float32 features
    ids, logprobs = data.teacher_topk
    assert ids.shape == (30, 4)
    expected = log_softmax(logits_of(x))
    np.testing.assert_allclose(np.take_along_axis(expected, ids.astype(np.int64), 1), logprobs,
                               rtol=1e-3, atol=1e-3)  # stored as fp16
    assert (ids[:, 0] == expected.argmax(1)).all()
    again = distill.Dataset(x)
    assert again.ask_teacher(teacher, store=store, progress=False) == {"asked": 0, "from_store": 30}
    assert len(calls) == 30
    # A distilled student learns the teacher's decisions from those targets.
    student = distill.Model({"kind": "mlp", "inputs": 6, "outputs": 4})
    trainer = distill.Trainer(student, optimizer={"kind": "adamw", "lr": 0.05})
    trainer.fit(data, epochs=30, batch_size=10, progress=False)
    assert distill.evaluate(student, data)["agreement"] > 0.8


def test_ask_teacher_failure_and_interrupt():
    data = distill.Dataset(np.zeros((5, 3), np.float32))
    with pytest.raises(distill.InvalidArgumentError, match="top-k|topk"):
        data.ask_teacher(distill.CallbackTeacher(lambda r: {"text": "no scores"}), progress=False)

    def interrupted(request):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        data.ask_teacher(distill.CallbackTeacher(interrupted), progress=False)
    assert data.teacher_topk is None


def test_model_teacher_answers_softmax_of_predict():
    model = distill.Model({"kind": "mlp", "inputs": 6, "hidden": [8], "outputs": 4}, seed=2)
    x = np.random.default_rng(3).standard_normal((10, 6)).astype(np.float32)
    data = distill.Dataset(x)
    data.ask_teacher(distill.ModelTeacher(model), progress=False)
    ids, logprobs = data.teacher_topk
    probabilities = model.predict(x, output="probabilities")
    np.testing.assert_allclose(np.exp(logprobs), np.take_along_axis(probabilities, ids.astype(np.int64), 1),
                               atol=2e-3)
    np.testing.assert_allclose(np.exp(logprobs).sum(1), 1.0, atol=5e-3)
    data.ask_teacher(distill.ModelTeacher(model, top_k=2), progress=False)
    assert data.teacher_topk[0].shape == (10, 2)
    assert (data.teacher_topk[0][:, 0] == probabilities.argmax(1)).all()
    with pytest.raises(distill.InvalidArgumentError, match="top_k"):
        distill.ModelTeacher(model, top_k=-1)


# --- an OpenAI-compatible server on 127.0.0.1 -----------------------------------------

class ChatServer:
    """Chat completions with logprobs, as OpenAI answers them; counts requests
    and checks the API key."""

    def __init__(self, api_key=None, delay=0.0):
        self.requests = []
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if api_key and self.headers.get("Authorization") != f"Bearer {api_key}":
                    return self.reply(401, {"error": {"message": "bad key", "type": "auth",
                                                      "param": None, "code": "invalid_api_key"}})
                with server.lock:
                    server.requests.append((self.path, body))
                    number = len(server.requests)
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                time.sleep(delay)  # long enough for concurrent requests to overlap
                with server.lock:
                    server.in_flight -= 1
                content = body["messages"][-1]["content"]
                top = [{"token": "Yes", "logprob": -0.1, "bytes": [89, 101, 115]},
                       {"token": "No", "logprob": -2.4, "bytes": [78, 111]}]
                self.reply(200, {
                    "id": f"chatcmpl-{number}", "object": "chat.completion", "created": 0,
                    "model": "fake-model-2024", "system_fingerprint": "fp_test",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "Yes " + content},
                                 "logprobs": {"content": [
                                     {"token": "Yes", "logprob": -0.1, "bytes": [89, 101, 115],
                                      "top_logprobs": top[: body.get("top_logprobs", 2)]}],
                                     "refusal": None}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}})

            def reply(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
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


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("DISTILL_TEST_API_KEY", "sk-test-secret-123")
    s = ChatServer(api_key="sk-test-secret-123", delay=0.05)
    yield s
    s.close()


def chat(text):
    return {"messages": [{"role": "user", "content": text}], "logprobs": True, "top_logprobs": 2}


def test_http_teacher_query(server):
    teacher = distill.HttpTeacher(server.url, model="fake-model", api_key_env="DISTILL_TEST_API_KEY",
                                  timeout=10, max_retries=0)
    record = teacher.query(chat("ping"))
    assert record.error is None, record.error
    assert record.text == "Yes ping"
    assert record.positions[0]["token"] == "Yes"
    assert [t[1] for t in record.positions[0]["top"]] == ["Yes", "No"]
    assert record.usage["prompt_tokens"] == 10 and record.usage["completion_tokens"] == 2
    assert record.provenance["model"] == "fake-model-2024"
    assert record.provenance["system_fingerprint"] == "fp_test"
    assert server.requests[0][0] == "/v1/chat/completions"
    assert server.requests[0][1]["model"] == "fake-model"
    assert "sk-test-secret-123" not in json.dumps(record.provenance)
    # A wrong key is a failed record, with the server's reason, not an exception.
    wrong = distill.HttpTeacher(server.url, model="fake-model", max_retries=0)
    failed = wrong.query(chat("ping"))
    assert failed.failed and "401" in failed.error


def test_collect_with_concurrency(server, tmp_path):
    teacher = distill.HttpTeacher(server.url, model="fake-model", api_key_env="DISTILL_TEST_API_KEY",
                                  timeout=10)
    store = distill.Store(str(tmp_path / "collect.db"))
    requests = [chat(f"question {i}") for i in range(24)] + [chat("question 0")]  # one repeat
    events = []
    summary = distill.collect(teacher, store, requests, concurrency=6,
                              prices={"prompt": 1.0, "completion": 2.0}, progress=events.append)
    assert summary["requests"] == 25 and summary["succeeded"] == 24 and summary["failed"] == 0
    assert summary["answered_from_store"] == 1
    assert summary["prompt_tokens"] == 240 and summary["completion_tokens"] == 48
    assert summary["cost_usd"] == pytest.approx((240 * 1.0 + 48 * 2.0) / 1e6)
    assert len(server.requests) == 24
    assert server.most_in_flight > 1  # requests overlapped
    assert events and events[-1]["succeeded"] == 24
    assert store.stats()["records"] == 24
    again = distill.collect(teacher, store, requests, concurrency=6, progress=False)
    assert again["asked"] == 0 and again["answered_from_store"] == 25
    assert len(server.requests) == 24  # nothing asked twice
    store.export_jsonl(str(tmp_path / "all.jsonl"))
    exported = (tmp_path / "all.jsonl").read_text()
    assert "Yes question 23" in exported and "sk-test-secret-123" not in exported


def test_collect_with_a_callback_teacher_and_cancel(tmp_path):
    store = distill.Store(str(tmp_path / "c.db"))
    teacher = distill.CallbackTeacher(lambda r: {"text": r["prompt"].upper()})
    summary = distill.collect(teacher, store, [{"prompt": f"p{i}"} for i in range(5)], progress=False)
    assert summary["succeeded"] == 5
    with pytest.raises(distill.CancelledError):
        distill.collect(teacher, store, [{"prompt": f"q{i}"} for i in range(5)],
                        progress=lambda s: False)
    with pytest.raises(distill.InvalidArgumentError, match="requests"):
        distill.collect(teacher, store, [{"prompt": object()}], progress=False)
    with pytest.raises(distill.InvalidArgumentError, match="concurrency"):
        distill.collect(teacher, store, [], concurrency=0, progress=False)
    with pytest.raises(distill.InvalidArgumentError, match="prices"):
        distill.collect(teacher, store, [], prices={"input": 1.0}, progress=False)


def test_records_keep_what_the_teacher_said_fresh_and_stored(tmp_path):
    def fn(request):
        return {"text": "The cat", "finish_reason": "length", "model": "other-model",
                "positions": [{"token": "The", "logprob": None, "top": []},
                              {"token": " cat", "logprob": -1 / 3,
                               "top": [(-1, " cat", -1 / 3), (-1, " dog", None),
                                       (-1, " cow", -2 / 3)]}]}

    teacher = distill.CallbackTeacher(fn, name="echoer", model="asked-model")
    path = tmp_path / "run.db"
    with distill.Store(path) as store:
        fresh = teacher.query_cached(store, {"prompt": "The", "echo": True})
        stored = teacher.query_cached(store, {"prompt": "The", "echo": True})
    for record in (fresh, stored):
        assert record.finish_reason == "length"
        assert record.other_model  # asked-model, answered by other-model
        assert record.positions[0]["logprob"] is None  # absent, not 0.0 (certainty)
        assert record.positions[1]["top"][1][2] is None
        ids, logprobs = record.topk_arrays()
        assert math.isnan(logprobs[1, 1])
    # The fresh answer carries the stored (fp16) top-k values, not finer ones.
    assert fresh.positions == stored.positions
    assert fresh.positions[1]["top"][2][2] == float(np.float16(-2 / 3))
    assert fresh.positions[1]["logprob"] == float(np.float32(-1 / 3))  # chosen: fp32
    assert fresh.provenance["model"] == "other-model"

    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.db"]
    with distill.Store(path, read_only=True) as store:
        stats = store.stats()
        store.export_jsonl(tmp_path / "out.jsonl")
    assert stats["finish_reasons"]["length"] == 1 and stats["other_model"] == 1
    # Reading left no -wal / -shm files beside the store.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "run.db"]
    line = json.loads((tmp_path / "out.jsonl").read_text())
    assert line["finish_reason"] == "length" and line["positions"][0]["logprob"] is None


def test_a_directory_is_not_a_store(tmp_path):
    for read_only in (False, True):
        with pytest.raises(distill.FileIOError, match="which is a directory") as error:
            distill.Store(tmp_path, read_only=read_only)
        assert str(tmp_path) in str(error.value)


def reference_classification_answer(logits, temperature=1.0, top_k=None):
    # The answer as the package wrote it in NumPy before it came from the C ABI.
    z = np.asarray(logits, dtype=np.float64).reshape(-1) / float(temperature)
    logprobs = z - (z.max() + np.log(np.exp(z - z.max()).sum()))
    order = np.argsort(-logprobs, kind="stable")[: top_k or len(z)]
    top = [(int(c), str(int(c)), float(logprobs[c])) for c in order]
    return {"positions": [{"token": top[0][1], "id": top[0][0], "logprob": top[0][2], "top": top}],
            "logprobs_kind": "raw"}


def test_classification_answer_is_the_abi_answer_and_round_trips_through_the_store(tmp_path):
    # Classes 1 and 3 tie: the lower index first.
    logits = np.array([0.5, 2.0, -1.0, 2.0, 0.25], np.float32)
    for temperature, top_k in ((1.0, None), (2.0, 3), (0.5, 0)):
        got = distill.classification_answer(logits, temperature=temperature, top_k=top_k)
        want = reference_classification_answer(logits, temperature, top_k)
        assert got.keys() == want.keys() and got["logprobs_kind"] == "raw"
        (g,), (w,) = got["positions"], want["positions"]
        assert (g["token"], g["id"]) == (w["token"], w["id"])
        assert [t[:2] for t in g["top"]] == [t[:2] for t in w["top"]]
        np.testing.assert_allclose([t[2] for t in g["top"]], [t[2] for t in w["top"]], rtol=1e-6)
    assert distill.classification_answer(logits.tolist())["positions"][0]["id"] == 1
    with pytest.raises(distill.InvalidArgumentError, match="temperature"):
        distill.classification_answer(logits, temperature=0.0)

    # A Python teacher's answer stored and read back: the classes in order,
    # the log-probabilities at fp16 precision, as a model teacher's.
    teacher = distill.CallbackTeacher(lambda r: distill.classification_answer(logits, 2.0, 3),
                                      name="classes")
    store = distill.Store(str(tmp_path / "classes.db"))
    asked = teacher.query_cached(store, {"input": 1})
    stored = store.get(asked.key)
    assert stored is not None
    want = reference_classification_answer(logits, 2.0, 3)["positions"][0]["top"]
    for record in (asked, stored):
        (position,) = record.positions
        assert [t[:2] for t in position["top"]] == [t[:2] for t in want]
        np.testing.assert_allclose([t[2] for t in position["top"]], [t[2] for t in want],
                                   rtol=2.0 ** -11, atol=1e-7)


def test_request_features_read_the_example_wire_format():
    import base64
    request = {"input": {"dtype": "uint8", "shape": [3], "divisor": 255.0,
                         "data": base64.b64encode(bytes([0, 51, 255])).decode()}}
    np.testing.assert_array_equal(distill.request_features(request),
                                  np.array([0, 51, 255], np.float32) / np.float32(255))
    floats = np.array([0.5, -1.25], "<f4")
    request = {"input": {"dtype": "float32", "shape": [2],
                         "data": base64.b64encode(floats.tobytes()).decode()}}
    got = distill.request_features(json.dumps(request))  # its JSON text too
    assert got.dtype == np.float32 and got.shape == (2,)
    np.testing.assert_array_equal(got, floats)
    with pytest.raises(ValueError, match="input"):  # InvalidArgumentError is a ValueError
        distill.request_features({"prompt": "hi"})
