namespace Distill {

/// <summary>The library's status codes (distill_status).</summary>
public enum Status {
  Ok = 0,
  /// <summary>An argument is null, out of range, or of the wrong shape.</summary>
  InvalidArgument = 1,
  /// <summary>Valid, but this build or machine cannot do it.</summary>
  Unsupported = 2,
  OutOfMemory = 3,
  /// <summary>A failure inside the library or a device runtime.</summary>
  Internal = 4,
  /// <summary>A callback asked to stop, or threw.</summary>
  Cancelled = 5
}

/// <summary>A failed call into libdistill: the library's status and its message, which names the
/// argument, the expected and the actual value. When an ITeacherCallback or IProgressListener
/// threw, the call stops with Status.Cancelled and InnerException is what it threw.</summary>
public class DistillException : global::System.Exception {
  public DistillException(Status status, string message, global::System.Exception inner = null)
      : base(message, inner) {
    Status = status;
  }

  /// <summary>The library's status.</summary>
  public Status Status { get; private set; }

  // Called by the glue on the thread of the failed call: attaches what a callback of this thread threw.
  internal static DistillException FromNative(int status, string message) {
    return new DistillException((Status)status, message, CallbackFailure.Take());
  }
}

/// <summary>What a C# callback threw, kept on the thread of the library call that invoked it until
/// that call throws its DistillException (callbacks run on the calling thread).</summary>
internal static class CallbackFailure {
  [global::System.ThreadStatic] static global::System.Exception pending;

  internal static string Keep(global::System.Exception failure) {
    pending = failure;
    return failure.GetType().FullName + ": " + failure.Message;
  }

  internal static global::System.Exception Take() {
    var failure = pending;
    pending = null;
    return failure;
  }
}

}
