package ai.distill;

/**
 * A teacher written in Java: {@link Teacher#fromCallback(String, TeacherCallback)} makes it a
 * teacher that the library queries, caches in a store, and asks about datasets.
 *
 * <p>It is called on the thread that queries (several at once when several threads query one
 * teacher, so make it thread-safe then). The record is valid during the call only. To mark one
 * request failed (stored as a failure, asked again by the next job) call
 * {@link TeacherRecord#setError(int, String)}; anything thrown stops the whole call, which raises
 * a {@link DistillException} (CANCELLED) caused by it, and nothing is stored for that request.
 */
@FunctionalInterface
public interface TeacherCallback {
  /**
   * Answers {@code requestJson} (canonical JSON) by filling {@code record}: for a
   * Dataset.askTeacher request, {@code record.answerClassification(logits, 0, 1f)} on the
   * features of {@link Teacher#requestFeatures(String)}.
   */
  void answer(String requestJson, TeacherRecord record) throws Exception;
}
