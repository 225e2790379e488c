namespace Distill {

/// <summary>Progress of TextDataset.TokenizeFiles, on the calling thread: about every
/// ProgressIntervalSeconds while the files are read, and once when writing begins. Return false to
/// stop: the call then throws a DistillException (Cancelled) and leaves the output file as it was.
/// What it throws stops the call the same way and becomes the InnerException.</summary>
public interface ITokenizeListener {
  bool OnProgress(TokenizeProgress progress);
}

internal sealed class DelegateTokenizeListener : ITokenizeListener {
  readonly global::System.Func<TokenizeProgress, bool> listener;

  internal DelegateTokenizeListener(global::System.Func<TokenizeProgress, bool> listener) {
    this.listener = listener;
  }

  public bool OnProgress(TokenizeProgress progress) {
    return listener(progress);
  }
}

// The SWIG director native code calls; no managed exception may unwind
// through native frames, so it catches everything and reports it.
internal sealed class TokenizeBridge : TokenizeListenerNative {
  readonly ITokenizeListener listener;

  internal TokenizeBridge(ITokenizeListener listener) {
    this.listener = listener;
  }

  public override bool OnProgress(TokenizeProgress progress) {
    try {
      return listener.OnProgress(progress);
    } catch (global::System.Exception failure) {
      CallbackFailure.Keep(failure);
      return false;
    }
  }
}

}
