package ai.distill;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** Checks a buffer before native code reads it in place, from its position to its limit. */
final class Buffers {
  private Buffers() {}

  static Buffer direct(Buffer buffer, String name) {
    if (buffer == null) return null;
    if (!buffer.isDirect())
      throw new DistillException(DistillException.INVALID_ARGUMENT,
          name + ": expected a direct buffer (ByteBuffer.allocateDirect), got a heap buffer; pass a float[] instead");
    ByteOrder order;
    if (buffer instanceof FloatBuffer) {
      order = ((FloatBuffer) buffer).order();
    } else if (buffer instanceof ByteBuffer) {
      order = ((ByteBuffer) buffer).order();
      if (buffer.remaining() % Float.BYTES != 0)
        throw new DistillException(DistillException.INVALID_ARGUMENT,
            name + ": expected a whole number of floats, got " + buffer.remaining() + " bytes");
    } else {
      throw new DistillException(DistillException.INVALID_ARGUMENT,
          name + ": expected a FloatBuffer or ByteBuffer, got " + buffer.getClass().getName());
    }
    if (order != ByteOrder.nativeOrder())
      throw new DistillException(DistillException.INVALID_ARGUMENT,
          name + ": expected the native byte order (.order(ByteOrder.nativeOrder())), got " + order);
    return buffer;
  }
}
