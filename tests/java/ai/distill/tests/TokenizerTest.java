package ai.distill.tests;

import static org.junit.jupiter.api.Assertions.*;

import ai.distill.*;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * ai.distill.Tokenizer: the ids Hugging Face tokenizers gives for tokenizers it trained (GPT-2
 * and Llama 3 splits), byte-exact round trips (emoji, CJK, NUL, invalid UTF-8), encoding into a
 * caller's array, training on Debian's fortunes and reloading, lookups, and the refusals.
 */
class TokenizerTest {
  static Tokenizer trained() {
    return Tokenizer.train(List.of(TextFixtures.mixedText()), 400, TextFixtures.EOS, "<|pad|>");
  }

  @Test
  void idsEqualThoseOfHuggingFaceTokenizers() throws IOException {
    Path dir = TextFixtures.referenceDir();
    Map<String, Integer> sizes = TextFixtures.vocabSizes(dir);
    List<TextFixtures.Probe> probes = TextFixtures.probes(dir);
    assertTrue(probes.size() > 80, "probes: " + probes.size());
    for (String name : List.of("gpt2", "llama3")) {
      String path = dir.resolve(name + ".json").toString();
      try (Tokenizer fromFile = Tokenizer.fromFile(path);
           Tokenizer fromJson = Tokenizer.fromJson(Files.readString(Path.of(path)))) {
        assertEquals(sizes.get(name).intValue(), fromFile.vocabSize(), name);
        long tokens = 0, bytes = 0;
        for (TextFixtures.Probe probe : probes) {
          if (!probe.tokenizer().equals(name)) continue;
          String text = new String(probe.text(), StandardCharsets.UTF_8);
          String what = name + " on " + text.substring(0, Math.min(40, text.length()));
          assertArrayEquals(probe.ids(), fromFile.encode(probe.text()), what);
          assertArrayEquals(probe.ids(), fromFile.encode(text), what);
          assertArrayEquals(probe.ids(), fromJson.encode(text), what);
          assertEquals(text, fromFile.decode(probe.ids()), what);
          assertArrayEquals(probe.text(), fromFile.decodeBytes(probe.ids()), what);
          tokens += probe.ids().length;
          bytes += probe.text().length;
        }
        assertTrue(tokens < bytes / 2, name + ": " + tokens + " ids for " + bytes + " bytes");
      }
    }
  }

