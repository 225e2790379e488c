// LanguageModelTests.cs — a transformer student from C# (section 15 of the
// C ABI): causal logits that survive save and load, token steps (shifted
// labels, dense and top-k teachers, a batch learned), FitText on a fortunes
// token dataset with validation, exact resume and cancellation, evaluation
// with a teacher, distillation from a store of answers filled through
// TeacherRecord, and the refusals.
using System;
using System.Collections.Generic;
using System.Linq;
using Distill;

static class LanguageModelTests {
  const int Vocab = 300, Context = 16;
  static readonly Tokenizer tokenizer;
  static readonly string dataset = TempFiles.Path("lm.tokens");

  static LanguageModelTests() {
    var docs = TextFixtures.Documents(160);
    tokenizer = Tokenizer.Train(docs, Vocab, TextFixtures.Eos);
    var paths = TextFixtures.WriteDocuments(TempFiles.Path("lm-docs"), docs);
    TextDataset.TokenizeFiles(tokenizer, paths, dataset,
                              new TokenizeOptions { Context = Context, ValidationFraction = 0.4, Seed = 3 });
  }

  static string Config(int vocab = Vocab, int context = Context, int dim = 32) {
    return "{\"kind\": \"transformer\", \"vocab\": " + vocab + ", \"dim\": " + dim +
           ", \"layers\": 2, \"heads\": 4, \"kv_heads\": 2, \"ffn\": 48, \"context\": " + context + "}";
  }

  static int[] SomeTokens(int n, int salt = 0) {
    return Enumerable.Range(0, n).Select(i => (i * 37 + salt * 11 + 5) % Vocab).ToArray();
  }

  static float[] Parameters(Model model) {
    var all = new List<float>();
    for (long i = 0; i < model.TensorCount; ++i) all.AddRange(model.Parameter(i));
    return all.ToArray();
  }

  static Trainer MakeTrainer(Distill.Context cpu, Model model, double lr) {
    var options = new TrainerOptions { OptimizerJson = "{\"kind\": \"adamw\", \"lr\": " + lr + "}" };
    return new Trainer(cpu, model, options, null);
  }

  static void Refused(Action call, string expected) {
    var e = Check.Throws<DistillException>(call, expected);
    Check.Equal(Status.InvalidArgument, e.Status, e.Message);
    Check.True(e.Message.Contains(expected), "'" + expected + "' in: " + e.Message);
  }

  static void SameFloats(float[] expected, float[] actual, string what) {
    Check.Equal(expected.Length, actual.Length, what + " length");
    for (int i = 0; i < expected.Length; ++i)
      if (expected[i] != actual[i]) throw new Exception(what + ": differ at " + i + ": " + expected[i] + " vs " + actual[i]);
  }

  static float[] Slice(float[] values, int begin, int end) {
    return values.Skip(begin).Take(end - begin).ToArray();
  }

  public static void TestLogitsAreCausalAndTheSameAfterSaveAndLoad() {
    using (var cpu = new Distill.Context(1))
    using (var model = new Model(Config(), 7)) {
      Check.Equal((long)Context, model.Inputs, "inputs = context");
      Check.Equal((long)Vocab, model.Outputs, "outputs = vocabulary");
      Check.Equal("model.embed_tokens.weight", model.ParameterName(0), "first parameter");
      int[] tokens = SomeTokens(2 * 10);
      float[] logits = model.LmLogits(cpu, tokens, 2);
      Check.Equal(2 * 10 * Vocab, logits.Length, "logits length");
      var inPlace = new float[logits.Length];
      model.LmLogits(cpu, tokens, 2, inPlace);
      SameFloats(logits, inPlace, "in place");

      string file = TempFiles.Path("lm-model.safetensors");
      model.Save(file);
      using (var loaded = Model.Load(file)) SameFloats(logits, loaded.LmLogits(cpu, tokens, 2), "loaded");

      int[] changed = (int[])tokens.Clone();
      changed[7] = (changed[7] + 1) % Vocab;
      float[] other = model.LmLogits(cpu, changed, 2);
      SameFloats(Slice(logits, 0, 7 * Vocab), Slice(other, 0, 7 * Vocab), "positions before the change");
      Check.True(!Slice(logits, 7 * Vocab, 8 * Vocab).SequenceEqual(Slice(other, 7 * Vocab, 8 * Vocab)),
                 "the changed position's logits differ");
      SameFloats(Slice(logits, 10 * Vocab, logits.Length), Slice(other, 10 * Vocab, other.Length), "the other row");
    }
  }

