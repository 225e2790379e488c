package ai.distill.tests;

import static org.junit.jupiter.api.Assertions.*;

import ai.distill.*;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A transformer student from Java (section 15 of the C ABI): causal logits that survive save and
 * load, token steps (shifted labels, dense and top-k teachers, a batch learned), fitText on a
 * fortunes token dataset with validation, exact resume and cancellation, evaluation with a
 * teacher, distillation from a store of answers filled through TeacherRecord, and the refusals.
 */
class LanguageModelTest {
  static final int VOCAB = 300, CONTEXT = 16;
  static Tokenizer tokenizer;
  static String dataset;

  static String config(int vocab, int context, int dim) {
    return "{\"kind\": \"transformer\", \"vocab\": " + vocab + ", \"dim\": " + dim
        + ", \"layers\": 2, \"heads\": 4, \"kv_heads\": 2, \"ffn\": 48, \"context\": " + context + "}";
  }

  static String config() {
    return config(VOCAB, CONTEXT, 32);
  }

  /** A tokenizer of 300 ids trained on fortunes and a token dataset of them (40% validation). */
  @BeforeAll
  static void corpus() throws IOException {
    List<String> docs = TextFixtures.documents(160);
    tokenizer = Tokenizer.train(docs, VOCAB, TextFixtures.EOS);
    List<String> paths = TextFixtures.writeDocuments(Path.of(TempFiles.path("lm-docs")), docs);
    dataset = TempFiles.path("lm.tokens");
    TokenizeOptions options = new TokenizeOptions();
    options.setContext(CONTEXT);
    options.setValidationFraction(0.4);
    options.setSeed(3);
    TextDataset.tokenizeFiles(tokenizer, paths, dataset, options, null);
  }

  static int[] someTokens(int n, int salt) {
    int[] tokens = new int[n];
    for (int i = 0; i < n; ++i) tokens[i] = (i * 37 + salt * 11 + 5) % VOCAB;
    return tokens;
  }

  /** Every parameter value of the model, tensor after tensor. */
  static float[] parameters(Model model) {
    List<float[]> tensors = new ArrayList<>();
    int total = 0;
    for (long i = 0; i < model.tensorCount(); ++i) {
      float[] values = model.parameter(i);
      tensors.add(values);
      total += values.length;
    }
    float[] all = new float[total];
    int at = 0;
    for (float[] values : tensors) {
      System.arraycopy(values, 0, all, at, values.length);
      at += values.length;
    }
    return all;
  }

  static Trainer trainer(Context cpu, Model model, double lr) {
    TrainerOptions options = new TrainerOptions();
    options.setOptimizerJson("{\"kind\": \"adamw\", \"lr\": " + lr + "}");
    return new Trainer(cpu, model, options, null);
  }

