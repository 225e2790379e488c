package ai.distill.tests;

import static org.junit.jupiter.api.Assertions.*;

import ai.distill.*;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Datasets, a Java teacher asked about them, training with progress, evaluation, save/load/resume. */
class TrainingTest {
  static final int FEATURES = 4, CLASSES = 3, ROWS = 240;
  static final String STUDENT = "{\"kind\": \"mlp\", \"inputs\": 4, \"hidden\": [16], \"outputs\": 3}";

  // The teacher: a fixed linear map, written in Java.
  static float[] teacherLogits(float[] x) {
    return new float[] {2 * x[0] - x[1], x[1] + x[2], x[3] - x[0]};
  }

  static Dataset synthetic(long seed) {
    Random random = new Random(seed);
    float[] inputs = new float[ROWS * FEATURES];
    long[] labels = new long[ROWS];
    for (int r = 0; r < ROWS; ++r) {
      float[] x = new float[FEATURES];
      for (int f = 0; f < FEATURES; ++f) x[f] = inputs[r * FEATURES + f] = (float) random.nextGaussian();
      float[] z = teacherLogits(x);
      labels[r] = z[0] >= z[1] && z[0] >= z[2] ? 0 : z[1] >= z[2] ? 1 : 2;
    }
    return Dataset.create(inputs, ROWS, labels);
  }

  static Teacher javaTeacher() {
    return Teacher.fromCallback("linear", (request, record) ->
        record.answerClassification(teacherLogits(Teacher.requestFeatures(request)), 0, 1.0f));
  }

  @Test
  void askTrainEvaluateSaveLoadResume() {
    String storePath = TempFiles.path("train.db");
    try (Context cpu = new Context(1); Dataset train = synthetic(1); Dataset test = synthetic(2);
         Teacher teacher = javaTeacher(); Store store = new Store(storePath)) {
      assertEquals(ROWS, train.rows());
      assertEquals(FEATURES, train.features());
      assertTrue(train.has(DatasetField.LABELS));
      assertFalse(train.has(DatasetField.TEACHER_TOPK_IDS));
      List<Progress> asking = new ArrayList<>();
      AskSummary first = train.askTeacher(teacher, store, 64, p -> asking.add(p));
      assertEquals(ROWS, first.getAsked());
      assertFalse(asking.isEmpty());
      assertEquals(ProgressEvent.ASK, asking.get(0).getEvent());
      assertEquals(ROWS * CLASSES, train.floats(DatasetField.TEACHER_TOPK_LOGPROBS).length);
      assertEquals(0, train.askTeacher(teacher, store).getAsked());
      try (Dataset offline = synthetic(1)) {  // the same examples, read without the teacher
        offline.readTeacher(store);
        assertArrayEquals(train.floats(DatasetField.TEACHER_TOPK_LOGPROBS),
                          offline.floats(DatasetField.TEACHER_TOPK_LOGPROBS));
        DistillException e = assertThrows(DistillException.class,
                                          () -> offline.readTeacher(store, "{\"kind\": \"nobody\"}"));
        assertTrue(e.getMessage().contains("teacher"), e.getMessage());
      }
      test.askTeacher(teacher, null);

      Model student = new Model(STUDENT, 7);
      LossOptions loss = new LossOptions();
      loss.setTemperature(2.0f);
      loss.setSoftWeight(0.7f);
      loss.setHardWeight(0.3f);
      TrainerOptions options = new TrainerOptions();
      options.setOptimizerJson("{\"kind\": \"adamw\", \"lr\": 0.01}");
      options.setSeed(3);
      FitOptions fit = new FitOptions();
      fit.setEpochs(8);
      fit.setBatchSize(32);
      String checkpoint = TempFiles.path("checkpoint");
      fit.setCheckpointDir(checkpoint);
      List<ProgressEvent> events = new ArrayList<>();
      FitSummary summary;
      try (Trainer trainer = new Trainer(cpu, student, options, loss)) {
        summary = trainer.fit(train, test, fit, p -> events.add(p.getEvent()));
        assertEquals(8, summary.getEpochsRun());
        assertEquals(8, trainer.epoch());
        assertTrue(events.contains(ProgressEvent.EPOCH_END));
      }
      EvalMetrics metrics = student.evaluate(cpu, test);
      assertEquals(ROWS, metrics.getExamples());
      assertTrue(metrics.getAgreement() > 0.8, "agreement " + metrics.getAgreement());
      assertTrue(metrics.getAccuracy() > 0.8, "accuracy " + metrics.getAccuracy());

      String path = TempFiles.path("student.safetensors");
      student.save(path);
      float[] inputs = test.floats(DatasetField.INPUTS);
      float[] expected = student.predict(cpu, inputs, ROWS, Output.PROBABILITIES);
      try (Model loaded = Model.load(path)) {
        assertEquals(student.configJson(), loaded.configJson());
        assertArrayEquals(expected, loaded.predict(cpu, inputs, ROWS, Output.PROBABILITIES));
        assertEquals("layers.0.weight", loaded.parameterName(0));
        assertArrayEquals(new long[] {16, 4}, loaded.parameterShape(0));
        assertArrayEquals(student.parameter(0), loaded.parameter(0));
      }

      // Resume from the checkpoint and go on for 2 epochs more.
      try (Model again = new Model(STUDENT, 99); Trainer resumed = new Trainer(cpu, again, options, loss)) {
        resumed.resume(checkpoint);
        assertEquals(8, resumed.epoch());
        fit.setEpochs(2);
        fit.setCheckpointDir("");
        assertEquals(2, resumed.fit(train, null, fit).getEpochsRun());
        assertEquals(10, resumed.epoch());
      }
      student.close();
    }
  }

