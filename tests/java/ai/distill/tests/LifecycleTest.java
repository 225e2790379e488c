package ai.distill.tests;

import static org.junit.jupiter.api.Assertions.*;

import ai.distill.*;
import org.junit.jupiter.api.Test;

/** close() twice, use after close, parents kept alive by children, and unclosed objects left to the GC. */
class LifecycleTest {
  static final String MLP = "{\"kind\": \"mlp\", \"inputs\": 4, \"hidden\": [8], \"outputs\": 3}";

  @Test
  void closeTwiceIsHarmlessAndUseAfterCloseThrows() {
    Model model = new Model(MLP, 1);
    model.close();
    model.close();
    DistillException e = assertThrows(DistillException.class, model::inputs);
    assertEquals(DistillException.INVALID_ARGUMENT, e.status());
    assertEquals("Model: used after close()", e.getMessage());

    Context cpu = new Context();
    cpu.close();
    try (Model open = new Model(MLP, 1)) {
      e = assertThrows(DistillException.class,
          () -> open.predict(cpu, new float[4], 1, Output.RAW, new float[3]));
      assertTrue(e.getMessage().contains("context"), e.getMessage());
    }
    Store store;
    try (Store s = new Store(TempFiles.path("lifecycle.db"))) {
      store = s;
    }
    assertThrows(DistillException.class, store::stats);
    // A closed store is refused, never taken for "no store".
    try (Dataset data = Dataset.create(new float[4], 1, null);
         Teacher teacher = Teacher.fromCallback("t", (request, record) -> {})) {
      e = assertThrows(DistillException.class, () -> data.askTeacher(teacher, store));
      assertTrue(e.getMessage().contains("store"), e.getMessage());
    }
  }

  @Test
  void aTrainerKeepsItsModelAndContext() {
    Context cpu = new Context(1);
    Model model = new Model(MLP, 3);
    try (Trainer trainer = new Trainer(cpu, model, null, null)) {
      model.close();
      cpu.close();
      float[] inputs = {1, 2, 3, 4, 4, 3, 2, 1};
      float[] teacher = {1, 0, -1, -1, 0, 1};
      StepMetrics metrics = trainer.step(inputs, 2, null, teacher);
      assertEquals(1, metrics.getStep());
      assertTrue(Float.isFinite(metrics.getLoss()));
      assertEquals(1, trainer.stepCount());
    }
  }

  @Test
  void aModelTeacherKeepsItsModel() {
    try (Context cpu = new Context(1)) {
      Model model = new Model(MLP, 5);
      Teacher teacher = model.asTeacher(cpu, "m", 2, 1.0f);
      model.close();
      try (Dataset data = Dataset.create(new float[] {1, 2, 3, 4, 0, 0, 0, 1}, 2, null)) {
        AskSummary asked = data.askTeacher(teacher, null);
        assertEquals(2, asked.getAsked());
        assertEquals(4, data.integers(DatasetField.TEACHER_TOPK_IDS).length);
      }
      teacher.close();
    }
  }

  static long residentKilobytes() throws java.io.IOException {
    for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")))
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }

  @Test
  void unclosedModelsReleaseTheirNativeMemory() throws Exception {
    // 300 models of 4 MB each, never closed: 1.2 GB if the native side leaked.
    String wide = "{\"kind\": \"mlp\", \"inputs\": 1000, \"hidden\": [1000], \"outputs\": 10}";
    long before = residentKilobytes();
    for (int i = 0; i < 300; ++i) {
      new Model(wide, i);
      if (i % 20 == 19) System.gc();
    }
    System.gc();
    Thread.sleep(100);  // the Cleaner thread frees what the GC found
    long grown = residentKilobytes() - before;
    assertTrue(grown < 400_000, "resident memory grew by " + grown + " kB");
  }

  @Test
  void unclosedObjectsAreCollected() {
    // Thousands of native objects never closed: the GC releases them
    // (through the Cleaner thread) without a crash or a leak that
    // would exhaust memory.
    Runtime runtime = Runtime.getRuntime();
    long before = 0;
    for (int round = 0; round < 6; ++round) {
      for (int i = 0; i < 400; ++i) {
        Context cpu = new Context(1);
        Model model = new Model(MLP, i);
        Trainer trainer = new Trainer(cpu, model, null, null);
        TeacherRecord record = new TeacherRecord();
        record.setString(RecordString.TEXT, "unclosed");
        Teacher teacher = Teacher.fromCallback("gc", (request, answer) -> answer.setString(RecordString.TEXT, "x"));
        teacher.query("{\"prompt\": \"" + i + "\"}");
        assertEquals(1, trainer.epoch() + 1);
      }
      System.gc();
      System.runFinalization();
      if (round == 1) before = runtime.totalMemory() - runtime.freeMemory();
    }
    long after = runtime.totalMemory() - runtime.freeMemory();
    assertTrue(after < before + (256L << 20), "Java heap grew from " + before + " to " + after);
  }
}
