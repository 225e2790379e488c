package ai.distill;

/** The SWIG director that native code calls; forwards to a {@link TeacherCallback}. */
final class TeacherCallbackBridge extends TeacherCallbackNative {
  private final TeacherCallback callback;

  TeacherCallbackBridge(TeacherCallback callback) {
    this.callback = callback;
  }

  @Override
  public String answer(String requestJson, TeacherRecord record) {
    try {
      callback.answer(requestJson, record);
      return "";
    } catch (Throwable failure) {
      return CallbackFailure.keep(failure);
    } finally {
      record.delete();  // the native view only; the answer stays in the library's record
    }
  }
}
