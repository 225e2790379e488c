package ai.distill.tests;

import static org.junit.jupiter.api.Assertions.*;

import ai.distill.*;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Records, the store, callback teachers (answering, failing, throwing), HTTP teachers and collect. */
class TeacherTest {
  @Test
  void recordFieldsPositionsAndEmbeddings() {
    try (TeacherRecord record = new TeacherRecord()) {
      record.setString(RecordString.TEXT, "Paris");
      record.setInt(RecordInt.PROMPT_TOKENS, 12);
      record.appendPosition("Paris", 42, -0.1f, new int[] {42, 7}, new float[] {-0.1f, -2.5f});
      record.appendEmbedding(new float[] {0.5f, -1.0f, 2.0f});
      assertEquals("Paris", record.text());
      assertEquals(12, record.getInt(RecordInt.PROMPT_TOKENS));
      assertEquals(1, record.positionCount());
      assertEquals("Paris", record.positionToken(0));
      assertEquals(42, record.positionTokenId(0));
      assertEquals(2, record.positionTopK(0));
      int[] ids = new int[2];
      float[] logprobs = new float[2];
      assertEquals(2, record.copyTopk(0, ids, logprobs));
      assertArrayEquals(new int[] {42, 7}, ids);
      assertEquals(-2.5f, logprobs[1], 1e-2f);  // kept as fp16 only in a store; exact here
      assertArrayEquals(new float[] {0.5f, -1.0f, 2.0f}, record.embedding(0));
      DistillException e = assertThrows(DistillException.class,
          () -> record.appendPosition("x", 1, 0.5f, null, null));
      assertTrue(e.getMessage().contains("logprob"), e.getMessage());
      assertThrows(DistillException.class, () -> record.positionToken(5));
    }
  }

  @Test
  void finishReasonOtherModelAndTheirStoreCounts() {
    try (Store store = new Store(TempFiles.path("finish.db"));
         TeacherRecord record = new TeacherRecord()) {
      record.setString(RecordString.KEY, "a".repeat(64));
      record.setString(RecordString.FINISH_REASON, "length");
      record.setString(RecordString.TEACHER_JSON, "{\"model\": \"tiny\"}");
      record.setString(RecordString.MODEL, "/models/default.gguf");
      assertEquals("length", record.finishReason());
      assertTrue(record.otherModel());
      store.put(record);
      try (TeacherRecord stored = store.get("a".repeat(64))) {
        assertEquals("length", stored.finishReason());
        assertTrue(stored.otherModel());
      }
      StoreStats stats = store.stats();
      assertEquals(1, stats.getFinishedLength());
      assertEquals(0, stats.getFinishedStop());
      assertEquals(1, stats.getOtherModel());
    }
  }

  // log_softmax(logits / t) in double: the reference the answers are checked against.
  static double[] logSoftmax(float[] logits, double t) {
    double max = Double.NEGATIVE_INFINITY, sum = 0;
    for (float z : logits) max = Math.max(max, z / t);
    for (float z : logits) sum += Math.exp(z / t - max);
    double[] out = new double[logits.length];
    for (int c = 0; c < logits.length; ++c) out[c] = logits[c] / t - max - Math.log(sum);
    return out;
  }

  @Test
  void classificationAnswerRoundTripsThroughTheStore() {
    // Classes 1 and 3 tie: the lower index comes first.
    float[] logits = {0.5f, 2.0f, -1.0f, 2.0f};
    double[] expected = logSoftmax(logits, 2.0);
    try (Store store = new Store(TempFiles.path("classes.db"));
         Teacher teacher = Teacher.fromCallback("classes", (request, record) ->
             record.answerClassification(logits, 3, 2.0f))) {
      try (TeacherRecord asked = teacher.queryCached(store, "{\"input\": 1}");
           TeacherRecord stored = store.get(asked.key())) {
        assertNotNull(stored);
        for (TeacherRecord record : new TeacherRecord[] {asked, stored}) {
          assertEquals(1, record.positionCount());
          assertEquals("1", record.positionToken(0));
          assertEquals(1, record.positionTokenId(0));
          assertEquals(expected[1], record.positionLogprob(0), 1e-6);
          int[] ids = new int[4];
          float[] logprobs = new float[4];
          assertEquals(3, record.copyTopk(0, ids, logprobs));
          assertArrayEquals(new int[] {1, 3, 0, 0}, ids);
          for (int k = 0; k < 3; ++k)  // fp16 in the store: |error| <= 2^-11 |logprob|
            assertEquals(expected[ids[k]], logprobs[k], 1e-3 * Math.abs(expected[ids[k]]) + 1e-6);
          assertEquals(1, record.getInt(RecordInt.LOGPROBS_KIND));  // DISTILL_LOGPROBS_RAW
        }
      }
    }
  }

