package ai.distill;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collection;

/**
 * Text to and from the UTF-8 bytes the library reads and writes. Encoding is strict: a String
 * with a lone surrogate has no UTF-8 form, and is refused rather than silently changed (pass the
 * byte[] overloads for arbitrary bytes). Decoding is lenient: bytes that are not UTF-8 read as
 * U+FFFD, as Python's {@code decode} does.
 */
final class Utf8 {
  private Utf8() {}

  static byte[] encode(String text, String name) {
    if (text == null)
      throw new DistillException(DistillException.INVALID_ARGUMENT, name + ": expected a String, got null");
    CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      ByteBuffer bytes = encoder.encode(CharBuffer.wrap(text));
      byte[] out = new byte[bytes.remaining()];
      bytes.get(out);
      return out;
    } catch (CharacterCodingException e) {
      throw new DistillException(DistillException.INVALID_ARGUMENT, name
          + ": expected text that UTF-8 can encode, got a String with a lone surrogate"
          + " (pass a byte[] for arbitrary bytes)");
    }
  }

  static String decode(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** Texts laid end to end: text i is the next lengths[i] bytes. */
  static final class Packed {
    final byte[] bytes;
    final long[] lengths;

    Packed(byte[] bytes, long[] lengths) {
      this.bytes = bytes;
      this.lengths = lengths;
    }
  }

  static Packed pack(Collection<String> texts, String name) {
    if (texts == null)
      throw new DistillException(DistillException.INVALID_ARGUMENT, name + ": expected a collection, got null");
    byte[][] each = new byte[texts.size()][];
    long total = 0;
    int i = 0;
    for (String text : texts) {
      each[i] = encode(text, name + "[" + i + "]");
      total += each[i++].length;
    }
    if (total > Integer.MAX_VALUE - 8)
      throw new DistillException(DistillException.INVALID_ARGUMENT, name
          + ": expected at most 2 GiB of text in one call, got " + total + " bytes");
    byte[] bytes = new byte[(int) total];
    long[] lengths = new long[each.length];
    int offset = 0;
    for (i = 0; i < each.length; ++i) {
      System.arraycopy(each[i], 0, bytes, offset, each[i].length);
      offset += each[i].length;
      lengths[i] = each[i].length;
    }
    return new Packed(bytes, lengths);
  }
}
