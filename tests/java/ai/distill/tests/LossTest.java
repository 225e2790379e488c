package ai.distill.tests;

import static org.junit.jupiter.api.Assertions.*;

import ai.distill.*;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/** The loss on Java arrays and direct buffers: the values of the C quickstart and the C++ tests. */
class LossTest {
  // The README's example: forward KL at T = 2, ½ soft + ½ hard, batchmean.
  static final float[] STUDENT = {2.0f, 1.0f, 0.1f, -1.0f, 0.5f, 0.2f, 3.0f, 0.0f};
  static final float[] TEACHER = {3.0f, 0.5f, 0.0f, -2.0f, 0.0f, 0.0f, 4.0f, 1.0f};
  static final long[] LABELS = {0, 2};

  static LossOptions readmeOptions() {
    LossOptions options = new LossOptions();
    options.setTemperature(2.0f);
    options.setSoftWeight(0.5f);
    options.setHardWeight(0.5f);
    return options;
  }

  @Test
  void readmeExampleOnArrays() {
    try (Context cpu = new Context()) {
      float[] grad = new float[8];
      float loss = Loss.kdLoss(cpu, readmeOptions(), STUDENT, TEACHER, LABELS, 2, grad);
      assertEquals(0.2633f, loss, 1e-4f);
      // Each gradient row of a softmax-based loss sums to zero.
      assertEquals(0.0, grad[0] + grad[1] + grad[2] + grad[3], 1e-6);
      assertNotEquals(0.0f, grad[0]);
    }
  }

  @Test
  void defaultsAreForwardKlBatchmean() {
    LossOptions options = new LossOptions();
    assertEquals(Divergence.FORWARD_KL, options.getDivergence());
    assertEquals(Reduction.BATCHMEAN, options.getReduction());
    assertEquals(1.0f, options.getTemperature());
    assertTrue(options.getScaleByT2());
    assertEquals(-100, options.getIgnoreIndex());
    try (Context cpu = new Context(1)) {
      // Identical logits: KL = 0; null options mean the defaults, null grad none wanted.
      assertEquals(0.0f, Loss.kdLoss(cpu, null, STUDENT, STUDENT, null, 2, null), 1e-7f);
    }
  }

  @Test
  void directBuffersGiveTheSameLossAndGradient() {
    try (Context cpu = new Context()) {
      float[] grad = new float[8];
      float expected = Loss.kdLoss(cpu, readmeOptions(), STUDENT, TEACHER, LABELS, 2, grad);

      FloatBuffer student = ByteBuffer.allocateDirect(32).order(ByteOrder.nativeOrder()).asFloatBuffer();
      student.put(STUDENT).flip();
      ByteBuffer teacher = ByteBuffer.allocateDirect(32).order(ByteOrder.nativeOrder());
      for (float t : TEACHER) teacher.putFloat(t);
      teacher.flip();
      FloatBuffer gradBuffer = ByteBuffer.allocateDirect(32).order(ByteOrder.nativeOrder()).asFloatBuffer();
      float loss = Loss.kdLoss(cpu, readmeOptions(), student, teacher, LABELS, 2, gradBuffer);
      assertEquals(expected, loss, 1e-7f);
      for (int i = 0; i < 8; ++i) assertEquals(grad[i], gradBuffer.get(i), 1e-7f);
    }
  }

  @Test
  void heapAndForeignOrderBuffersAreRefused() {
    try (Context cpu = new Context()) {
      DistillException heap = assertThrows(DistillException.class,
          () -> Loss.kdLoss(cpu, null, FloatBuffer.wrap(STUDENT), FloatBuffer.wrap(TEACHER), null, 2, null));
      assertTrue(heap.getMessage().contains("direct"), heap.getMessage());
      ByteOrder foreign = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
      ByteBuffer swapped = ByteBuffer.allocateDirect(32).order(foreign);
      DistillException order = assertThrows(DistillException.class,
          () -> Loss.kdLoss(cpu, null, swapped, swapped, null, 2, null));
      assertTrue(order.getMessage().contains("byte order"), order.getMessage());
    }
  }

  @Test
  void rowLossesAndTopK() {
    try (Context cpu = new Context()) {
      LossOptions options = readmeOptions();
      float[] rows = new float[2];
      Loss.kdLossRows(cpu, options, STUDENT, TEACHER, LABELS, 2, rows, null);
      float mean = Loss.kdLoss(cpu, options, STUDENT, TEACHER, LABELS, 2, null);
      assertEquals(mean, (rows[0] + rows[1]) / 2, 1e-6f);

      // A top-k teacher with K = V and the bucket tail is the dense teacher.
      options.setHardWeight(0.0f);
      options.setTail(Tail.BUCKET);
      int[] ids = {0, 1, 2, 3, 0, 1, 2, 3};
      float[] logprobs = new float[8];
      for (int r = 0; r < 2; ++r) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int v = 0; v < 4; ++v) max = Math.max(max, TEACHER[4 * r + v]);
        for (int v = 0; v < 4; ++v) sum += Math.exp(TEACHER[4 * r + v] - max);
        for (int v = 0; v < 4; ++v) logprobs[4 * r + v] = (float) (TEACHER[4 * r + v] - max - Math.log(sum));
      }
      float dense = Loss.kdLoss(cpu, options, STUDENT, TEACHER, null, 2, null);
      float topk = Loss.kdLossTopk(cpu, options, STUDENT, ids, logprobs, null, 2, null);
      assertEquals(dense, topk, 1e-5f);
    }
  }

  @Test
  void shapeErrorsNameTheArgument() {
    try (Context cpu = new Context()) {
      DistillException e = assertThrows(DistillException.class,
          () -> Loss.kdLoss(cpu, null, STUDENT, new float[7], null, 2, null));
      assertEquals(DistillException.INVALID_ARGUMENT, e.status());
      assertTrue(e.getMessage().contains("teacher"), e.getMessage());
      e = assertThrows(DistillException.class,
          () -> Loss.kdLoss(cpu, null, STUDENT, TEACHER, new long[] {0, 9}, 2, null));
      assertTrue(e.getMessage().contains("labels"), e.getMessage());
      LossOptions none = new LossOptions();
      none.setReduction(Reduction.NONE);
      e = assertThrows(DistillException.class, () -> Loss.kdLoss(cpu, none, STUDENT, TEACHER, null, 2, null));
      assertTrue(e.getMessage().contains("kd_loss_rows"), e.getMessage());
      LossOptions hot = new LossOptions();
      hot.setTemperature(-1.0f);
      e = assertThrows(DistillException.class, () -> Loss.kdLoss(cpu, hot, STUDENT, TEACHER, null, 2, null));
      assertTrue(e.getMessage().contains("temperature"), e.getMessage());
    }
  }

  @Test
  void libraryIdentity() {
    assertTrue(Library.version().startsWith("0."));
    assertTrue(Library.abiVersion() >= 4);
    assertTrue(Library.cudaDeviceCount() >= 0);
  }
}
