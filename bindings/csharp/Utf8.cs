namespace Distill {

/// <summary>Text to and from the UTF-8 bytes the library reads and writes. Encoding is strict: a
/// string with a lone surrogate has no UTF-8 form, and is refused rather than silently changed
/// (pass the byte[] overloads for arbitrary bytes). Decoding is lenient: bytes that are not UTF-8
/// read as U+FFFD, as Python's decode does.</summary>
internal static class Utf8 {
  static readonly global::System.Text.UTF8Encoding strict = new global::System.Text.UTF8Encoding(false, true);
  static readonly global::System.Text.UTF8Encoding lenient = new global::System.Text.UTF8Encoding(false, false);

  internal static byte[] Encode(string text, string name) {
    if (text == null) throw new DistillException(Status.InvalidArgument, name + ": expected a string, got null");
    try {
      return strict.GetBytes(text);
    } catch (global::System.Text.EncoderFallbackException) {
      throw new DistillException(Status.InvalidArgument, name +
          ": expected text that UTF-8 can encode, got a string with a lone surrogate (pass a byte[] for arbitrary bytes)");
    }
  }

  internal static string Decode(byte[] bytes) {
    return lenient.GetString(bytes);
  }

  /// <summary>Texts laid end to end: text i is the next Lengths[i] bytes.</summary>
  internal struct Packed {
    public byte[] Bytes;
    public long[] Lengths;
  }

  internal static Packed Pack(global::System.Collections.Generic.IEnumerable<string> texts, string name) {
    if (texts == null) throw new DistillException(Status.InvalidArgument, name + ": expected a sequence, got null");
    var each = new global::System.Collections.Generic.List<byte[]>();
    long total = 0;
    foreach (string text in texts) {
      byte[] bytes = Encode(text, name + "[" + each.Count + "]");
      each.Add(bytes);
      total += bytes.Length;
    }
    var packed = new Packed { Bytes = new byte[total], Lengths = new long[each.Count] };
    long offset = 0;
    for (int i = 0; i < each.Count; ++i) {
      global::System.Array.Copy(each[i], 0, packed.Bytes, offset, each[i].Length);
      offset += each[i].Length;
      packed.Lengths[i] = each[i].Length;
    }
    return packed;
  }
}

}
