package ai.distill;

/** The SWIG director that native code calls; forwards to a {@link TokenizeListener}. */
final class TokenizeBridge extends TokenizeListenerNative {
  private final TokenizeListener listener;

  TokenizeBridge(TokenizeListener listener) {
    this.listener = listener;
  }

  @Override
  public boolean onProgress(TokenizeProgress progress) {
    try {
      return listener.onProgress(progress);
    } catch (Throwable failure) {
      CallbackFailure.keep(failure);
      return false;
    }
  }
}