  @Test
  void aListenerStopsOrThrows() {
    try (Context cpu = new Context(1); Dataset train = synthetic(4); Model student = new Model(STUDENT, 1);
         Trainer trainer = new Trainer(cpu, student, null, null)) {
      train.askTeacher(javaTeacher(), null);
      FitOptions fit = new FitOptions();
      fit.setEpochs(3);
      DistillException stopped = assertThrows(DistillException.class,
          () -> trainer.fit(train, null, fit, p -> false));
      assertEquals(DistillException.CANCELLED, stopped.status());
      assertNull(stopped.getCause());
      ArithmeticException thrown = new ArithmeticException("listener failed");
      DistillException failed = assertThrows(DistillException.class,
          () -> trainer.fit(train, null, fit, p -> { throw thrown; }));
      assertSame(thrown, failed.getCause());
      // A teacher that throws while a dataset is asked: the same, and no targets are set.
      try (Dataset fresh = synthetic(6);
           Teacher broken = Teacher.fromCallback("broken", (request, record) -> { throw thrown; })) {
        DistillException asked = assertThrows(DistillException.class, () -> fresh.askTeacher(broken, null));
        assertSame(thrown, asked.getCause());
        assertFalse(fresh.has(DatasetField.TEACHER_TOPK_IDS));
      }
    }
  }

  @Test
  void datasetErrorsAndSlices() {
    DistillException e = assertThrows(DistillException.class,
        () -> Dataset.create(new float[] {1, 2, 3}, 2, null));
    assertTrue(e.getMessage().contains("inputs"), e.getMessage());
    e = assertThrows(DistillException.class,
        () -> Dataset.fashionMnist("validation", "", 10));
    assertTrue(e.getMessage().contains("validation"), e.getMessage());
    e = assertThrows(DistillException.class, () -> new Model("{\"kind\": \"rnn\"}", 0));
    assertTrue(e.getMessage().contains("rnn"), e.getMessage());
    try (Dataset data = synthetic(5); Dataset part = data.slice(10, 20)) {
      assertEquals(20, part.rows());
      assertEquals(data.integers(DatasetField.LABELS)[10], part.integers(DatasetField.LABELS)[0]);
      assertThrows(DistillException.class, () -> data.slice(230, 20));
      // Teacher targets set from arrays: dense logits, then top-k (which replaces them).
      float[] logits = new float[ROWS * CLASSES];
      data.setTeacherLogits(logits);
      assertTrue(data.has(DatasetField.TEACHER_LOGITS));
      int[] ids = new int[ROWS];
      data.setTeacherTopk(ids, new float[ROWS]);
      assertFalse(data.has(DatasetField.TEACHER_LOGITS));
      assertEquals(ROWS, data.integers(DatasetField.TEACHER_TOPK_IDS).length);
      e = assertThrows(DistillException.class, () -> data.setTeacherTopk(ids, new float[ROWS + 1]));
      assertTrue(e.getMessage().contains("logprobs"), e.getMessage());
    }
    // Parameters: copies out, and written back.
    try (Model model = new Model(STUDENT, 1)) {
      float[] bias = model.parameter(1);
      java.util.Arrays.fill(bias, 0.5f);
      model.setParameter(1, bias);
      assertArrayEquals(bias, model.parameter(1));
      assertEquals(4 * 16 + 16 + 16 * 3 + 3, model.parameterCount());
    }
  }

  @Test
  void stepAgainstTopK() {
    try (Context cpu = new Context(1); Model model = new Model(STUDENT, 2);
         Trainer trainer = new Trainer(cpu, model, null, null)) {
      float[] inputs = {1, 0, 0, 0, 0, 1, 0, 0};
      StepMetrics metrics = trainer.stepTopk(inputs, 2, new long[] {0, 1}, new int[] {0, 1}, new float[] {-0.1f, -0.2f});
      assertEquals(1, metrics.getStep());
      assertTrue(metrics.getAccuracy() >= 0.0f);
    }
  }

  @Test
  void fashionMnistWhenInstalled() {
    if (!new File("/usr/share/datasets/fashion-mnist").isDirectory() && System.getenv("DISTILL_FASHION_MNIST_DIR") == null)
      return;  // dataset-fashion-mnist is not installed here
    try (Dataset test = Dataset.fashionMnist("test", "", 100)) {
      assertEquals(100, test.rows());
      assertEquals(784, test.features());
    }
  }
}
