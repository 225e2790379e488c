package ai.distill;

/**
 * A failed call into libdistill: the library's status (a {@code distill_status}, see
 * {@link #status()}) and its message, which names the argument, the expected and the actual value.
 * When a {@link TeacherCallback} or {@link ProgressListener} threw, the call stops with status
 * CANCELLED and {@link #getCause()} is what it threw. A file failure is one of the subclasses
 * {@link NotFoundException}, {@link FileIOException}, {@link CorruptFileException} and {@link
 * DiskFullException}, so that a program can catch the kind it can act on.
 */
public class DistillException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** DISTILL_STATUS_INVALID_ARGUMENT: an argument is null, out of range, or of the wrong shape. */
  public static final int INVALID_ARGUMENT = 1;
  /** DISTILL_STATUS_UNSUPPORTED: valid, but this build or machine cannot do it. */
  public static final int UNSUPPORTED = 2;
  /** DISTILL_STATUS_OUT_OF_MEMORY. */
  public static final int OUT_OF_MEMORY = 3;
  /** DISTILL_STATUS_INTERNAL: a failure inside the library or a device runtime. */
  public static final int INTERNAL = 4;
  /** DISTILL_STATUS_CANCELLED: a callback asked to stop, or threw. */
  public static final int CANCELLED = 5;
  /** DISTILL_STATUS_NOT_FOUND: a file or directory the call was given does not exist. */
  public static final int NOT_FOUND = 6;
  /** DISTILL_STATUS_IO_ERROR: a file exists but cannot be read or written (permissions, ...). */
  public static final int IO_ERROR = 7;
  /** DISTILL_STATUS_CORRUPT_FILE: a file's contents are damaged, truncated or of another kind. */
  public static final int CORRUPT_FILE = 8;
  /** DISTILL_STATUS_DISK_FULL: no space left on the device or in the quota. */
  public static final int DISK_FULL = 9;

  private final int status;

  public DistillException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The library's status code (one of the constants above). */
  public int status() {
    return status;
  }

  /** The exception of a status: its subclass for a file failure, this class otherwise. */
  static DistillException of(int status, String message) {
    switch (status) {
      case NOT_FOUND:
        return new NotFoundException(message);
      case IO_ERROR:
        return new FileIOException(message);
      case CORRUPT_FILE:
        return new CorruptFileException(message);
      case DISK_FULL:
        return new DiskFullException(message);
      default:
        return new DistillException(status, message);
    }
  }

  /** Called by the JNI glue: attaches what a callback of this thread threw, if anything. */
  static DistillException fromNative(int status, String message) {
    DistillException error = of(status, message);
    Throwable cause = CallbackFailure.take();
    if (cause != null) error.initCause(cause);
    return error;
  }
}