  @Test
  void requestFeaturesReadTheExampleWireFormat() {
    // uint8 values are byte / divisor; float32 ones travel as little-endian bytes.
    String bytes = "{\"input\": {\"dtype\": \"uint8\", \"shape\": [3], \"divisor\": 255.0, "
        + "\"data\": \"" + java.util.Base64.getEncoder().encodeToString(new byte[] {0, 51, (byte) 255})
        + "\"}}";
    assertArrayEquals(new float[] {0f, 51f / 255f, 1f}, Teacher.requestFeatures(bytes));
    java.nio.ByteBuffer raw = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    raw.putFloat(0.5f).putFloat(-1.25f);
    String floats = "{\"input\": {\"dtype\": \"float32\", \"shape\": [2], \"data\": \""
        + java.util.Base64.getEncoder().encodeToString(raw.array()) + "\"}}";
    assertArrayEquals(new float[] {0.5f, -1.25f}, Teacher.requestFeatures(floats));
    DistillException e = assertThrows(DistillException.class,
                                      () -> Teacher.requestFeatures("{\"prompt\": \"hi\"}"));
    assertTrue(e.getMessage().contains("input"), e.getMessage());
  }

  @Test
  void callbackTeacherThroughAStore() {
    AtomicInteger asked = new AtomicInteger();
    try (Store store = new Store(TempFiles.path("callback.db"));
         Teacher teacher = Teacher.fromCallback("echo", (request, record) -> {
           asked.incrementAndGet();
           record.setString(RecordString.TEXT, "echo " + request);
         })) {
      String request = "{\"prompt\": \"hello\"}";
      try (TeacherRecord first = teacher.queryCached(store, request);
           TeacherRecord second = teacher.queryCached(store, "{ \"prompt\":\"hello\" }")) {
        assertEquals("echo {\"prompt\":\"hello\"}", first.text());
        assertEquals(first.key(), second.key());
        assertEquals(teacher.requestKey(request), first.key());
        assertFalse(first.failed());
      }
      assertEquals(1, asked.get());
      assertEquals(1, store.stats().getRecords());
      try (TeacherRecord stored = store.get(teacher.requestKey(request))) {
        assertEquals("callback", stored.getString(RecordString.PROVIDER));
      }
      assertNull(store.get("0".repeat(64)));
      store.exportJsonl(TempFiles.path("callback.jsonl"));
    }
  }

  @Test
  void aFailedRequestIsARecordAndAThrowIsAnException() {
    try (Store store = new Store(TempFiles.path("failures.db"))) {
      Teacher failing = Teacher.fromCallback("failing", (request, record) ->
          record.setError(DistillException.INTERNAL, "model overloaded"));
      try (TeacherRecord record = failing.queryCached(store, "{\"prompt\": \"a\"}")) {
        assertTrue(record.failed());
        assertEquals("model overloaded", record.getString(RecordString.ERROR_MESSAGE));
      }
      assertEquals(1, store.stats().getFailures());

      IllegalStateException boom = new IllegalStateException("boom");
      TeacherRecord[] kept = new TeacherRecord[1];
      Teacher throwing = Teacher.fromCallback("throwing", (request, record) -> {
        kept[0] = record;
        throw boom;
      });
      DistillException e = assertThrows(DistillException.class,
          () -> throwing.queryCached(store, "{\"prompt\": \"b\"}"));
      assertEquals(DistillException.CANCELLED, e.status());
      assertSame(boom, e.getCause());
      assertTrue(e.getMessage().contains("boom"), e.getMessage());
      assertEquals(1, store.stats().getRecords());  // nothing stored for the throw
      // The record a callback was given is gone after it returned.
      assertThrows(DistillException.class, () -> kept[0].text());
      // The thread is clean: the next failure carries no stale cause.
      DistillException next = assertThrows(DistillException.class, () -> new Model("{", 0));
      assertNull(next.getCause());
      failing.close();
      throwing.close();
    }
  }

  @Test
  void collectAsksEachRequestOnce() {
    AtomicInteger asked = new AtomicInteger();
    try (Store store = new Store(TempFiles.path("collect.db"));
         Teacher teacher = Teacher.fromCallback("collector", (request, record) -> {
           asked.incrementAndGet();
           record.setString(RecordString.TEXT, "ok");
         })) {
      List<String> requests = List.of("{\"prompt\": \"1\"}", "{\"prompt\": \"2\"}", "{\"prompt\": \"1\"}");
      CollectSummary first = teacher.collect(store, requests, null);
      assertEquals(3, first.getRequests());
      assertEquals(2, first.getAsked());
      assertEquals(2, first.getSucceeded());
      CollectSummary second = teacher.collect(store, requests, new CollectOptions());
      assertEquals(0, second.getAsked());
      assertEquals(3, second.getAnsweredFromStore());
      assertEquals(2, asked.get());
      DistillException e = assertThrows(DistillException.class,
          () -> teacher.collect(store, List.of("{not json"), null));
      assertTrue(e.getMessage().contains("requests_json[0]"), e.getMessage());
    }
  }

  @Test
  void httpTeacherOptionsAndAnUnreachableServer() {
    HttpTeacherOptions options = new HttpTeacherOptions();
    assertEquals(60, options.getLowSpeedSeconds());  // distill_http_teacher_options_init
    options.setLowSpeedSeconds(30);
    DistillException e = assertThrows(DistillException.class, () -> Teacher.http(options));
    assertTrue(e.getMessage().contains("base_url"), e.getMessage());
    options.setBaseUrl("http://127.0.0.1:1/v1");
    options.setModel("tiny");
    options.setMaxRetries(0);
    options.setConnectTimeoutMs(2000);
    try (Teacher teacher = Teacher.http(options);
         TeacherRecord record = teacher.query("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}")) {
      assertTrue(record.failed());
      assertFalse(record.getString(RecordString.ERROR_MESSAGE).isEmpty());
    }
  }
}
