// TrainingTests.cs — a C# teacher asked about a dataset, training with
// progress, evaluation, save/load, resume.
using System;
using System.Collections.Generic;
using Distill;

static class TrainingTests {
  const int Features = 4, Classes = 3, Rows = 240;
  const string StudentConfig = "{\"kind\": \"mlp\", \"inputs\": 4, \"hidden\": [16], \"outputs\": 3}";

  static float[] TeacherLogits(float[] x) {
    return new float[] { 2 * x[0] - x[1], x[1] + x[2], x[3] - x[0] };
  }

  static Dataset Synthetic(int seed) {
    var random = new Random(seed);
    var inputs = new float[Rows * Features];
    var labels = new long[Rows];
    for (int r = 0; r < Rows; ++r) {
      var x = new float[Features];
      for (int f = 0; f < Features; ++f) {
        // Box–Muller: standard normal features.
        double u = 1.0 - random.NextDouble(), v = random.NextDouble();
        x[f] = inputs[r * Features + f] = (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
      }
      var z = TeacherLogits(x);
      labels[r] = z[0] >= z[1] && z[0] >= z[2] ? 0 : z[1] >= z[2] ? 1 : 2;
    }
    return Dataset.Create(inputs, Rows, labels);
  }

  class LinearTeacher : ITeacherCallback {
    public void Answer(string requestJson, TeacherRecord record) {
      record.AnswerClassification(TeacherLogits(Teacher.RequestFeatures(requestJson)), 0, 1.0f);
    }
  }

  class Recorder : IProgressListener {
    public readonly List<ProgressEvent> Events = new List<ProgressEvent>();
    public bool Stop;
    public bool OnProgress(Progress progress) {
      Events.Add(progress.Event);
      return !Stop;
    }
  }

  public static void TestAskTrainEvaluateSaveLoadResume() {
    using (var cpu = new Context(1))
    using (var train = Synthetic(1))
    using (var test = Synthetic(2))
    using (var teacher = Teacher.FromCallback("linear", new LinearTeacher()))
    using (var store = new Store(TempFiles.Path("train.db"))) {
      var asking = new Recorder();
      Check.Equal((long)Rows, train.AskTeacher(teacher, store, 64, asking).Asked, "asked");
      Check.True(asking.Events.Count > 0 && asking.Events[0] == ProgressEvent.Ask, "ask progress");
      Check.Equal(0L, train.AskTeacher(teacher, store).Asked, "asked again");
      using (var offline = Synthetic(1)) {  // the same examples, read without the teacher
        offline.ReadTeacher(store);
        Check.True(System.Linq.Enumerable.SequenceEqual(train.Floats(DatasetField.TeacherTopkLogprobs),
                                                        offline.Floats(DatasetField.TeacherTopkLogprobs)),
                   "targets read offline");
        var e = Check.Throws<DistillException>(() => offline.ReadTeacher(store, "{\"kind\": \"nobody\"}"), "unknown teacher");
        Check.True(e.Message.Contains("teacher"), "message: " + e.Message);
      }
      Check.Equal(Rows * Classes, train.Floats(DatasetField.TeacherTopkLogprobs).Length, "targets");
      test.AskTeacher(teacher, null);

      var student = new Model(StudentConfig, 7);
      var loss = new LossOptions { Temperature = 2.0f, SoftWeight = 0.7f, HardWeight = 0.3f };
      var options = new TrainerOptions { OptimizerJson = "{\"kind\": \"adamw\", \"lr\": 0.01}", Seed = 3 };
      var fit = new FitOptions { Epochs = 8, BatchSize = 32, CheckpointDir = TempFiles.Path("checkpoint") };
      var training = new Recorder();
      using (var trainer = new Trainer(cpu, student, options, loss)) {
        var summary = trainer.Fit(train, test, fit, training);
        Check.Equal(8, summary.EpochsRun, "epochs run");
        Check.True(training.Events.Contains(ProgressEvent.EpochEnd), "epoch-end progress");
      }
      var metrics = student.Evaluate(cpu, test);
      Check.True(metrics.Agreement > 0.8, "agreement " + metrics.Agreement);
      Check.True(metrics.Accuracy > 0.8, "accuracy " + metrics.Accuracy);

      string path = TempFiles.Path("student.safetensors");
      student.Save(path);
      var inputs = test.Floats(DatasetField.Inputs);
      var expected = student.Predict(cpu, inputs, Rows, Output.Probabilities);
      using (var loaded = Model.Load(path)) {
        var actual = loaded.Predict(cpu, inputs, Rows, Output.Probabilities);
        for (int i = 0; i < expected.Length; ++i) Check.Equal(expected[i], actual[i], "probability " + i);
        Check.Equal("layers.0.weight", loaded.ParameterName(0), "parameter name");
        Check.Equal(16L, loaded.ParameterShape(0)[0], "parameter rows");
      }

      using (var again = new Model(StudentConfig, 99))
      using (var resumed = new Trainer(cpu, again, options, loss)) {
        resumed.Resume(fit.CheckpointDir);
        Check.Equal(8L, resumed.Epoch, "resumed epoch");
        fit.Epochs = 2;
        fit.CheckpointDir = "";
        Check.Equal(2, resumed.Fit(train, null, fit).EpochsRun, "epochs after resuming");
        Check.Equal(10L, resumed.Epoch, "final epoch");
      }
      student.Dispose();
    }
  }

  class Thrower : IProgressListener {
    public readonly InvalidOperationException Thrown = new InvalidOperationException("listener failed");
    public bool OnProgress(Progress progress) {
      throw Thrown;
    }
  }

  public static void TestAListenerStopsOrThrows() {
    using (var cpu = new Context(1))
    using (var train = Synthetic(4))
    using (var student = new Model(StudentConfig, 1))
    using (var trainer = new Trainer(cpu, student, null, null)) {
      train.AskTeacher(Teacher.FromCallback("linear", new LinearTeacher()), null);
      var fit = new FitOptions { Epochs = 3 };
      var stopped = Check.Throws<DistillException>(() => trainer.Fit(train, null, fit, new Recorder { Stop = true }), "stop");
      Check.Equal(Status.Cancelled, stopped.Status, "status");
      var thrower = new Thrower();
      var failed = Check.Throws<DistillException>(() => trainer.Fit(train, null, fit, thrower), "throw");
      Check.True(ReferenceEquals(thrower.Thrown, failed.InnerException), "the listener's exception is the inner one");
    }
  }

  public static void TestDatasetErrorsAndSlices() {
    var e = Check.Throws<DistillException>(() => Dataset.Create(new float[] { 1, 2, 3 }, 2, null), "3 values, 2 rows");
    Check.True(e.Message.Contains("inputs"), "message: " + e.Message);
    using (var data = Synthetic(5))
    using (var part = data.Slice(10, 20)) {
      Check.Equal(20L, part.Rows, "rows");
      Check.Equal(data.Integers(DatasetField.Labels)[10], part.Integers(DatasetField.Labels)[0], "first label");
    }
  }
}
