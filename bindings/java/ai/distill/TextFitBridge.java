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
}
