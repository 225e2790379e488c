// LossTests.cs — the loss on C# arrays: the values of the C quickstart and the C++ tests.
using System;
using Distill;

static class LossTests {
  public static readonly float[] Student = { 2.0f, 1.0f, 0.1f, -1.0f, 0.5f, 0.2f, 3.0f, 0.0f };
  public static readonly float[] Teacher = { 3.0f, 0.5f, 0.0f, -2.0f, 0.0f, 0.0f, 4.0f, 1.0f };
  public static readonly long[] Labels = { 0, 2 };

  public static LossOptions ReadmeOptions() {
    return new LossOptions { Temperature = 2.0f, SoftWeight = 0.5f, HardWeight = 0.5f };
  }

  public static void TestReadmeExample() {
    using (var cpu = new Context()) {
      var grad = new float[8];
      float loss = Loss.KdLoss(cpu, ReadmeOptions(), Student, Teacher, Labels, 2, grad);
      Check.Near(0.2633, loss, 1e-4, "loss");
      Check.Near(0.0, grad[0] + grad[1] + grad[2] + grad[3], 1e-6, "gradient row sum");
      Check.True(grad[0] != 0.0f, "a gradient written in place");
    }
  }

  public static void TestDefaults() {
    var options = new LossOptions();
    Check.Equal(Divergence.ForwardKl, options.Divergence, "divergence");
    Check.Equal(Reduction.Batchmean, options.Reduction, "reduction");
    Check.Equal(true, options.ScaleByT2, "scale_by_t2");
    Check.Equal(-100L, options.IgnoreIndex, "ignore_index");
    using (var cpu = new Context(1))
      Check.Near(0.0, Loss.KdLoss(cpu, null, Student, Student, null, 2, null), 1e-7, "KL(p, p)");
  }

  public static void TestRowsAndTopK() {
    using (var cpu = new Context()) {
      var options = ReadmeOptions();
      var rows = new float[2];
      Loss.KdLossRows(cpu, options, Student, Teacher, Labels, 2, rows, null);
      float mean = Loss.KdLoss(cpu, options, Student, Teacher, Labels, 2, null);
      Check.Near(mean, (rows[0] + rows[1]) / 2, 1e-6, "batchmean = mean of the rows");

      options.HardWeight = 0.0f;
      options.Tail = Tail.Bucket;
      var ids = new int[] { 0, 1, 2, 3, 0, 1, 2, 3 };
      var logprobs = new float[8];
      for (int r = 0; r < 2; ++r) {
        double max = double.NegativeInfinity, sum = 0;
        for (int v = 0; v < 4; ++v) max = Math.Max(max, Teacher[4 * r + v]);
        for (int v = 0; v < 4; ++v) sum += Math.Exp(Teacher[4 * r + v] - max);
        for (int v = 0; v < 4; ++v) logprobs[4 * r + v] = (float)(Teacher[4 * r + v] - max - Math.Log(sum));
      }
      float dense = Loss.KdLoss(cpu, options, Student, Teacher, null, 2, null);
      float topk = Loss.KdLossTopk(cpu, options, Student, ids, logprobs, null, 2, null);
      Check.Near(dense, topk, 1e-5, "top-k with K = V and a bucket tail");
    }
  }

  public static void TestShapeErrorsNameTheArgument() {
    using (var cpu = new Context()) {
      var e = Check.Throws<DistillException>(() => Loss.KdLoss(cpu, null, Student, new float[7], null, 2, null), "short teacher");
      Check.Equal(Status.InvalidArgument, e.Status, "status");
      Check.True(e.Message.Contains("teacher"), "the message names teacher: " + e.Message);
      e = Check.Throws<DistillException>(() => Loss.KdLoss(cpu, null, Student, Teacher, new long[] { 0, 9 }, 2, null), "label 9");
      Check.True(e.Message.Contains("labels"), "the message names labels: " + e.Message);
      var hot = new LossOptions { Temperature = -1.0f };
      e = Check.Throws<DistillException>(() => Loss.KdLoss(cpu, hot, Student, Teacher, null, 2, null), "T < 0");
      Check.True(e.Message.Contains("temperature"), "the message names temperature: " + e.Message);
    }
  }

  public static void TestLibraryIdentity() {
    Check.True(Library.Version().StartsWith("0."), "version " + Library.Version());
    Check.True(Library.AbiVersion() >= 4, "ABI >= 4");
  }
}
