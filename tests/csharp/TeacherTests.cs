// TeacherTests.cs — records, the store, callback teachers (answering,
// failing, throwing), HTTP teachers and collect.
using System;
using System.Threading;
using Distill;

static class TeacherTests {
  public static void TestRecordFields() {
    using (var record = new TeacherRecord()) {
      record.SetString(RecordString.Text, "Paris");
      record.SetInt(RecordInt.PromptTokens, 12);
      record.AppendPosition("Paris", 42, -0.1f, new int[] { 42, 7 }, new float[] { -0.1f, -2.5f });
      record.AppendEmbedding(new float[] { 0.5f, -1.0f, 2.0f });
      Check.Equal("Paris", record.Text, "text");
      Check.Equal(12L, record.GetInt(RecordInt.PromptTokens), "prompt tokens");
      Check.Equal(2, record.PositionTopK(0), "top-k");
      var ids = new int[2];
      var logprobs = new float[2];
      Check.Equal(2, record.CopyTopk(0, ids, logprobs), "copied");
      Check.Equal(7, ids[1], "second id");
      Check.Equal(3, record.Embedding(0).Length, "embedding length");
      var e = Check.Throws<DistillException>(() => record.AppendPosition("x", 1, 0.5f, null, null), "positive logprob");
      Check.True(e.Message.Contains("logprob"), "message: " + e.Message);
    }
  }

  public static void TestFinishReasonAndOtherModel() {
    using (var store = new Store(TempFiles.Path("finish.db")))
    using (var record = new TeacherRecord()) {
      record.SetString(RecordString.Key, new string('a', 64));
      record.SetString(RecordString.FinishReason, "length");
      record.SetString(RecordString.TeacherJson, "{\"model\": \"tiny\"}");
      record.SetString(RecordString.Model, "/models/default.gguf");
      Check.Equal("length", record.FinishReason, "finish reason");
      Check.Equal(true, record.OtherModel, "other model");
      store.Put(record);
      using (var stored = store.Get(new string('a', 64))) {
        Check.Equal("length", stored.FinishReason, "stored finish reason");
        Check.Equal(true, stored.OtherModel, "stored other model");
      }
      var stats = store.Stats();
      Check.Equal(1L, stats.FinishedLength, "finished by length");
      Check.Equal(0L, stats.FinishedStop, "finished by stop");
      Check.Equal(1L, stats.OtherModel, "other model count");
    }
  }

  // log_softmax(logits / t) in double: the reference the answers are checked against.
  static double[] LogSoftmax(float[] logits, double t) {
    double max = double.NegativeInfinity, sum = 0;
    foreach (float z in logits) max = Math.Max(max, z / t);
    foreach (float z in logits) sum += Math.Exp(z / t - max);
    var output = new double[logits.Length];
    for (int c = 0; c < logits.Length; ++c) output[c] = logits[c] / t - max - Math.Log(sum);
    return output;
  }

  public static void TestClassificationAnswerRoundTripsThroughTheStore() {
    // Classes 1 and 3 tie: the lower index comes first.
    var logits = new float[] { 0.5f, 2.0f, -1.0f, 2.0f };
    var expected = LogSoftmax(logits, 2.0);
    using (var store = new Store(TempFiles.Path("classes.db")))
    using (var teacher = Teacher.FromCallback("classes", (request, record) =>
             record.AnswerClassification(logits, 3, 2.0f)))
    using (var asked = teacher.QueryCached(store, "{\"input\": 1}"))
    using (var stored = store.Get(asked.Key)) {
      Check.True(stored != null, "stored");
      foreach (var record in new[] { asked, stored }) {
        Check.Equal(1L, record.PositionCount, "one position");
        Check.Equal("1", record.PositionToken(0), "token");
        Check.Equal(1, record.PositionTokenId(0), "token id");
        Check.True(Math.Abs(expected[1] - record.PositionLogprob(0)) < 1e-6, "chosen logprob");
        var ids = new int[4];
        var logprobs = new float[4];
        Check.Equal(3, record.CopyTopk(0, ids, logprobs), "top-3");
        Check.True(System.Linq.Enumerable.SequenceEqual(ids, new[] { 1, 3, 0, 0 }), "most likely first");
        for (int k = 0; k < 3; ++k)  // fp16 in the store: |error| <= 2^-11 |logprob|
          Check.True(Math.Abs(expected[ids[k]] - logprobs[k]) <= 1e-3 * Math.Abs(expected[ids[k]]) + 1e-6,
                     "logprob " + k + ": " + logprobs[k] + " vs " + expected[ids[k]]);
        Check.Equal(1L, record.GetInt(RecordInt.LogprobsKind), "RAW");
      }
    }
  }

