package ai.distill.tests;

import static org.junit.jupiter.api.Assertions.*;

import ai.distill.*;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Four threads at once on one context and one callback teacher. */
class ThreadsTest {
  @Test
  void fourThreadsShareAContextAndATeacher() throws Exception {
    AtomicInteger answered = new AtomicInteger();
    try (Context cpu = new Context(1);
         Teacher teacher = Teacher.fromCallback("shared", (request, record) -> {
           answered.incrementAndGet();
           record.setString(RecordString.TEXT, request);
         })) {
      float expected = Loss.kdLoss(cpu, LossTest.readmeOptions(), LossTest.STUDENT, LossTest.TEACHER,
          LossTest.LABELS, 2, null);
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<Integer>> results = new ArrayList<>();
        for (int t = 0; t < 4; ++t) {
          final int thread = t;
          results.add(pool.submit(() -> {
            LossOptions options = LossTest.readmeOptions();
            int checked = 0;
            for (int i = 0; i < 200; ++i) {
              float[] grad = new float[8];
              float loss = Loss.kdLoss(cpu, options, LossTest.STUDENT, LossTest.TEACHER, LossTest.LABELS, 2, grad);
              assertEquals(expected, loss, 0.0f);
              String request = "{\"prompt\": \"" + thread + "-" + i + "\"}";
              try (TeacherRecord record = teacher.query(request)) {
                assertEquals(request.replace(" ", ""), record.text());
              }
              // A failure on one thread stays on that thread.
              if (i % 50 == 0) assertThrows(DistillException.class, () -> new Model("{", 0));
              ++checked;
            }
            return checked;
          }));
        }
        for (Future<Integer> result : results) assertEquals(200, result.get());
      } finally {
        pool.shutdown();
      }
      assertEquals(800, answered.get());
    }
  }
}
