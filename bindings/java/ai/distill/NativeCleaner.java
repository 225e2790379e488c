package ai.distill;

import java.lang.ref.Cleaner;
import java.util.function.LongConsumer;

/** The one Cleaner thread that releases the native part of objects nobody closed. */
final class NativeCleaner {
  private static final Cleaner CLEANER = Cleaner.create();

  private NativeCleaner() {}

  /** Calls {@code release.accept(pointer)} once: on clean(), or after {@code owner} is unreachable. */
  static Cleaner.Cleanable register(Object owner, long pointer, LongConsumer release) {
    return CLEANER.register(owner, () -> release.accept(pointer));
  }
}
