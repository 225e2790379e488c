// ThreadTests.cs — four threads at once on one context and one callback teacher.
using System;
using System.Threading;
using Distill;

static class ThreadTests {
  public static void TestFourThreads() {
    int answered = 0;
    using (var cpu = new Context(1))
    using (var teacher = Teacher.FromCallback("shared", (request, record) => {
             Interlocked.Increment(ref answered);
             record.SetString(RecordString.Text, request);
           })) {
      float expected = Loss.KdLoss(cpu, LossTests.ReadmeOptions(), LossTests.Student, LossTests.Teacher, LossTests.Labels, 2, null);
      var failures = new Exception[4];
      var threads = new Thread[4];
      for (int t = 0; t < 4; ++t) {
        int thread = t;
        threads[t] = new Thread(() => {
          try {
            var options = LossTests.ReadmeOptions();
            for (int i = 0; i < 200; ++i) {
              float loss = Loss.KdLoss(cpu, options, LossTests.Student, LossTests.Teacher, LossTests.Labels, 2, new float[8]);
              Check.Equal(expected, loss, "loss on thread " + thread);
              string request = "{\"prompt\": \"" + thread + "-" + i + "\"}";
              using (var record = teacher.Query(request))
                Check.Equal(request.Replace(" ", ""), record.Text, "answer");
              if (i % 50 == 0) Check.Throws<DistillException>(() => new Model("{", 0), "bad JSON");
            }
          } catch (Exception e) {
            failures[thread] = e;
          }
        });
        threads[t].Start();
      }
      foreach (var thread in threads) thread.Join();
      foreach (var failure in failures)
        if (failure != null) throw new Exception("a thread failed", failure);
      Check.Equal(800, answered, "answers");
    }
  }
}
