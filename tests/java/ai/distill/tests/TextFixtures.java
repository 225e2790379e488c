package ai.distill.tests;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * Text for the tokenizer, token dataset and HF folder tests: the reference ids Hugging Face
 * tokenizers gave (tests/lm/make_tokenizer_ids_reference.py, run by CTest as a fixture), Debian's
 * fortunes, and mixed text with emoji, CJK and invalid UTF-8.
 */
final class TextFixtures {
  static final String EOS = "<|endoftext|>";
  static final Path FORTUNES = Path.of("/usr/share/games/fortunes");

  private TextFixtures() {}

  /** One probe: a tokenizer's name, the text's UTF-8 bytes and the ids tokenizers gave. */
  record Probe(String tokenizer, byte[] text, int[] ids) {}

  /** The reference directory; the test is skipped when the reference was (no tokenizers). */
  static Path referenceDir() throws IOException {
    String dir = System.getenv("DISTILL_TOKENIZER_REFERENCE_DIR");
    assertNotNull(dir, "DISTILL_TOKENIZER_REFERENCE_DIR is not set (CTest sets it)");
    Path skipped = Path.of(dir, "SKIPPED");
    Assumptions.assumeFalse(Files.exists(skipped),
        () -> "reference skipped: " + read(skipped).strip());
    return Path.of(dir);
  }

  static List<Probe> probes(Path dir) throws IOException {
    List<Probe> probes = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("ids.tsv"), StandardCharsets.UTF_8)) {
      String[] fields = line.split("\t", -1);
      assertEquals(3, fields.length, line);
      String[] ids = fields[2].isEmpty() ? new String[0] : fields[2].split(" ");
      int[] values = new int[ids.length];
      for (int i = 0; i < ids.length; ++i) values[i] = Integer.parseInt(ids[i]);
      probes.add(new Probe(fields[0], hex(fields[1]), values));
    }
    return probes;
  }

  static Map<String, Integer> vocabSizes(Path dir) throws IOException {
    Map<String, Integer> sizes = new HashMap<>();
    for (String line : Files.readAllLines(dir.resolve("vocab_sizes.tsv"))) {
      String[] fields = line.split("\t");
      sizes.put(fields[0], Integer.parseInt(fields[1]));
    }
    return sizes;
  }

  static byte[] hex(String digits) {
    byte[] out = new byte[digits.length() / 2];
    for (int i = 0; i < out.length; ++i)
      out[i] = (byte) Integer.parseInt(digits.substring(2 * i, 2 * i + 2), 16);
    return out;
  }

  /** Text with what byte-level BPE must carry exactly: accents, CJK, emoji (ZWJ, flags), NUL. */
  static String mixedText() {
    String[] pieces = {"The quick brown fox", "caf\u00e9 na\u00efve Z\u00fcrich", "\u6771\u4eac",
        "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8", "\ud83d\ude42", "\ud83d\udc4d\ud83c\udffd",
        "\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67", "\ud83c\uddeb\ud83c\uddf7", "I'M sure",
        "we'll", "def f(x):\n    return x + 1\n", "   ", "\n\n", "\t", "3.14159", "\u0000 nul",
        "\u00a0\u3000", "\u0440\u0443\u0441\u0441\u043a\u0438\u0439 \u044f\u0437\u044b\u043a"};
    StringBuilder text = new StringBuilder();
    java.util.Random random = new java.util.Random(13);
    for (int i = 0; i < 3000; ++i) text.append(pieces[random.nextInt(pieces.length)]).append(' ');
    return text.toString();
  }

  /** The UTF-8 of text with sequences that are not UTF-8 spliced in every few hundred bytes. */
  static byte[] withInvalidUtf8(String text) {
    byte[][] bad = {{(byte) 0xff}, {(byte) 0xfe, (byte) 0xfe}, {(byte) 0xc3, '('},
        {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, {(byte) 0xf0, (byte) 0x9f, (byte) 0x99},
        {(byte) 0x80}, {(byte) 0xc0, (byte) 0xaf}};
    byte[] data = text.getBytes(StandardCharsets.UTF_8);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.util.Random random = new java.util.Random(13);
    for (int position = 0; position < data.length; ) {
      int step = Math.min(100 + random.nextInt(500), data.length - position);
      out.write(data, position, step);
      out.writeBytes(bad[random.nextInt(bad.length)]);
      position += step;
    }
    return out.toByteArray();
  }

  /** Debian's fortune files (no .dat, no .u8), largest first; empty without the package. */
  static List<Path> fortuneFiles() throws IOException {
    List<Path> files = new ArrayList<>();
    if (!Files.isDirectory(FORTUNES)) return files;
    try (var paths = Files.list(FORTUNES)) {
      paths.filter(p -> !p.getFileName().toString().contains(".") && Files.isRegularFile(p)
                   && !Files.isSymbolicLink(p))
          .sorted()
          .forEach(files::add);
    }
    return files;
  }

  /**
   * Short real documents: fortunes cut at their "%" lines (read as UTF-8, bytes that are not
   * read as U+FFFD), or generated sentences without the package.
   */
  static List<String> documents(int count) throws IOException {
    List<String> docs = new ArrayList<>();
    for (Path file : fortuneFiles()) {
      String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).replace("\r\n", "\n");
      for (String doc : text.split("\n%\n")) {
        String trimmed = doc.replaceAll("^\n+|\n+$", "");
        if (!trimmed.isBlank()) docs.add(trimmed);
        if (docs.size() == count) return docs;
      }
    }
    java.util.Random random = new java.util.Random(7);
    String[] words = "the of and to in is was for that with as on by at from his her an were".split(" ");
    while (docs.size() < count) {
      StringBuilder doc = new StringBuilder();
      for (int i = 0, n = 5 + random.nextInt(40); i < n; ++i)
        doc.append(words[random.nextInt(words.length)]).append(i % 9 == 8 ? ".\n" : " ");
      docs.add(doc.toString().strip());
    }
    return docs;
  }

  /** Writes each document to its own file doc0000.txt, ... under dir. */
  static List<String> writeDocuments(Path dir, List<String> docs) {
    try {
      Files.createDirectories(dir);
      List<String> paths = new ArrayList<>();
      for (int i = 0; i < docs.size(); ++i) {
        Path path = dir.resolve(String.format("doc%04d.txt", i));
        Files.write(path, docs.get(i).getBytes(StandardCharsets.UTF_8));
        paths.add(path.toString());
      }
      return paths;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String read(Path path) {
    try {
      return Files.readString(path);
    } catch (IOException e) {
      return "(" + e + ")";
    }
  }
}