  static DistillException refused(org.junit.jupiter.api.function.Executable call, String expected) {
    DistillException e = assertThrows(DistillException.class, call);
    assertEquals(DistillException.INVALID_ARGUMENT, e.status(), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    return e;
  }

  @Test
  void logitsAreCausalAndTheSameAfterSaveAndLoad() {
    try (Context cpu = new Context(1); Model model = new Model(config(), 7)) {
      assertEquals(CONTEXT, model.inputs());
      assertEquals(VOCAB, model.outputs());
      assertEquals("model.embed_tokens.weight", model.parameterName(0));
      assertArrayEquals(new long[] {VOCAB, 32}, model.parameterShape(0));
      int[] tokens = someTokens(2 * 10, 0);
      float[] logits = model.lmLogits(cpu, tokens, 2);
      assertEquals(2 * 10 * VOCAB, logits.length);
      float[] inPlace = new float[logits.length];
      model.lmLogits(cpu, tokens, 2, inPlace);
      assertArrayEquals(logits, inPlace);

      String file = TempFiles.path("lm-model.safetensors");
      model.save(file);
      try (Model loaded = Model.load(file)) {
        assertEquals(model.configJson(), loaded.configJson());
        assertArrayEquals(logits, loaded.lmLogits(cpu, tokens, 2));
      }

      // Position t of a row sees tokens 0 … t of that row only.
      int[] changed = tokens.clone();
      changed[7] = (changed[7] + 1) % VOCAB;
      float[] other = model.lmLogits(cpu, changed, 2);
      assertArrayEquals(Arrays.copyOfRange(logits, 0, 7 * VOCAB), Arrays.copyOfRange(other, 0, 7 * VOCAB));
      assertFalse(Arrays.equals(Arrays.copyOfRange(logits, 7 * VOCAB, 8 * VOCAB),
                                Arrays.copyOfRange(other, 7 * VOCAB, 8 * VOCAB)));
      assertArrayEquals(Arrays.copyOfRange(logits, 10 * VOCAB, logits.length),
                        Arrays.copyOfRange(other, 10 * VOCAB, other.length));
    }
  }

  @Test
  void logitsAndStepsRefuseWhatDoesNotFit() {
    try (Context cpu = new Context(1); Model model = new Model(config(), 1);
         Model mlp = new Model("{\"kind\": \"mlp\", \"inputs\": 4, \"outputs\": 3}", 1)) {
      refused(() -> mlp.lmLogits(cpu, new int[] {1, 2, 3, 4}, 1), "expected a transformer model");
      refused(() -> model.predict(cpu, new float[CONTEXT], 1, Output.RAW), "distill_lm_logits");
      int[] tokens = someTokens(2 * 10, 0);
      refused(() -> model.lmLogits(cpu, tokens, 2, new float[2 * 10 * VOCAB - 1]),
              "logits: expected length 6000 (2 rows of 10 positions of 300 logits), got 5999");
      refused(() -> model.lmLogits(cpu, new int[7], 2),
              "tokens: expected a length that is a positive multiple of rows = 2, got 7");
      refused(() -> model.lmLogits(cpu, null, 1), "tokens: expected an array, got null");
      int[] bad = tokens.clone();
      bad[11] = VOCAB;
      refused(() -> model.lmLogits(cpu, bad, 2), "tokens[1, 1]: expected a token id in [0, 300)");
      refused(() -> model.lmLogits(cpu, new int[20], 1), "longer than the model's context of 16");

      try (Trainer t = trainer(cpu, model, 1e-3); Trainer mlpTrainer = trainer(cpu, mlp, 1e-3)) {
        int[] batch = someTokens(2 * 8, 1);
        refused(() -> t.stepTokens(batch, 2, new int[14]), "labels: expected length 16, got 14");
        refused(() -> t.stepTokens(batch, 2, null, new float[2 * 8 * (VOCAB + 1)], null, null, 0),
                "teacher_logits: expected length 4800 (2 rows of 8 positions of 300 logits), got 4816");
        refused(() -> t.stepTokens(batch, 2, null, null, new int[32], new float[32], 0), "k: expected");
        refused(() -> t.stepTokens(batch, 2, null, null, new int[32], new float[32], 3),
                "topk_ids: expected length 48 (2 rows of 8 positions of 3 ids), got 32");
        refused(() -> t.stepTokens(batch, 2, null, null, new int[32], null, 2), "only one");
        refused(() -> mlpTrainer.stepTokens(batch, 2, null), "MLP or CNN");
        assertEquals(0, t.stepCount());  // refused steps changed nothing
      }
    }
  }

  @Test
  void nullLabelsAreTheShiftedTokensAndTeachersAreDistilled() {
    final int B = 2, T = 8;
    int[] tokens = someTokens(B * T, 0);
    int[] labels = new int[B * T];
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < T; ++t) labels[b * T + t] = t + 1 < T ? tokens[b * T + t + 1] : -100;
    try (Context cpu = new Context(1); Model a = new Model(config(), 5); Model b = new Model(config(), 5);
         Trainer ta = trainer(cpu, a, 3e-3); Trainer tb = trainer(cpu, b, 3e-3);
         Model teacher = new Model(config(), 99)) {
      TokenStepMetrics shifted = ta.stepTokens(tokens, B, null);
      TokenStepMetrics given = tb.stepTokens(tokens, B, labels);
      assertEquals(shifted.getLoss(), given.getLoss());
      assertEquals(B * (T - 1), shifted.getPositions());
      assertEquals(1, shifted.getStep());
      assertTrue(Double.isNaN(shifted.getSoftLoss()));
      assertEquals(shifted.getLoss(), shifted.getHardLoss());
      assertEquals(Math.log(VOCAB), shifted.getLoss(), 0.2);  // a fresh model is near uniform
      assertArrayEquals(parameters(a), parameters(b));
      // Labels are read: masking the first three positions of each row counts six fewer.
      int[] masked = labels.clone();
      for (int row = 0; row < B; ++row) Arrays.fill(masked, row * T, row * T + 3, -100);
      try (Model c = new Model(config(), 5); Trainer tc = trainer(cpu, c, 3e-3)) {
        TokenStepMetrics partial = tc.stepTokens(tokens, B, masked);
        assertEquals(B * (T - 1) - 6, partial.getPositions());
        assertNotEquals(shifted.getLoss(), partial.getLoss());
      }

      float[] dense = teacher.lmLogits(cpu, tokens, B);
      TokenStepMetrics withDense = ta.stepTokens(tokens, B, labels, dense, null, null, 0);
      assertTrue(withDense.getSoftLoss() > 0, "soft loss " + withDense.getSoftLoss());
      assertEquals(2, withDense.getStep());

      final int K = 2;
      int[] ids = new int[B * T * K];
      float[] logprobs = new float[B * T * K];
      for (int n = 0; n < B * T; ++n) {
        ids[n * K] = n % VOCAB;
        ids[n * K + 1] = n == 3 ? -1 : (n + 1) % VOCAB;  // -1: an empty slot
        logprobs[n * K] = -0.5f;
        logprobs[n * K + 1] = -1.5f;
      }
      TokenStepMetrics withTopk = ta.stepTokens(tokens, B, labels, null, ids, logprobs, K);
      assertTrue(Double.isFinite(withTopk.getSoftLoss()) && withTopk.getSoftLoss() > 0);
      assertEquals(3, withTopk.getStep());
      refused(() -> ta.stepTokens(tokens, B, labels, dense, ids, logprobs, K), "got both forms");
    }
  }

