package ai.distill;

/**
 * A failed call into libdistill: the library's status (a {@code distill_status}, see
 * {@link #status()}) and its message, which names the argument, the expected and the actual value.
 * When a {@link TeacherCallback} or {@link ProgressListener} threw, the call stops with status
 * CANCELLED and {@link #getCause()} is what it threw.
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

  private final int status;

  public DistillException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The library's status code (one of the constants above). */
  public int status() {
    return status;
  }

  /** Called by the JNI glue: attaches what a callback of this thread threw, if anything. */
  static DistillException fromNative(int status, String message) {
    DistillException error = new DistillException(status, message);
    Throwable cause = CallbackFailure.take();
    if (cause != null) error.initCause(cause);
    return error;
  }
}
