namespace Distill {

/// <summary>Progress of Trainer.FitText and Trainer.FitStored, on the calling thread: after every
/// step (Evaluated false) and after every validation (Evaluated true, its figures in Validation).
/// Return false to stop: the call then throws a DistillException (Cancelled) after writing the
/// checkpoint when one is configured. What it throws stops the call the same way and becomes the
/// InnerException. The final report (after the last step and its validation) cannot stop the fit:
/// what it returns or throws is ignored.</summary>
public interface ITextFitListener {
  bool OnProgress(TextFitProgress progress);
}

internal sealed class DelegateTextFitListener : ITextFitListener {
  readonly global::System.Func<TextFitProgress, bool> listener;

  internal DelegateTextFitListener(global::System.Func<TextFitProgress, bool> listener) {
    this.listener = listener;
  }

  public bool OnProgress(TextFitProgress progress) {
    return listener(progress);
  }
}

// The SWIG director native code calls; no managed exception may unwind
// through native frames, so it catches everything and reports it.
internal sealed class TextFitBridge : TextFitListenerNative {
  readonly ITextFitListener listener;

  internal TextFitBridge(ITextFitListener listener) {
    this.listener = listener;
  }

  public override bool OnProgress(TextFitProgress progress) {
    try {
      return listener.OnProgress(progress);
    } catch (global::System.Exception failure) {
      CallbackFailure.Keep(failure);
      return false;
    }
  }

  // Releases the bridge once the fit returned. A failure the fit did not
  // raise (the listener threw at the final report, which cannot stop a
  // finished fit) is dropped here, or it would become the InnerException of
  // the thread's next, unrelated DistillException.
  internal void Done() {
    CallbackFailure.Take();
    Dispose();
  }
}

}
