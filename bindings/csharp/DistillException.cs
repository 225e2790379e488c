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
  Cancelled = 5,
  /// <summary>A file or directory the call was given does not exist.</summary>
  NotFound = 6,
  /// <summary>A file exists but cannot be read or written (permissions, a directory, ...).</summary>
  IOError = 7,
  /// <summary>A file's contents are damaged, truncated or of another kind.</summary>
  CorruptFile = 8,
  /// <summary>No space left on the device or in the quota.</summary>
  DiskFull = 9
}

/// <summary>A failed call into libdistill: the library's status and its message, which names the
/// argument, the expected and the actual value. When an ITeacherCallback or IProgressListener
/// threw, the call stops with Status.Cancelled and InnerException is what it threw. A file failure
/// is one of the subclasses NotFoundException, FileIOException, CorruptFileException and
/// DiskFullException, so that a program can catch the kind it can act on.</summary>
public class DistillException : global::System.Exception {
  public DistillException(Status status, string message, global::System.Exception inner = null)
      : base(message, inner) {
    Status = status;
  }

  /// <summary>The library's status.</summary>
  public Status Status { get; private set; }

  // Called by the glue on the thread of the failed call: attaches what a callback of this thread threw.
  internal static DistillException FromNative(int status, string message) {
    var inner = CallbackFailure.Take();
    switch ((Status)status) {
      case Status.NotFound: return new NotFoundException(message, inner);
      case Status.IOError: return new FileIOException(message, inner);
      case Status.CorruptFile: return new CorruptFileException(message, inner);
      case Status.DiskFull: return new DiskFullException(message, inner);
      default: return new DistillException((Status)status, message, inner);
    }
  }
}

/// <summary>A file or directory the call was given does not exist (Status.NotFound).</summary>
public class NotFoundException : DistillException {
  public NotFoundException(string message, global::System.Exception inner = null)
      : base(Status.NotFound, message, inner) {}
}

/// <summary>A file exists but cannot be read or written: permission denied, a device I/O error, a
/// directory where a file was expected (Status.IOError).</summary>
public class FileIOException : DistillException {
  public FileIOException(string message, global::System.Exception inner = null)
      : base(Status.IOError, message, inner) {}
}

/// <summary>A file's contents are damaged, truncated, or of another kind: not a distill store,
/// checkpoint, safetensors or IDX file (Status.CorruptFile).</summary>
public class CorruptFileException : DistillException {
  public CorruptFileException(string message, global::System.Exception inner = null)
      : base(Status.CorruptFile, message, inner) {}
}

/// <summary>No space left on the device or in the quota (Status.DiskFull); the file is as it was
/// before the call.</summary>
public class DiskFullException : DistillException {
  public DiskFullException(string message, global::System.Exception inner = null)
      : base(Status.DiskFull, message, inner) {}
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
