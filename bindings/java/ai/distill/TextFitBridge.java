package ai.distill;

/** The SWIG director that native code calls; forwards to a {@link TextFitListener}. */
final class TextFitBridge extends TextFitListenerNative {
  private final TextFitListener listener;

  TextFitBridge(TextFitListener listener) {
    this.listener = listener;
  }

  @Override
  public boolean onProgress(TextFitProgress progress) {
    try {
      return listener.onProgress(progress);
    } catch (Throwable failure) {
      CallbackFailure.keep(failure);
      return false;
    }
  }

  /**
   * Releases the bridge once the fit returned. A failure the fit did not raise (the listener threw
   * at the final report, which cannot stop a finished fit) is dropped here, or it would become the
   * cause of the thread's next, unrelated DistillException.
   */
  void done() {
    CallbackFailure.take();
    delete();
  }
}