  @Test
  void aRepeatedBatchIsLearned() {
    int[] tokens = someTokens(2 * 12, 3);
    try (Context cpu = new Context(1); Model model = new Model(config(), 11);
         Trainer t = trainer(cpu, model, 1e-2)) {
      double first = t.stepTokens(tokens, 2, null).getLoss();
      double last = first;
      for (int i = 0; i < 39; ++i) last = t.stepTokens(tokens, 2, null).getLoss();
      assertTrue(last < 0.25 * first, "loss " + first + " -> " + last);
      assertEquals(40, t.stepCount());
    }
  }

  static TextFitOptions fitOptions(long steps) {
    TextFitOptions options = new TextFitOptions();
    options.setSteps(steps);
    options.setBatchWindows(3);
    options.setSeed(21);
    return options;
  }

  @Test
  void fitTextValidatesAndResumesExactlyFromACheckpoint() {
    String checkpoint = TempFiles.path("lm-checkpoint");
    try (Context cpu = new Context(1); TextDataset data = new TextDataset(dataset);
         Model whole = new Model(config(), 4); Trainer wholeTrainer = trainer(cpu, whole, 1e-2)) {
      assertTrue(data.windows(Split.VALIDATION) >= 4, "validation windows " + data.windows(Split.VALIDATION));
      TextFitOptions options = fitOptions(8);
      options.setEvalInterval(4);
      options.setEvalWindows(4);
      List<Long> steps = new ArrayList<>();
      List<LmEvalMetrics> validations = new ArrayList<>();
      TextFitSummary s = wholeTrainer.fitText(data, options, p -> {
        if (p.getEvaluated()) {
          validations.add(p.getValidation());
        } else {
          steps.add(p.getStep());
          assertTrue(p.getTokensPerSecond() > 0);
          assertEquals(8, p.getSteps());
        }
        return true;
      });
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L), steps);
      assertEquals(2, validations.size());
      assertEquals(4, validations.get(0).getWindows());
      assertEquals(4 * CONTEXT, validations.get(0).getPositions());
      assertEquals(8, s.getStepsRun());
      assertEquals(8, s.getGlobalStep());
      assertTrue(s.getValidated());
      LmEvalMetrics last = s.getValidation();
      assertEquals(validations.get(1).getLoss(), last.getLoss());
      assertTrue(last.getLoss() <= validations.get(0).getLoss(), last.getLoss() + " vs " + validations.get(0).getLoss());
      assertTrue(last.getLoss() < Math.log(VOCAB), "loss " + last.getLoss());
      assertEquals(Math.exp(last.getLoss()), last.getPerplexity(), 1e-9 * last.getPerplexity());