  public static void TestRequestFeaturesReadTheExampleWireFormat() {
    // uint8 values are byte / divisor; float32 ones travel as little-endian bytes.
    string bytes = "{\"input\": {\"dtype\": \"uint8\", \"shape\": [3], \"divisor\": 255.0, \"data\": \""
        + Convert.ToBase64String(new byte[] { 0, 51, 255 }) + "\"}}";
    Check.True(System.Linq.Enumerable.SequenceEqual(Teacher.RequestFeatures(bytes),
                                                    new[] { 0f, 51f / 255f, 1f }), "uint8 features");
    var raw = new byte[8];
    BitConverter.GetBytes(0.5f).CopyTo(raw, 0);  // little-endian hosts
    BitConverter.GetBytes(-1.25f).CopyTo(raw, 4);
    string floats = "{\"input\": {\"dtype\": \"float32\", \"shape\": [2], \"data\": \""
        + Convert.ToBase64String(raw) + "\"}}";
    Check.True(System.Linq.Enumerable.SequenceEqual(Teacher.RequestFeatures(floats),
                                                    new[] { 0.5f, -1.25f }), "float32 features");
    var e = Check.Throws<DistillException>(() => Teacher.RequestFeatures("{\"prompt\": \"hi\"}"),
                                           "not a request");
    Check.True(e.Message.Contains("input"), "message: " + e.Message);
  }

  public static void TestCallbackTeacherThroughAStore() {
    int asked = 0;
    using (var store = new Store(TempFiles.Path("callback.db")))
    using (var teacher = Teacher.FromCallback("echo", (request, record) => {
             Interlocked.Increment(ref asked);
             record.SetString(RecordString.Text, "echo " + request);
           })) {
      using (var first = teacher.QueryCached(store, "{\"prompt\": \"hello\"}"))
      using (var second = teacher.QueryCached(store, "{ \"prompt\":\"hello\" }")) {
        Check.Equal("echo {\"prompt\":\"hello\"}", first.Text, "answer");
        Check.Equal(first.Key, second.Key, "one key");
        Check.Equal(false, first.Failed, "failed");
      }
      Check.Equal(1, asked, "asked once");
      Check.Equal(1L, store.Stats().Records, "records");
      Check.True(store.Get(new string('0', 64)) == null, "a missing key is null");
    }
  }

  class Boom : Exception {
    public Boom() : base("boom") {}
  }

  public static void TestAFailedRequestIsARecordAndAThrowIsAnException() {
    using (var store = new Store(TempFiles.Path("failures.db"))) {
      var failing = Teacher.FromCallback("failing", (request, record) => record.SetError((int)Status.Internal, "model overloaded"));
      using (var record = failing.QueryCached(store, "{\"prompt\": \"a\"}")) {
        Check.True(record.Failed, "failed");
        Check.Equal("model overloaded", record.GetString(RecordString.ErrorMessage), "error message");
      }
      var boom = new Boom();
      TeacherRecord kept = null;
      var throwing = Teacher.FromCallback("throwing", (request, record) => {
        kept = record;
        throw boom;
      });
      var e = Check.Throws<DistillException>(() => throwing.QueryCached(store, "{\"prompt\": \"b\"}"), "a throwing callback");
      Check.Equal(Status.Cancelled, e.Status, "status");
      Check.True(ReferenceEquals(boom, e.InnerException), "the callback's exception is the inner one");
      Check.True(e.Message.Contains("boom"), "message: " + e.Message);
      Check.Equal(1L, store.Stats().Records, "nothing stored for the throw");
      Check.Throws<DistillException>(() => { var text = kept.Text; }, "the record after its callback");
      var next = Check.Throws<DistillException>(() => new Model("{", 0), "bad JSON");
      Check.True(next.InnerException == null, "no stale inner exception");
      failing.Dispose();
      throwing.Dispose();
    }
  }

  public static void TestCollectAsksEachRequestOnce() {
    int asked = 0;
    using (var store = new Store(TempFiles.Path("collect.db")))
    using (var teacher = Teacher.FromCallback("collector", (request, record) => {
             Interlocked.Increment(ref asked);
             record.SetString(RecordString.Text, "ok");
           })) {
      var requests = new[] { "{\"prompt\": \"1\"}", "{\"prompt\": \"2\"}", "{\"prompt\": \"1\"}" };
      var first = teacher.Collect(store, requests, null);
      Check.Equal(3L, first.Requests, "requests");
      Check.Equal(2L, first.Asked, "asked");
      var second = teacher.Collect(store, requests, new CollectOptions());
      Check.Equal(0L, second.Asked, "asked again");
      Check.Equal(3L, second.AnsweredFromStore, "from the store");
      Check.Equal(2, asked, "callback calls");
    }
  }

  public static void TestHttpTeacher() {
    var options = new HttpTeacherOptions();
    Check.True(options.LowSpeedSeconds == 60, "low_speed_seconds defaults to the library's 60");
    options.LowSpeedSeconds = 30;
    var e = Check.Throws<DistillException>(() => Teacher.Http(options), "no base_url");
    Check.True(e.Message.Contains("base_url"), "message: " + e.Message);
    options.BaseUrl = "http://127.0.0.1:1/v1";
    options.MaxRetries = 0;
    options.ConnectTimeoutMs = 2000;
    using (var teacher = Teacher.Http(options))
    using (var record = teacher.Query("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}")) {
      Check.True(record.Failed, "an unreachable server is a failed record");
    }
  }
}