  @Test
  void roundTripsAreByteExact() {
    try (Tokenizer tokenizer = trained()) {
      String text = TextFixtures.mixedText();
      int[] ids = tokenizer.encode(text);
      assertTrue(ids.length < text.getBytes(StandardCharsets.UTF_8).length / 2, "merges were used");
      assertEquals(text, tokenizer.decode(ids));  // NUL, emoji and ZWJ sequences included
      byte[] invalid = TextFixtures.withInvalidUtf8(text);
      assertThrows(java.nio.charset.CharacterCodingException.class, () ->
          StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(invalid)));
      assertArrayEquals(invalid, tokenizer.decodeBytes(tokenizer.encode(invalid)));
      // As a String, bytes that are not UTF-8 read as U+FFFD (Python's "replace").
      assertEquals(new String(invalid, StandardCharsets.UTF_8),
          tokenizer.decode(tokenizer.encode(invalid)));
      assertEquals(0, tokenizer.encode("").length);
      assertEquals(0, tokenizer.encode(new byte[0]).length);
      assertEquals("", tokenizer.decode(new int[0]));
      // A special token inside the text is one id.
      int[] special = tokenizer.encode("a" + TextFixtures.EOS + "b");
      assertEquals(3, special.length, Arrays.toString(special));
      assertEquals(0, special[1]);
    }
  }

  @Test
  void encodeWritesIntoTheCallersArrayTheSnprintfWay() {
    try (Tokenizer tokenizer = trained()) {
      byte[] text = "\u6771\u4eac \ud83d\ude42 the quick brown fox".getBytes(StandardCharsets.UTF_8);
      int[] expected = tokenizer.encode(text);
      int[] small = new int[expected.length - 1];
      Arrays.fill(small, -7);
      assertEquals(expected.length, tokenizer.encode(text, small));
      assertTrue(Arrays.stream(small).allMatch(id -> id == -7), "a short array is left as it was");
      int[] ids = new int[2 * text.length + 1];
      long count = tokenizer.encode(text, ids);
      assertArrayEquals(expected, Arrays.copyOf(ids, (int) count));
    }
  }

  @Test
  void trainsOnFortunesAndReloads() throws IOException {
    List<String> files = new ArrayList<>();
    long bytes = 0;
    for (Path file : TextFixtures.fortuneFiles()) {
      if (bytes > 400_000) break;
      files.add(file.toString());
      bytes += Files.size(file);
    }
    Assumptions.assumeFalse(files.isEmpty(), "no fortunes in " + TextFixtures.FORTUNES);
    TokenizerTrainOptions options = new TokenizerTrainOptions();
    options.setVocabSize(600);
    options.setSplit("llama3");
    options.setSpecialTokens(List.of(TextFixtures.EOS, "<|pad|>"));
    assertEquals(List.of(TextFixtures.EOS, "<|pad|>"), options.getSpecialTokens());
    assertEquals(2, options.getMinFrequency());  // the library's default
    String saved = TempFiles.path("fortunes-tokenizer.json");
    try (Tokenizer tokenizer = Tokenizer.trainFiles(files, options);
         Tokenizer again = Tokenizer.trainFiles(files, options)) {
      assertEquals(600, tokenizer.vocabSize());
      assertEquals(OptionalInt.of(1), tokenizer.tokenToId("<|pad|>"));
      assertEquals(tokenizer.toJson(), again.toJson(), "training is deterministic");
      tokenizer.save(saved);
      try (Tokenizer loaded = Tokenizer.fromFile(saved)) {
        assertEquals(tokenizer.toJson(), loaded.toJson());
        byte[] first = Files.readAllBytes(Path.of(files.get(0)));
        int[] ids = loaded.encode(first);
        assertArrayEquals(tokenizer.encode(first), ids);
        assertArrayEquals(first, loaded.decodeBytes(ids));
        assertTrue(ids.length < 0.6 * first.length, ids.length + " ids for " + first.length + " bytes");
      }
    }
  }

  @Test
  void trainingOnFilesEqualsTrainingOnTheirTexts() {
    String mixed = TextFixtures.mixedText();
    int cut = Character.isHighSurrogate(mixed.charAt(19999)) ? 19999 : 20000;  // whole characters
    List<String> docs = List.of(mixed.substring(0, cut), "second text \ud83d\ude42",
        "caf\u00e9 \u6771\u4eac " + TextFixtures.EOS + " end");
    List<String> paths = TextFixtures.writeDocuments(Path.of(TempFiles.path("train-files")), docs);
    TokenizerTrainOptions options = new TokenizerTrainOptions();
    options.setVocabSize(320);
    options.setSpecialTokens(List.of(TextFixtures.EOS));
    try (Tokenizer files = Tokenizer.trainFiles(paths, options);
         Tokenizer texts = Tokenizer.train(docs, options)) {
      assertEquals(texts.toJson(), files.toJson());
    }
  }

  @Test
  void lookupsGiveEmptyForNoToken() {
    try (Tokenizer tokenizer = Tokenizer.train(List.of("the cat the dog the end ".repeat(10)), 270, "<s>")) {
      assertEquals(OptionalInt.of(0), tokenizer.tokenToId("<s>"));
      assertEquals(Optional.of("<s>"), tokenizer.idToToken(0));
      OptionalInt the = tokenizer.tokenToId("\u0120the");  // " the" in the byte-level alphabet
      assertTrue(the.isPresent());
      assertEquals(Optional.of("\u0120the"), tokenizer.idToToken(the.getAsInt()));
      assertEquals(" the", tokenizer.decode(new int[] {the.getAsInt()}));
      assertEquals(OptionalInt.empty(), tokenizer.tokenToId("no such token"));
      assertEquals(Optional.empty(), tokenizer.idToToken(100000));
      assertEquals(Optional.empty(), tokenizer.idToToken(-1));
      DistillException e = assertThrows(DistillException.class,
          () -> tokenizer.decode(new int[] {1, 100000}));
      assertEquals(DistillException.INVALID_ARGUMENT, e.status());
      assertEquals("INVALID_ARGUMENT: ids[1]: expected a token id in [0, " + tokenizer.vocabSize()
          + "), got 100000", e.getMessage());
    }
  }

  @Test
  void fourThreadsEncodeWithOneTokenizer() throws Exception {
    try (Tokenizer tokenizer = trained()) {
      String text = TextFixtures.mixedText();
      int[] expected = tokenizer.encode(text);
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
      try {
        List<java.util.concurrent.Future<Boolean>> results = new ArrayList<>();
        for (int t = 0; t < 4; ++t)
          results.add(pool.submit(() -> {
            for (int i = 0; i < 20; ++i)
              if (!Arrays.equals(expected, tokenizer.encode(text)) || !text.equals(tokenizer.decode(expected)))
                return false;
            return true;
          }));
        for (var result : results) assertTrue(result.get(), "the same ids on every thread");
      } finally {
        pool.shutdown();
      }
    }
  }

  static DistillException refusedJson(String json) {
    return assertThrows(DistillException.class, () -> Tokenizer.fromJson(json));
  }

  @Test
  void otherFilesAndBadArgumentsAreRefused() throws IOException {
    // A WordPiece tokenizer.json, by name (tokenizers' own when the reference has one).
    String dir = System.getenv("DISTILL_TOKENIZER_REFERENCE_DIR");
    Path wordpiece = dir == null ? null : Path.of(dir, "wordpiece.json");
    String json = wordpiece != null && Files.exists(wordpiece) ? Files.readString(wordpiece)
        : "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}, \"unk_token\": \"[UNK]\"}}";
    DistillException e = refusedJson(json);
    assertEquals(DistillException.UNSUPPORTED, e.status());
    assertTrue(e.getMessage().contains("model type WordPiece is not supported: expected BPE"), e.getMessage());
    e = refusedJson("{\"model\": {");
    assertEquals(DistillException.INVALID_ARGUMENT, e.status());
    assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());

    String missing = TempFiles.path("no/such/tokenizer.json");
    NotFoundException notFound = assertThrows(NotFoundException.class, () -> Tokenizer.fromFile(missing));
    assertEquals(DistillException.NOT_FOUND, notFound.status());
    assertTrue(notFound.getMessage().contains(missing), notFound.getMessage());
    TokenizerTrainOptions options = new TokenizerTrainOptions();
    options.setVocabSize(300);
    notFound = assertThrows(NotFoundException.class, () -> Tokenizer.trainFiles(List.of(missing), options));
    assertTrue(notFound.getMessage().contains(missing), notFound.getMessage());
    FileIOException directory = assertThrows(FileIOException.class,
        () -> Tokenizer.trainFiles(List.of(TempFiles.path("")), options));
    assertTrue(directory.getMessage().contains("directory"), directory.getMessage());

    e = assertThrows(DistillException.class, () -> Tokenizer.train(List.of("abc"), 10));
    assertEquals(DistillException.INVALID_ARGUMENT, e.status());
    assertTrue(e.getMessage().contains("vocab_size: expected at least 256"), e.getMessage());
    e = assertThrows(DistillException.class, () -> Tokenizer.train(List.of("abc"), (TokenizerTrainOptions) null));
    assertTrue(e.getMessage().startsWith("options: expected an open object"), e.getMessage());
    assertThrows(DistillException.class, () -> Tokenizer.train(null, 300));
  }

  @Test
  void nullClosedAndUnencodableArgumentsAreRefused() {
    Tokenizer tokenizer = trained();
    DistillException e = assertThrows(DistillException.class, () -> tokenizer.encode((String) null));
    assertEquals("text: expected a String, got null", e.getMessage());
    e = assertThrows(DistillException.class, () -> tokenizer.encode((byte[]) null));
    assertEquals(DistillException.INVALID_ARGUMENT, e.status());
    assertEquals("text: expected an array, got null", e.getMessage());
    e = assertThrows(DistillException.class, () -> tokenizer.encode(new byte[3], null));
    assertEquals("ids: expected an array, got null", e.getMessage());
    e = assertThrows(DistillException.class, () -> tokenizer.decodeBytes(null));
    assertEquals("ids: expected an array, got null", e.getMessage());
    e = assertThrows(DistillException.class, () -> tokenizer.encode("lone \ud83d surrogate"));
    assertEquals(DistillException.INVALID_ARGUMENT, e.status());
    assertTrue(e.getMessage().contains("lone surrogate"), e.getMessage());
    tokenizer.close();
    tokenizer.close();
    e = assertThrows(DistillException.class, () -> tokenizer.encode("text"));
    assertEquals(DistillException.INVALID_ARGUMENT, e.status());
    assertEquals("Tokenizer: used after close()", e.getMessage());
    assertThrows(DistillException.class, tokenizer::vocabSize);
  }
}
