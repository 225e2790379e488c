// TextFixtures.cs — text for the tokenizer, token dataset and HF folder
// tests: the reference ids Hugging Face tokenizers gave
// (tests/lm/make_tokenizer_ids_reference.py, run by CTest as a fixture),
// Debian's fortunes, mixed text with emoji, CJK and invalid UTF-8.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

static class TextFixtures {
  public const string Eos = "<|endoftext|>";
  public const string Fortunes = "/usr/share/games/fortunes";

  public class Probe {
    public string Tokenizer;
    public byte[] Text;
    public int[] Ids;
  }

  /// <summary>The reference directory, or null (with the reason in skipped) when the reference
  /// was skipped (no tokenizers).</summary>
  public static string ReferenceDir(out string skipped) {
    string dir = Environment.GetEnvironmentVariable("DISTILL_TOKENIZER_REFERENCE_DIR");
    if (dir == null) throw new Exception("DISTILL_TOKENIZER_REFERENCE_DIR is not set (CTest sets it)");
    string marker = Path.Combine(dir, "SKIPPED");
    skipped = File.Exists(marker) ? File.ReadAllText(marker).Trim() : null;
    return skipped == null ? dir : null;
  }

  public static List<Probe> Probes(string dir) {
    var probes = new List<Probe>();
    foreach (string line in File.ReadAllLines(Path.Combine(dir, "ids.tsv"), Encoding.UTF8)) {
      string[] fields = line.Split('\t');
      Check.Equal(3, fields.Length, "fields of " + line);
      probes.Add(new Probe {
        Tokenizer = fields[0], Text = Hex(fields[1]),
        Ids = fields[2].Length == 0 ? new int[0] : fields[2].Split(' ').Select(int.Parse).ToArray()
      });
    }
    return probes;
  }

  public static Dictionary<string, int> VocabSizes(string dir) {
    return File.ReadAllLines(Path.Combine(dir, "vocab_sizes.tsv"))
        .Select(l => l.Split('\t')).ToDictionary(f => f[0], f => int.Parse(f[1]));
  }

  static byte[] Hex(string digits) {
    var bytes = new byte[digits.Length / 2];
    for (int i = 0; i < bytes.Length; ++i) bytes[i] = Convert.ToByte(digits.Substring(2 * i, 2), 16);
    return bytes;
  }

  /// <summary>Text with what byte-level BPE must carry exactly: accents, CJK, emoji (ZWJ, flags), NUL.</summary>
  public static string MixedText() {
    string[] pieces = { "The quick brown fox", "caf\u00e9 na\u00efve Z\u00fcrich", "\u6771\u4eac",
                        "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8", "\U0001F642", "\U0001F44D\U0001F3FD",
                        "\U0001F468\u200d\U0001F469\u200d\U0001F467", "\U0001F1EB\U0001F1F7", "I'M sure",
                        "we'll", "def f(x):\n    return x + 1\n", "   ", "\n\n", "\t", "3.14159", "\0 nul",
                        "\u00a0\u3000", "\u0440\u0443\u0441\u0441\u043a\u0438\u0439 \u044f\u0437\u044b\u043a" };
    var random = new Random(13);
    var text = new StringBuilder();
    for (int i = 0; i < 3000; ++i) text.Append(pieces[random.Next(pieces.Length)]).Append(' ');
    return text.ToString();
  }

  /// <summary>The UTF-8 of text with sequences that are not UTF-8 spliced in every few hundred bytes.</summary>
  public static byte[] WithInvalidUtf8(string text) {
    byte[][] bad = { new byte[] { 0xff }, new byte[] { 0xfe, 0xfe }, new byte[] { 0xc3, (byte)'(' },
                     new byte[] { 0xed, 0xa0, 0x80 }, new byte[] { 0xf0, 0x9f, 0x99 }, new byte[] { 0x80 },
                     new byte[] { 0xc0, 0xaf } };
    byte[] data = Encoding.UTF8.GetBytes(text);
    var out_ = new List<byte>();
    var random = new Random(13);
    for (int position = 0; position < data.Length;) {
      int step = Math.Min(100 + random.Next(500), data.Length - position);
      out_.AddRange(data.Skip(position).Take(step));
      out_.AddRange(bad[random.Next(bad.Length)]);
      position += step;
    }
    return out_.ToArray();
  }

  /// <summary>Debian's fortune files (no .dat, no .u8), sorted; empty without the package.</summary>
  public static List<string> FortuneFiles() {
    if (!Directory.Exists(Fortunes)) return new List<string>();
    return Directory.GetFiles(Fortunes)
        .Where(p => !Path.GetFileName(p).Contains(".") &&
                    (File.GetAttributes(p) & FileAttributes.ReparsePoint) == 0)
        .OrderBy(p => p, StringComparer.Ordinal).ToList();
  }

  /// <summary>Short real documents: fortunes cut at their "%" lines, or generated sentences
  /// without the package.</summary>
  public static List<string> Documents(int count) {
    var docs = new List<string>();
    foreach (string file in FortuneFiles()) {
      string text = Encoding.UTF8.GetString(File.ReadAllBytes(file)).Replace("\r\n", "\n");
      foreach (string doc in text.Split(new[] { "\n%\n" }, StringSplitOptions.None)) {
        string trimmed = doc.Trim('\n');
        if (trimmed.Trim().Length > 0) docs.Add(trimmed);
        if (docs.Count == count) return docs;
      }
    }
    var random = new Random(7);
    string[] words = "the of and to in is was for that with as on by at from his her an were".Split(' ');
    while (docs.Count < count) {
      var doc = new StringBuilder();
      for (int i = 0, n = 5 + random.Next(40); i < n; ++i)
        doc.Append(words[random.Next(words.Length)]).Append(i % 9 == 8 ? ".\n" : " ");
      docs.Add(doc.ToString().Trim());
    }
    return docs;
  }

  /// <summary>Writes each document to its own file doc0000.txt, ... under dir.</summary>
  public static List<string> WriteDocuments(string dir, IList<string> docs) {
    Directory.CreateDirectory(dir);
    var paths = new List<string>();
    for (int i = 0; i < docs.Count; ++i) {
      string path = Path.Combine(dir, string.Format("doc{0:D4}.txt", i));
      File.WriteAllBytes(path, Encoding.UTF8.GetBytes(docs[i]));
      paths.Add(path);
    }
    return paths;
  }

  /// <summary>Fails naming the first position where the arrays differ.</summary>
  public static void SameInts(int[] expected, int[] actual, string what) {
    for (int i = 0; i < Math.Min(expected.Length, actual.Length); ++i)
      if (expected[i] != actual[i])
        throw new Exception(what + ": at " + i + " expected " + expected[i] + ", got " + actual[i]);
    if (expected.Length != actual.Length)
      throw new Exception(what + ": expected " + expected.Length + " values, got " + actual.Length);
  }

  public static void SameBytes(byte[] expected, byte[] actual, string what) {
    SameInts(expected.Select(b => (int)b).ToArray(), actual.Select(b => (int)b).ToArray(), what);
  }
}