  public static void TestLogitsAndStepsRefuseWhatDoesNotFit() {
    using (var cpu = new Distill.Context(1))
    using (var model = new Model(Config(), 1))
    using (var mlp = new Model("{\"kind\": \"mlp\", \"inputs\": 4, \"outputs\": 3}", 1)) {
      Refused(() => mlp.LmLogits(cpu, new[] { 1, 2, 3, 4 }, 1), "expected a transformer model");
      int[] tokens = SomeTokens(2 * 10);
      Refused(() => model.LmLogits(cpu, tokens, 2, new float[2 * 10 * Vocab - 1]),
              "logits: expected length 6000 (2 rows of 10 positions of 300 logits), got 5999");
      Refused(() => model.LmLogits(cpu, new int[7], 2), "tokens: expected a length that is a positive multiple of rows = 2, got 7");
      int[] bad = (int[])tokens.Clone();
      bad[11] = Vocab;
      Refused(() => model.LmLogits(cpu, bad, 2), "tokens[1, 1]: expected a token id in [0, 300)");
      Refused(() => model.LmLogits(cpu, new int[20], 1), "longer than the model's context of 16");
      using (var t = MakeTrainer(cpu, model, 1e-3))
      using (var mlpTrainer = MakeTrainer(cpu, mlp, 1e-3)) {
        int[] batch = SomeTokens(2 * 8, 1);
        Refused(() => t.StepTokens(batch, 2, new int[14]), "labels: expected length 16, got 14");
        Refused(() => t.StepTokens(batch, 2, null, new float[2 * 8 * (Vocab + 1)], null, null, 0),
                "teacher_logits: expected length 4800 (2 rows of 8 positions of 300 logits), got 4816");
        Refused(() => t.StepTokens(batch, 2, null, null, new int[48], new float[48], 0), "k: expected");
        Refused(() => t.StepTokens(batch, 2, null, null, new int[48], null, 3), "only one");
        Refused(() => mlpTrainer.StepTokens(batch, 2), "MLP or CNN");
        Check.Equal(0L, t.StepCount, "refused steps changed nothing");
      }
    }
  }

