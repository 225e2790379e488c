namespace Distill {

/// <summary>A teacher written in C#: Teacher.FromCallback makes it a teacher that the library
/// queries, caches in a store, and asks about datasets. Called on the thread that queries (several
/// at once when several threads query one teacher). The record is valid during the call only. To
/// mark one request failed (stored as a failure, asked again by the next job) call
/// record.SetError; anything thrown stops the whole call, which throws a DistillException
/// (Cancelled) whose InnerException it is, and nothing is stored for that request.</summary>
public interface ITeacherCallback {
  /// <summary>Answers <paramref name="requestJson"/> (canonical JSON) by filling
  /// <paramref name="record"/>: for a Dataset.AskTeacher request,
  /// record.AnswerClassification(logits, 0, 1f) on Teacher.RequestFeatures(requestJson).</summary>
  void Answer(string requestJson, TeacherRecord record);
}

/// <summary>Progress of a long call (Trainer.Fit, Dataset.AskTeacher), on the calling thread.
/// Return false to stop: the call then throws a DistillException (Cancelled) with the work done so
/// far kept. What it throws stops the call the same way and becomes the InnerException.</summary>
public interface IProgressListener {
  bool OnProgress(Progress progress);
}

internal sealed class DelegateTeacherCallback : ITeacherCallback {
  readonly global::System.Action<string, TeacherRecord> answer;

  internal DelegateTeacherCallback(global::System.Action<string, TeacherRecord> answer) {
    if (answer == null) throw new global::System.ArgumentNullException("answer");
    this.answer = answer;
  }

  public void Answer(string requestJson, TeacherRecord record) {
    answer(requestJson, record);
  }
}

// The SWIG directors native code calls. No managed exception may unwind
// through native frames, so each catches everything and reports it.
internal sealed class TeacherCallbackBridge : TeacherCallbackNative {
  readonly ITeacherCallback callback;

  internal TeacherCallbackBridge(ITeacherCallback callback) {
    this.callback = callback;
  }

  public override string Answer(string requestJson, TeacherRecord record) {
    try {
      callback.Answer(requestJson, record);
      return "";
    } catch (global::System.Exception failure) {
      return CallbackFailure.Keep(failure);
    } finally {
      record.Dispose();  // the native view only; the answer stays in the library's record
    }
  }
}

internal sealed class ProgressBridge : ProgressListenerNative {
  readonly IProgressListener listener;

  internal ProgressBridge(IProgressListener listener) {
    this.listener = listener;
  }

  public override bool OnProgress(Progress progress) {
    try {
      return listener.OnProgress(progress);
    } catch (global::System.Exception failure) {
      CallbackFailure.Keep(failure);
      return false;
    }
  }
}

}