      // Five steps and a checkpoint; a new trainer resumed from it takes the other three.
      try (Model half = new Model(config(), 4); Trainer halfTrainer = trainer(cpu, half, 1e-2)) {
        TextFitOptions firstHalf = fitOptions(5);
        firstHalf.setCheckpointDir(checkpoint);
        assertEquals(5, halfTrainer.fitText(data, firstHalf).getGlobalStep());
      }
      try (Model rest = new Model(config(), 0); Trainer restTrainer = trainer(cpu, rest, 1e-2)) {
        restTrainer.resume(checkpoint);
        assertEquals(5, restTrainer.stepCount());
        TextFitSummary r = restTrainer.fitText(data, fitOptions(8));
        assertEquals(3, r.getStepsRun());
        assertEquals(s.getFinalLoss(), r.getFinalLoss());
        assertArrayEquals(parameters(whole), parameters(rest));
      }

      // Steps not above the trainer's: refused before any step.
      refused(() -> wholeTrainer.fitText(data, fitOptions(8)), "above the trainer's 8");
    }
  }

  @Test
  void fitTextCancelsAfterItsCheckpoint() {
    String checkpoint = TempFiles.path("lm-cancelled");
    try (Context cpu = new Context(1); TextDataset data = new TextDataset(dataset);
         Model model = new Model(config(), 4); Trainer t = trainer(cpu, model, 1e-2)) {
      TextFitOptions options = fitOptions(8);
      options.setCheckpointDir(checkpoint);
      DistillException stopped = assertThrows(DistillException.class,
          () -> t.fitText(data, options, p -> p.getStep() < 2));
      assertEquals(DistillException.CANCELLED, stopped.status());
      assertTrue(stopped.getMessage().contains("cancelled at step 2"), stopped.getMessage());
      assertEquals(2, t.stepCount());
      try (Model saved = Model.load(checkpoint)) {
        assertArrayEquals(parameters(model), parameters(saved));
      }

      IllegalStateException thrown = new IllegalStateException("listener gave up");
      DistillException failed = assertThrows(DistillException.class, () -> t.fitText(data, options, p -> {
        throw thrown;
      }));
      assertEquals(DistillException.CANCELLED, failed.status());
      assertSame(thrown, failed.getCause());
      assertEquals(3, t.stepCount());  // the step before the listener ran was kept

      // The final report cannot stop a finished fit; what it throws is dropped, and does not
      // become the cause of the next failure on this thread.
      TextFitSummary finished = t.fitText(data, fitOptions(4), p -> {
        if (p.getEvaluated() && p.getStep() == 4) throw thrown;
        return true;
      });
      assertEquals(4, finished.getGlobalStep());
      DistillException next = refused(() -> t.fitText(data, fitOptions(4)), "above the trainer's 4");
      assertNull(next.getCause());
    }
  }

  @Test
  void evaluationMatchesTheLogitsAndAnIdenticalTeacherAgreesEverywhere() {
    try (Context cpu = new Context(1); TextDataset data = new TextDataset(dataset);
         Model model = new Model(config(), 2)) {
      LmEvalOptions options = new LmEvalOptions();
      assertEquals(Split.VALIDATION, options.getSplit());
      options.setMaxWindows(3);
      options.setBatchWindows(2);
      LmEvalMetrics m = Lm.evaluate(cpu, model, data, options);
      assertEquals(3, m.getWindows());
      assertEquals(3 * CONTEXT, m.getPositions());
      assertTrue(Double.isNaN(m.getAgreement()));
      assertTrue(Double.isNaN(m.getMeanKl()));

      // The same figures from the logits, in double.
      int[] tokens = new int[3 * CONTEXT], targets = new int[3 * CONTEXT];
      data.batch(Split.VALIDATION, new long[] {0, 1, 2}, tokens, targets);
      float[] logits = model.lmLogits(cpu, tokens, 3);
      double nll = 0;
      int correct = 0;
      for (int n = 0; n < 3 * CONTEXT; ++n) {
        int best = 0;
        double top = logits[n * VOCAB], total = 0;
        for (int v = 0; v < VOCAB; ++v)
          if (logits[n * VOCAB + v] > top) {
            top = logits[n * VOCAB + v];
            best = v;
          }
        for (int v = 0; v < VOCAB; ++v) total += Math.exp(logits[n * VOCAB + v] - top);
        nll += top + Math.log(total) - logits[n * VOCAB + targets[n]];
        if (best == targets[n]) ++correct;
      }
      assertEquals(nll / (3 * CONTEXT), m.getLoss(), 1e-9 * m.getLoss());
      assertEquals((double) correct / (3 * CONTEXT), m.getAccuracy(), 1e-12);

      // A saved and loaded copy as the teacher: agreement 1, KL 0.
      String file = TempFiles.path("lm-twin.safetensors");
      model.save(file);
      try (Model twin = Model.load(file); Model stranger = new Model(config(), 77);
           Model wide = new Model(config(VOCAB + 8, CONTEXT, 32), 1)) {
        options.setTeacher(twin);
        assertNotNull(options.getTeacher());
        LmEvalMetrics t = Lm.evaluate(cpu, model, data, options);
        assertEquals(1.0, t.getAgreement());
        assertEquals(0.0, t.getMeanKl(), 1e-9);
        assertEquals(m.getLoss(), t.getLoss());
        // The options keep the teacher: closing the Java Model does not take it from them.
        try (Model copy = Model.load(file)) {
          options.setTeacher(copy);
        }
        assertEquals(1.0, Lm.evaluate(cpu, model, data, options).getAgreement());
        options.setTeacher(stranger);
        LmEvalMetrics s = Lm.evaluate(cpu, model, data, options);
        assertTrue(s.getAgreement() < 1.0);
        assertTrue(s.getMeanKl() > 0.0);
        options.setTeacher(wide);  // another vocabulary
        refused(() -> Lm.evaluate(cpu, model, data, options), "308");
        options.setTeacher(model);
        refused(() -> Lm.evaluate(cpu, model, data, options), "the student itself");

        TextFitOptions fit = fitOptions(1);
        fit.setTeacher(wide);
        try (Trainer trainer = trainer(cpu, model, 1e-2)) {
          refused(() -> trainer.fitText(data, fit), "308");
          assertEquals(0, trainer.stepCount());
        }
        Model closed = new Model(config(), 3);
        closed.close();
        refused(() -> options.setTeacher(closed), "teacher: used after close()");
        options.setTeacher(null);
        assertNull(options.getTeacher());
      }
      try (Model small = new Model(config(VOCAB - 50, CONTEXT, 32), 1)) {
        refused(() -> Lm.evaluate(cpu, small, data, null), "250");
      }
    }
  }

  /**
   * Answers as an HTTP teacher leaves them in a store: a prompt request, the completion's
   * positions (the student's tokens; the server's id on every other position, as llama.cpp gives
   * them, none on the rest, as OpenAI) with two alternatives each, the second of them mapped by id
   * on even positions and by text on odd ones.
   */
  static void putAnswers(String path, List<String> prompts, List<String> completions, String teacherJson) {
    try (Store store = new Store(path)) {
      for (int i = 0; i < prompts.size(); ++i) {
        try (TeacherRecord record = new TeacherRecord()) {
          record.setString(RecordString.KEY, String.format("%016x%048x", i + 1, 0));
          record.setString(RecordString.TEXT, completions.get(i));
          record.setString(RecordString.MODEL, "teacher-model");
          record.setString(RecordString.TEACHER_JSON, teacherJson);
          record.setString(RecordString.PARAMETERS_JSON, "{}");
          record.setString(RecordString.REQUEST_JSON, "{\"prompt\": \"" + prompts.get(i) + "\"}");
          int[] ids = tokenizer.encode(completions.get(i));
          for (int p = 0; p < ids.length; ++p) {
            String token = tokenizer.decode(new int[] {ids[p]});
            int other = (ids[p] + 1) % VOCAB;
            boolean withId = p % 2 == 0;
            record.appendPosition(token, withId ? ids[p] : -1, -0.25f,
                new int[] {withId ? ids[p] : -1, withId ? other : -1},
                List.of(token, tokenizer.decode(new int[] {other})), new float[] {-0.25f, -1.75f});
          }
          store.put(record);
        }
      }
    }
  }

  @Test
  void distillingFromStoredAnswersLowersTheirLoss() {
    String storePath = TempFiles.path("lm-answers.sqlite");
    List<String> prompts = List.of("Q: a cat?", "Q: the news", "Q: magic words");
    List<String> completions = List.of(" A cat is fine.", " Nothing new.", " Please.");
    putAnswers(storePath, prompts, completions, "{\"name\":\"teacher-a\"}");
    int completionTokens = 0;
    for (String c : completions) completionTokens += tokenizer.encode(c).length;
    try (Context cpu = new Context(1); Store store = new Store(storePath, true);
         Model model = new Model(config(VOCAB, 64, 32), 6); Trainer t = trainer(cpu, model, 1e-2)) {
      StoredRowsInfo rows = new StoredRowsInfo();
      LmEvalMetrics before = Lm.evaluateStored(cpu, model, store, tokenizer, null, null, rows);
      assertEquals(3, rows.getRows());
      assertEquals(2, rows.getTopk());
      assertEquals(0, rows.getTooLong());
      assertEquals(0, rows.getUnmapped());
      assertTrue(rows.getById() > 0 && rows.getByBytes() > 0, rows.getById() + " / " + rows.getByBytes());
      assertEquals(rows.getAlternatives(), rows.getById() + rows.getByBytes());
      assertEquals(completionTokens, before.getPositions());
      assertTrue(Double.isNaN(before.getMeanKl()));

      TextFitOptions options = new TextFitOptions();
      options.setSteps(60);
      options.setBatchWindows(3);
      List<Long> seen = new ArrayList<>();
      // After every step; then once more at the end, marked evaluated though there is no
      // validation split (its figures zeros).
      StoredFitSummary fit = t.fitStored(store, tokenizer, null, options,
                                         p -> p.getEvaluated() || seen.add(p.getStep()));
      assertEquals(60, fit.getFit().getGlobalStep());
      assertEquals(60, seen.size());
      assertFalse(fit.getFit().getValidated());
      assertEquals(3, fit.getRows().getRows());
      assertEquals(rows.getAlternatives(), fit.getRows().getAlternatives());
      LmEvalMetrics after = Lm.evaluateStored(cpu, model, store, tokenizer);
      assertTrue(after.getLoss() < before.getLoss() - 1.0, before.getLoss() + " -> " + after.getLoss());
      assertTrue(after.getAgreement() > 0.9, "agreement " + after.getAgreement());
      assertEquals(after.getLoss(),
          Lm.evaluateStored(cpu, model, store, tokenizer, "{\"name\": \"teacher-a\"}", null, null).getLoss());

      refused(() -> Lm.evaluateStored(cpu, model, store, tokenizer, "{\"name\": \"nobody\"}", null, null),
              "no answer");
      options.setSteps(61);
      options.setTeacher(model);
      refused(() -> t.fitStored(store, tokenizer, null, options, null), "options.teacher");
      options.setTeacher(null);
      try (Model tiny = new Model(config(VOCAB, 3, 32), 1); Trainer tinyTrainer = trainer(cpu, tiny, 1e-2)) {
        refused(() -> tinyTrainer.fitStored(store, tokenizer, null, options, null),
                "3 longer than the context of 3");
      }
      assertEquals(60, t.stepCount());
    }

    // A teacher of another vocabulary: its ids are not the student's.
    String otherPath = TempFiles.path("lm-other-vocabulary.sqlite");
    try (Store store = new Store(otherPath); TeacherRecord record = new TeacherRecord()) {
      record.setString(RecordString.KEY, String.format("%064x", 7));
      record.setString(RecordString.TEXT, " Yes.");
      record.setString(RecordString.MODEL, "big-teacher");
      record.setString(RecordString.TEACHER_JSON, "{\"name\":\"big\"}");
      record.setString(RecordString.REQUEST_JSON, "{\"prompt\": \"Q: more\"}");
      for (int id : tokenizer.encode(" Yes."))
        record.appendPosition(tokenizer.decode(new int[] {id}), 5000 + id, -0.1f,
                              new int[] {5000 + id, 6000 + id}, new float[] {-0.1f, -2.5f});
      store.put(record);
    }
    try (Context cpu = new Context(1); Store store = new Store(otherPath, true);
         Model model = new Model(config(VOCAB, 64, 32), 6); Trainer t = trainer(cpu, model, 1e-2)) {
      TextFitOptions options = new TextFitOptions();
      options.setSteps(1);
      refused(() -> t.fitStored(store, tokenizer, null, options, null),
              "is outside the student's vocabulary of 300 ids");
      refused(() -> Lm.evaluateStored(cpu, model, store, tokenizer), "'big-teacher'");
    }
  }
}
