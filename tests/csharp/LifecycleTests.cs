// LifecycleTests.cs — Dispose twice, use after Dispose, parents kept alive
// by children, and undisposed objects left to the garbage collector.
using System;
using Distill;

static class LifecycleTests {
  public const string Mlp = "{\"kind\": \"mlp\", \"inputs\": 4, \"hidden\": [8], \"outputs\": 3}";

  public static void TestDisposeTwiceAndUseAfterDispose() {
    var model = new Model(Mlp, 1);
    model.Dispose();
    model.Dispose();
    var e = Check.Throws<DistillException>(() => { var inputs = model.Inputs; }, "use after Dispose");
    Check.Equal(Status.InvalidArgument, e.Status, "status");
    Check.Equal("Model: used after Dispose()", e.Message, "message");

    var cpu = new Context();
    cpu.Dispose();
    using (var open = new Model(Mlp, 1)) {
      e = Check.Throws<DistillException>(() => open.Predict(cpu, new float[4], 1, Output.Raw, new float[3]), "disposed context");
      Check.True(e.Message.Contains("context"), "message: " + e.Message);
    }
    var store = new Store(TempFiles.Path("lifecycle.db"));
    store.Dispose();
    using (var data = Dataset.Create(new float[4], 1, null))
    using (var teacher = Teacher.FromCallback("t", (request, record) => {})) {
      e = Check.Throws<DistillException>(() => data.AskTeacher(teacher, store), "a disposed store");
      Check.True(e.Message.Contains("store"), "message: " + e.Message);
    }
  }

  public static void TestATrainerKeepsItsModelAndContext() {
    var cpu = new Context(1);
    var model = new Model(Mlp, 3);
    using (var trainer = new Trainer(cpu, model, null, null)) {
      model.Dispose();
      cpu.Dispose();
      var metrics = trainer.Step(new float[] { 1, 2, 3, 4, 4, 3, 2, 1 }, 2, null, new float[] { 1, 0, -1, -1, 0, 1 });
      Check.Equal(1L, metrics.Step, "step");
      Check.True(!float.IsNaN(metrics.Loss), "a finite loss");
    }
  }

  static long ResidentKilobytes() {
    foreach (var line in System.IO.File.ReadAllLines("/proc/self/status"))
      if (line.StartsWith("VmRSS:")) return long.Parse(line.Substring(6).Trim().Split(' ')[0]);
    throw new Exception("no VmRSS in /proc/self/status");
  }

  public static void TestUndisposedModelsReleaseTheirNativeMemory() {
    // 300 models of 4 MB each, never disposed: 1.2 GB if the native side leaked.
    const string wide = "{\"kind\": \"mlp\", \"inputs\": 1000, \"hidden\": [1000], \"outputs\": 10}";
    long before = ResidentKilobytes();
    for (int i = 0; i < 300; ++i) {
      new Model(wide, i);
      if (i % 20 == 19) {
        GC.Collect();
        GC.WaitForPendingFinalizers();
      }
    }
    GC.Collect();
    GC.WaitForPendingFinalizers();
    long grown = ResidentKilobytes() - before;
    Check.True(grown < 400000, "resident memory grew by " + grown + " kB");
  }

  public static void TestUndisposedObjectsAreCollected() {
    long before = 0;
    for (int round = 0; round < 6; ++round) {
      for (int i = 0; i < 400; ++i) {
        var cpu = new Context(1);
        var model = new Model(Mlp, i);
        var trainer = new Trainer(cpu, model, null, null);
        var record = new TeacherRecord();
        record.SetString(RecordString.Text, "undisposed");
        var teacher = Teacher.FromCallback("gc", (request, answer) => answer.SetString(RecordString.Text, "x"));
        teacher.Query("{\"prompt\": \"" + i + "\"}");
        Check.Equal(0L, trainer.Epoch, "epoch");
      }
      GC.Collect();
      GC.WaitForPendingFinalizers();
      if (round == 1) before = GC.GetTotalMemory(true);
    }
    long after = GC.GetTotalMemory(true);
    Check.True(after < before + (256L << 20), "managed heap from " + before + " to " + after);
  }
}
