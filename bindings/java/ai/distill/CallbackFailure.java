package ai.distill;

/**
 * What a Java callback threw, kept on the thread of the library call that invoked it until that
 * call raises its DistillException (callbacks run on the calling thread).
 */
final class CallbackFailure {
  private static final ThreadLocal<Throwable> PENDING = new ThreadLocal<>();

  private CallbackFailure() {}

  /** Keeps {@code failure} and returns the description the native side reports. */
  static String keep(Throwable failure) {
    PENDING.set(failure);
    return failure.toString();
  }

  static Throwable take() {
    Throwable failure = PENDING.get();
    PENDING.remove();
    return failure;
  }
}
