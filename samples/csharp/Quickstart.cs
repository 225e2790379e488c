// Quickstart.cs — distill a small student from a teacher written in C#,
// save it, load it back and predict; and the loss on its own on an array.
//
//   mono build/release/bindings/swig/csharp/Quickstart.exe [work directory]
//
// Distill.dll, libdistill_csharp.so and Quickstart.exe sit side by side;
// libdistill_csharp.so finds libdistill.so.0 through its RPATH.
using System;
using System.IO;
using Distill;

static class Quickstart {
  // The teacher: any C# code that maps features to class logits. Here a
  // fixed rule over 8 features and 4 classes, standing in for a big model.
  static float[] TeacherLogits(float[] x) {
    var logits = new float[4];
    for (int c = 0; c < 4; ++c) logits[c] = 3 * (x[2 * c] + x[2 * c + 1]);
    return logits;
  }

  static int Main(string[] args) {
    string work = args.Length > 0 ? args[0] : "distill-csharp-quickstart";
    Directory.CreateDirectory(work);
    try {
      using (var cpu = new Context()) {
        // 1. The loss on its own, on C# arrays [N = 2, V = 4] (README: ≈ 0.2633).
        var student = new float[] { 2.0f, 1.0f, 0.1f, -1.0f, 0.5f, 0.2f, 3.0f, 0.0f };
        var teacher = new float[] { 3.0f, 0.5f, 0.0f, -2.0f, 0.0f, 0.0f, 4.0f, 1.0f };
        var options = new LossOptions { Temperature = 2.0f, SoftWeight = 0.5f, HardWeight = 0.5f };
        var grad = new float[8];  // written in place (the array is pinned, not copied)
        float loss = Loss.KdLoss(cpu, options, student, teacher, new long[] { 0, 2 }, 2, grad);
        Console.WriteLine("loss = {0:F6}", loss);

        // 2. Data: 2,000 examples of 8 features.
        const int rows = 2000, features = 8;
        var random = new Random(0);
        var inputs = new float[rows * features];
        for (int i = 0; i < inputs.Length; ++i) inputs[i] = (float)(2 * random.NextDouble() - 1);

        using (var train = Dataset.Create(inputs, rows, null))
        using (var csharpTeacher = Teacher.FromCallback("rule-teacher", (request, record) =>
                   record.AnswerClassification(TeacherLogits(Teacher.RequestFeatures(request)), 0, 1.0f)))
        using (var answers = new Store(Path.Combine(work, "answers.db"))) {
          // 3. Ask the teacher once per example; answers are kept in the store.
          var asked = train.AskTeacher(csharpTeacher, answers);
          Console.WriteLine("teacher asked {0}, from the store {1}", asked.Asked, asked.FromStore);

          // 4. Distill a small MLP from the teacher's answers.
          using (var fitSet = train.Slice(0, 1600))
          using (var validation = train.Slice(1600, 400))
          using (var model = new Model("{\"kind\": \"mlp\", \"inputs\": 8, \"hidden\": [32], \"outputs\": 4}", 1)) {
            var trainerOptions = new TrainerOptions { OptimizerJson = "{\"kind\": \"adamw\", \"lr\": 0.01}" };
            using (var trainer = new Trainer(cpu, model, trainerOptions, new LossOptions { Temperature = 2.0f })) {
              var summary = trainer.Fit(fitSet, validation, new FitOptions { Epochs = 10, BatchSize = 64 }, new EpochPrinter());
              Console.WriteLine("trained {0} epochs in {1:F1} s", summary.EpochsRun, summary.Seconds);
            }
            var metrics = model.Evaluate(cpu, validation);
            Console.WriteLine("agreement with the teacher: {0:F3}", metrics.Agreement);

            // 5. Save, load back, predict.
            string saved = Path.Combine(work, "student.safetensors");
            model.Save(saved);
            using (var loaded = Model.Load(saved)) {
              var x = new float[] { 1, 1, 0, 0, 0, 0, 0, 0 };  // the teacher says class 0
              var p = loaded.Predict(cpu, x, 1, Output.Probabilities);
              Console.WriteLine("student's probabilities: [{0:F3}, {1:F3}, {2:F3}, {3:F3}]", p[0], p[1], p[2], p[3]);
              if (Math.Abs(loss - 0.2633f) > 1e-3f || metrics.Agreement < 0.8 || p[0] < 0.5f) {
                Console.Error.WriteLine("quickstart: unexpected results");
                return 1;
              }
            }
          }
        }
      }
    } catch (DistillException e) {
      Console.Error.WriteLine("distill: {0} (status {1})", e.Message, e.Status);
      return 1;
    }
    return 0;
  }

  class EpochPrinter : IProgressListener {
    public bool OnProgress(Progress progress) {
      if (progress.Event == ProgressEvent.EpochEnd)
        Console.WriteLine("epoch {0}: loss {1:F4}, agreement {2:F3}", progress.Epoch, progress.Loss, progress.ValAgreement);
      return true;  // false would stop the training
    }
  }
}