  public static void TestNullLabelsAreTheShiftedTokensAndTeachersAreDistilled() {
    const int B = 2, T = 8;
    int[] tokens = SomeTokens(B * T);
    var labels = new int[B * T];
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < T; ++t) labels[b * T + t] = t + 1 < T ? tokens[b * T + t + 1] : -100;
    using (var cpu = new Distill.Context(1))
    using (var a = new Model(Config(), 5))
    using (var b2 = new Model(Config(), 5))
    using (var teacher = new Model(Config(), 99))
    using (var ta = MakeTrainer(cpu, a, 3e-3))
    using (var tb = MakeTrainer(cpu, b2, 3e-3)) {
      var shifted = ta.StepTokens(tokens, B);
      var given = tb.StepTokens(tokens, B, labels);
      Check.Equal(shifted.Loss, given.Loss, "loss, labels null vs shifted");
      Check.Equal((long)(B * (T - 1)), shifted.Positions, "positions");
      Check.Equal(1L, shifted.Step, "step");
      Check.True(double.IsNaN(shifted.SoftLoss), "no soft loss without a teacher");
      Check.Equal(shifted.Loss, shifted.HardLoss, "hard loss");
      Check.Near(Math.Log(Vocab), shifted.Loss, 0.2, "a fresh model is near uniform");
      SameFloats(Parameters(a), Parameters(b2), "parameters after the step");
      // Labels are read: masking the first three positions of each row counts six fewer.
      var masked = (int[])labels.Clone();
      for (int b = 0; b < B; ++b)
        for (int t = 0; t < 3; ++t) masked[b * T + t] = -100;
      using (var c = new Model(Config(), 5))
      using (var tc = MakeTrainer(cpu, c, 3e-3)) {
        var partial = tc.StepTokens(tokens, B, masked);
        Check.Equal((long)(B * (T - 1) - 6), partial.Positions, "positions with masked labels");
        Check.True(partial.Loss != shifted.Loss, "masked labels change the loss");
      }

      float[] dense = teacher.LmLogits(cpu, tokens, B);
      var withDense = ta.StepTokens(tokens, B, labels, dense, null, null, 0);
      Check.True(withDense.SoftLoss > 0, "dense soft loss " + withDense.SoftLoss);
      const int K = 2;
      var ids = new int[B * T * K];
      var logprobs = new float[B * T * K];
      for (int n = 0; n < B * T; ++n) {
        ids[n * K] = n % Vocab;
        ids[n * K + 1] = n == 3 ? -1 : (n + 1) % Vocab;
        logprobs[n * K] = -0.5f;
        logprobs[n * K + 1] = -1.5f;
      }
      var withTopk = ta.StepTokens(tokens, B, labels, null, ids, logprobs, K);
      Check.True(withTopk.SoftLoss > 0 && !double.IsInfinity(withTopk.SoftLoss), "top-k soft loss " + withTopk.SoftLoss);
      Check.Equal(3L, withTopk.Step, "step");
      Refused(() => ta.StepTokens(tokens, B, labels, dense, ids, logprobs, K), "got both forms");
    }
  }

  public static void TestARepeatedBatchIsLearned() {
    int[] tokens = SomeTokens(2 * 12, 3);
    using (var cpu = new Distill.Context(1))
    using (var model = new Model(Config(), 11))
    using (var t = MakeTrainer(cpu, model, 1e-2)) {
      double first = t.StepTokens(tokens, 2).Loss, last = first;
      for (int i = 0; i < 39; ++i) last = t.StepTokens(tokens, 2).Loss;
      Check.True(last < 0.25 * first, "loss " + first + " -> " + last);
    }
  }

  static TextFitOptions FitOptions(long steps) {
    return new TextFitOptions { Steps = steps, BatchWindows = 3, Seed = 21 };
  }

  public static void TestFitTextValidatesResumesExactlyAndCancels() {
    string checkpoint = TempFiles.Path("lm-checkpoint");
    using (var cpu = new Distill.Context(1))
    using (var data = new TextDataset(dataset))
    using (var whole = new Model(Config(), 4))
    using (var wholeTrainer = MakeTrainer(cpu, whole, 1e-2)) {
      var options = FitOptions(8);
      options.EvalInterval = 4;
      options.EvalWindows = 4;
      var steps = new List<long>();
      var validations = new List<LmEvalMetrics>();
      var s = wholeTrainer.FitText(data, options, p => {
        if (p.Evaluated) validations.Add(p.Validation);
        else steps.Add(p.Step);
        return true;
      });
      Check.Equal("1 2 3 4 5 6 7 8", string.Join(" ", steps), "steps reported");
      Check.Equal(2, validations.Count, "validations");
      Check.Equal(4L, validations[0].Windows, "validation windows");
      Check.Equal(8L, s.GlobalStep, "global step");
      Check.True(s.Validated, "validated");
      Check.Equal(validations[1].Loss, s.Validation.Loss, "the last validation");
      Check.True(s.Validation.Loss < Math.Log(Vocab), "validation loss " + s.Validation.Loss);

      using (var half = new Model(Config(), 4))
      using (var halfTrainer = MakeTrainer(cpu, half, 1e-2)) {
        var firstHalf = FitOptions(5);
        firstHalf.CheckpointDir = checkpoint;
        halfTrainer.FitText(data, firstHalf);
      }
      using (var rest = new Model(Config(), 0))
      using (var restTrainer = MakeTrainer(cpu, rest, 1e-2)) {
        restTrainer.Resume(checkpoint);
        var r = restTrainer.FitText(data, FitOptions(8));
        Check.Equal(3L, r.StepsRun, "steps after the resume");
        Check.Equal(s.FinalLoss, r.FinalLoss, "final loss");
        SameFloats(Parameters(whole), Parameters(rest), "resumed parameters");
      }

      using (var model = new Model(Config(), 4))
      using (var t = MakeTrainer(cpu, model, 1e-2)) {
        var stop = FitOptions(8);
        stop.CheckpointDir = TempFiles.Path("lm-cancelled");
        var stopped = Check.Throws<DistillException>(() => t.FitText(data, stop, p => p.Step < 2), "cancel");
        Check.Equal(Status.Cancelled, stopped.Status, "status");
        Check.Equal(2L, t.StepCount, "steps when cancelled");
        using (var saved = Model.Load(stop.CheckpointDir)) SameFloats(Parameters(model), Parameters(saved), "checkpoint");
        var thrown = new InvalidOperationException("listener gave up");
        var failed = Check.Throws<DistillException>(() => t.FitText(data, stop, p => { throw thrown; }), "throwing listener");
        Check.Equal(Status.Cancelled, failed.Status, "status");
        Check.True(ReferenceEquals(thrown, failed.InnerException), "the listener's exception is the InnerException");
        // The final report cannot stop a finished fit; what it throws is dropped, and does not
        // become the InnerException of the next failure on this thread.
        var finished = t.FitText(data, FitOptions(4), p => {
          if (p.Evaluated && p.Step == 4) throw thrown;
          return true;
        });
        Check.Equal(4L, finished.GlobalStep, "the fit finished");
        var next = Check.Throws<DistillException>(() => t.FitText(data, FitOptions(4)), "steps not above");
        Check.True(next.InnerException == null, "no stale InnerException: " + next.InnerException);
      }
    }
  }

  public static void TestEvaluationWithAnIdenticalTeacherAgreesEverywhere() {
    using (var cpu = new Distill.Context(1))
    using (var data = new TextDataset(dataset))
    using (var model = new Model(Config(), 2))
    using (var stranger = new Model(Config(), 77))
    using (var wide = new Model(Config(Vocab + 8), 1)) {
      var options = new LmEvalOptions { MaxWindows = 3, BatchWindows = 2 };
      Check.Equal(Split.Validation, options.Split, "default split");
      var m = Lm.Evaluate(cpu, model, data, options);
      Check.Equal(3L, m.Windows, "windows");
      Check.Equal(3L * Context, m.Positions, "positions");
      Check.True(double.IsNaN(m.Agreement) && double.IsNaN(m.MeanKl), "no teacher figures");
      Check.Near(Math.Exp(m.Loss), m.Perplexity, 1e-9 * m.Perplexity, "perplexity");

      // The loss from the logits, in double.
      var tokens = new int[3 * Context];
      var targets = new int[3 * Context];
      data.Batch(Split.Validation, new long[] { 0, 1, 2 }, tokens, targets);
      float[] logits = model.LmLogits(cpu, tokens, 3);
      double nll = 0;
      for (int n = 0; n < 3 * Context; ++n) {
        double top = logits.Skip(n * Vocab).Take(Vocab).Max(), total = 0;
        for (int v = 0; v < Vocab; ++v) total += Math.Exp(logits[n * Vocab + v] - top);
        nll += top + Math.Log(total) - logits[n * Vocab + targets[n]];
      }
      Check.Near(nll / (3 * Context), m.Loss, 1e-9 * m.Loss, "loss from the logits");

      string file = TempFiles.Path("lm-twin.safetensors");
      model.Save(file);
      using (var twin = Model.Load(file)) {
        options.Teacher = twin;
        var t = Lm.Evaluate(cpu, model, data, options);
        Check.Equal(1.0, t.Agreement, "agreement with an identical teacher");
        Check.Near(0.0, t.MeanKl, 1e-9, "KL to an identical teacher");
        Check.Equal(m.Loss, t.Loss, "loss with a teacher");
      }
      // The options keep the teacher: disposing the C# Model does not take it from them.
      using (var copy = Model.Load(file)) options.Teacher = copy;
      Check.Equal(1.0, Lm.Evaluate(cpu, model, data, options).Agreement, "agreement with a disposed copy");
      options.Teacher = stranger;
      Check.True(Lm.Evaluate(cpu, model, data, options).Agreement < 1.0, "a stranger disagrees somewhere");
      options.Teacher = wide;
      Refused(() => Lm.Evaluate(cpu, model, data, options), "308");
      var fit = FitOptions(1);
      fit.Teacher = wide;
      using (var trainer = MakeTrainer(cpu, model, 1e-2)) Refused(() => trainer.FitText(data, fit), "308");
      var disposed = new Model(Config(), 3);
      disposed.Dispose();
      Refused(() => options.Teacher = disposed, "Teacher: used after Dispose()");
      options.Teacher = null;
      Check.True(options.Teacher == null, "teacher cleared");
    }
  }

  // Answers as an HTTP teacher leaves them (see the Java test's putAnswers).
  static void PutAnswers(string path, string[] prompts, string[] completions, string teacherJson) {
    using (var store = new Store(path)) {
      for (int i = 0; i < prompts.Length; ++i) {
        using (var record = new TeacherRecord()) {
          record.SetString(RecordString.Key, string.Format("{0:x16}{1}", i + 1, new string('0', 48)));
          record.SetString(RecordString.Text, completions[i]);
          record.SetString(RecordString.Model, "teacher-model");
          record.SetString(RecordString.TeacherJson, teacherJson);
          record.SetString(RecordString.ParametersJson, "{}");
          record.SetString(RecordString.RequestJson, "{\"prompt\": \"" + prompts[i] + "\"}");
          int[] ids = tokenizer.Encode(completions[i]);
          for (int p = 0; p < ids.Length; ++p) {
            string token = tokenizer.Decode(new[] { ids[p] });
            int other = (ids[p] + 1) % Vocab;
            bool withId = p % 2 == 0;
            record.AppendPosition(token, withId ? ids[p] : -1, -0.25f, new[] { withId ? ids[p] : -1, withId ? other : -1 },
                                  new[] { token, tokenizer.Decode(new[] { other }) }, new[] { -0.25f, -1.75f });
          }
          store.Put(record);
        }
      }
    }
  }

  public static void TestDistillingFromStoredAnswersLowersTheirLoss() {
    string storePath = TempFiles.Path("lm-answers.sqlite");
    string[] completions = { " A cat is fine.", " Nothing new.", " Please." };
    PutAnswers(storePath, new[] { "Q: a cat?", "Q: the news", "Q: magic words" }, completions, "{\"name\":\"teacher-a\"}");
    using (var cpu = new Distill.Context(1))
    using (var store = new Store(storePath, true))
    using (var model = new Model(Config(Vocab, 64), 6))
    using (var t = MakeTrainer(cpu, model, 1e-2)) {
      var rows = new StoredRowsInfo();
      var before = Lm.EvaluateStored(cpu, model, store, tokenizer, null, null, rows);
      Check.Equal(3L, rows.Rows, "rows");
      Check.Equal(2L, rows.Topk, "K");
      Check.Equal(0L, rows.Unmapped, "unmapped");
      Check.True(rows.ById > 0 && rows.ByBytes > 0, "mapped by id and by bytes: " + rows.ById + " / " + rows.ByBytes);
      Check.Equal((long)completions.Sum(c => tokenizer.Encode(c).Length), before.Positions, "completion positions");
      Check.True(double.IsNaN(before.MeanKl), "no KL from top-k answers");

      var options = new TextFitOptions { Steps = 60, BatchWindows = 3 };
      var fit = t.FitStored(store, tokenizer, null, options);
      Check.Equal(60L, fit.Fit.GlobalStep, "global step");
      Check.True(!fit.Fit.Validated, "no validation split");
      Check.Equal(3L, fit.Rows.Rows, "rows trained on");
      var after = Lm.EvaluateStored(cpu, model, store, tokenizer);
      Check.True(after.Loss < before.Loss - 1.0, "stored loss " + before.Loss + " -> " + after.Loss);
      Check.True(after.Agreement > 0.9, "agreement " + after.Agreement);
      Refused(() => Lm.EvaluateStored(cpu, model, store, tokenizer, "{\"name\": \"nobody\"}"), "no answer");
      options.Steps = 61;
      options.Teacher = model;
      Refused(() => t.FitStored(store, tokenizer, null, options), "options.teacher");
      Check.Equal(60L, t.StepCount, "refusals changed nothing");
    }

    // A teacher of another vocabulary: its ids are not the student's.
    string otherPath = TempFiles.Path("lm-other-vocabulary.sqlite");
    using (var store = new Store(otherPath))
    using (var record = new TeacherRecord()) {
      record.SetString(RecordString.Key, string.Format("{0:x64}", 7));
      record.SetString(RecordString.Text, " Yes.");
      record.SetString(RecordString.Model, "big-teacher");
      record.SetString(RecordString.TeacherJson, "{\"name\":\"big\"}");
      record.SetString(RecordString.RequestJson, "{\"prompt\": \"Q: more\"}");
      foreach (int id in tokenizer.Encode(" Yes."))
        record.AppendPosition(tokenizer.Decode(new[] { id }), 5000 + id, -0.1f, new[] { 5000 + id, 6000 + id },
                              new[] { -0.1f, -2.5f });
      store.Put(record);
    }
    using (var cpu = new Distill.Context(1))
    using (var store = new Store(otherPath, true))
    using (var model = new Model(Config(Vocab, 64), 6))
    using (var t = MakeTrainer(cpu, model, 1e-2)) {
      Refused(() => t.FitStored(store, tokenizer, null, new TextFitOptions { Steps = 1 }),
              "is outside the student's vocabulary of 300 ids");
      Refused(() => Lm.EvaluateStored(cpu, model, store, tokenizer), "'big-teacher'");
    }
  }
}
