package ai.distill;

/** The SWIG director that native code calls; forwards to a {@link ProgressListener}. */
final class ProgressBridge extends ProgressListenerNative {
  private final ProgressListener listener;

  ProgressBridge(ProgressListener listener) {
    this.listener = listener;
  }

  @Override
  public boolean onProgress(Progress progress) {
    try {
      return listener.onProgress(progress);
    } catch (Throwable failure) {
      CallbackFailure.keep(failure);
      return false;
    }
  }
}
