package ai.distill.tests;

import static org.junit.jupiter.api.Assertions.*;

import ai.distill.*;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TextDataset.tokenizeFiles and TextDataset on fortunes (one document a file): every window holds
 * the ids of each document encoded alone followed by the end-of-document id, the split is by
 * whole documents, windows and batches land in the caller's arrays, progress is reported and can
 * cancel, and the refusals.
 */
class TextDatasetTest {
  static final int CONTEXT = 32;
  static List<String> docs;
  static Tokenizer tokenizer;

  @BeforeAll
  static void corpus() throws IOException {
    docs = TextFixtures.documents(150);
    tokenizer = Tokenizer.train(docs, 700, TextFixtures.EOS, "<|pad|>");
  }

  /** The ids of each document encoded alone, each followed by the end-of-document id. */
  static List<Integer> stream(List<String> documents) {
    int eos = tokenizer.tokenToId(TextFixtures.EOS).getAsInt();
    List<Integer> out = new ArrayList<>();
    for (String doc : documents) {
      for (int id : tokenizer.encode(doc)) out.add(id);
      out.add(eos);
    }
    return out;
  }

  /** A split's windows laid end to end (consecutive windows share one id). */
  static List<Integer> served(TextDataset dataset, Split split) {
    List<Integer> out = new ArrayList<>();
    int[] window = new int[dataset.context() + 1];
    for (long i = 0; i < dataset.windows(split); ++i) {
      dataset.window(split, i, window);
      if (!out.isEmpty()) assertEquals(out.get(out.size() - 1).intValue(), window[0]);
      for (int k = out.isEmpty() ? 0 : 1; k < window.length; ++k) out.add(window[k]);
    }
    return out;
  }

  static int[] ints(List<Integer> values) {
    return values.stream().mapToInt(Integer::intValue).toArray();
  }

  @Test
  void windowsAreEachDocumentEncodedAlone() throws Exception {
    List<String> paths = TextFixtures.writeDocuments(Path.of(TempFiles.path("windows")), docs);
    String out = TempFiles.path("windows.tokens");
    TokenizeSummary summary = TextDataset.tokenizeFiles(tokenizer, paths, out, CONTEXT);
    List<Integer> stream = stream(docs);
    assertEquals(docs.size(), summary.getTrainDocuments());
    assertEquals(0, summary.getValidationDocuments());
    assertEquals(stream.size(), summary.getTrainTokens());
    assertEquals((stream.size() - 1) / CONTEXT, summary.getTrainWindows());
    assertEquals(2, summary.getTokenBytes());
    assertEquals(Files.size(Path.of(out)), summary.getFileBytes());
    try (TextDataset dataset = new TextDataset(out)) {
      TextDatasetInfo info = dataset.info();
      assertEquals(CONTEXT, info.getContext());
      assertEquals(CONTEXT, dataset.context());
      assertEquals(tokenizer.vocabSize(), info.getVocabSize());
      assertEquals(tokenizer.tokenToId(TextFixtures.EOS).getAsInt(), info.getEosId());
      assertEquals(summary.getTrainWindows(), info.getTrainWindows());
      assertEquals(summary.getTrainWindows(), dataset.windows(Split.TRAIN));
      assertEquals(0, dataset.windows(Split.VALIDATION));
      byte[] sha = MessageDigest.getInstance("SHA-256")
          .digest(tokenizer.toJson().getBytes(StandardCharsets.UTF_8));
      assertEquals(HexFormat.of().formatHex(sha), info.getTokenizerSha256());
      dataset.checkTokenizer(tokenizer);
      dataset.checkModel(tokenizer.vocabSize(), CONTEXT);

      List<Integer> got = served(dataset, Split.TRAIN);
      assertEquals(info.getTrainWindows() * CONTEXT + 1, got.size());
      assertEquals(stream.subList(0, got.size()), got);
      int[] three = ints(stream.subList(3 * CONTEXT, 4 * CONTEXT + 1));
      assertArrayEquals(three, dataset.window(Split.TRAIN, 3));
      // A window equals the tokenizer's ids of its document's text.
      int[] first = tokenizer.encode(docs.get(0));
      int shared = Math.min(first.length, CONTEXT + 1);
      assertArrayEquals(Arrays.copyOf(first, shared), Arrays.copyOf(dataset.window(Split.TRAIN, 0), shared));

      long[] windows = {0, 5, 2};
      int[] tokens = new int[windows.length * CONTEXT];
      int[] targets = new int[windows.length * CONTEXT];
      dataset.batch(Split.TRAIN, windows, tokens, targets);
      for (int b = 0; b < windows.length; ++b) {
        int[] window = dataset.window(Split.TRAIN, windows[b]);
        assertArrayEquals(Arrays.copyOfRange(window, 0, CONTEXT),
            Arrays.copyOfRange(tokens, b * CONTEXT, (b + 1) * CONTEXT));
        assertArrayEquals(Arrays.copyOfRange(window, 1, CONTEXT + 1),
            Arrays.copyOfRange(targets, b * CONTEXT, (b + 1) * CONTEXT));
      }

      long[] order = dataset.shuffledWindows(Split.TRAIN, 11);
      long[] sorted = order.clone();
      Arrays.sort(sorted);
      for (int i = 0; i < sorted.length; ++i) assertEquals(i, sorted[i]);
      assertArrayEquals(order, dataset.shuffledWindows(Split.TRAIN, 11));
      assertFalse(Arrays.equals(order, dataset.shuffledWindows(Split.TRAIN, 12)));
    }
  }

  @Test
  void theValidationSplitTakesWholeDocumentsInCorpusOrder() {
    List<String> chosen = docs.subList(0, 100);
    List<String> paths = TextFixtures.writeDocuments(Path.of(TempFiles.path("split")), chosen);
    String out = TempFiles.path("split.tokens");
    TokenizeOptions options = new TokenizeOptions();
    options.setContext(8);
    options.setValidationFraction(0.2);
    options.setSeed(7);
    TokenizeSummary summary = TextDataset.tokenizeFiles(tokenizer, paths, out, options, null);
    assertEquals(80, summary.getTrainDocuments());
    assertEquals(20, summary.getValidationDocuments());
    assertEquals(stream(chosen).size(), summary.getTrainTokens() + summary.getValidationTokens());
    List<Integer> train, validation;
    try (TextDataset dataset = new TextDataset(out)) {
      train = served(dataset, Split.TRAIN);
      validation = served(dataset, Split.VALIDATION);
    }
    // Walk the documents in order: each goes wholly to one split, in order.
    int t = 0, v = 0, inValidation = 0;
    for (String doc : chosen) {
      List<Integer> ids = stream(List.of(doc));
      if (t < train.size() && prefixMatches(train, t, ids)) {
        t += ids.size();
      } else {
        assertTrue(prefixMatches(validation, v, ids), "document in neither split");
        v += ids.size();
        ++inValidation;
      }
    }
    assertTrue(t >= train.size() && v >= validation.size());
    assertTrue(inValidation >= 19, "validation documents found: " + inValidation);
  }

  /** Whether ids agrees with served[at, ...) as far as served goes. */
  static boolean prefixMatches(List<Integer> served, int at, List<Integer> ids) {
    for (int k = 0; k < ids.size() && at + k < served.size(); ++k)
      if (!served.get(at + k).equals(ids.get(k))) return false;
    return true;
  }

  @Test
  void progressIsReportedAndCanCancel() {
    List<String> paths = TextFixtures.writeDocuments(Path.of(TempFiles.path("progress")), docs.subList(0, 40));
    String out = TempFiles.path("progress.tokens");
    TokenizeOptions options = new TokenizeOptions();
    options.setContext(4);
    options.setProgressIntervalSeconds(0);
    List<TokenizeProgress> reports = new ArrayList<>();
    TextDataset.tokenizeFiles(tokenizer, paths, out, options, progress -> reports.add(progress));
    assertFalse(reports.isEmpty());
    TokenizeProgress last = reports.get(reports.size() - 1);
    assertTrue(last.getWriting(), "the last report is the writing one");
    assertEquals(40, last.getFilesTotal());
    assertEquals(40, last.getDocuments());

    String cancelled = TempFiles.path("cancelled.tokens");
    DistillException e = assertThrows(DistillException.class,
        () -> TextDataset.tokenizeFiles(tokenizer, paths, cancelled, options, progress -> false));
    assertEquals(DistillException.CANCELLED, e.status());
    assertFalse(Files.exists(Path.of(cancelled)), "nothing written");
    IllegalStateException thrown = new IllegalStateException("listener failed");
    e = assertThrows(DistillException.class,
        () -> TextDataset.tokenizeFiles(tokenizer, paths, cancelled, options, progress -> { throw thrown; }));
    assertEquals(DistillException.CANCELLED, e.status());
    assertSame(thrown, e.getCause());
    assertFalse(Files.exists(Path.of(cancelled)));
  }

  @Test
  void badArgumentsMissingAndDamagedFilesAreRefused() throws IOException {
    List<String> paths = TextFixtures.writeDocuments(Path.of(TempFiles.path("refusals")), docs.subList(0, 10));
    String out = TempFiles.path("refusals.tokens");
    String absent = TempFiles.path("absent.txt");
    NotFoundException missing = assertThrows(NotFoundException.class,
        () -> TextDataset.tokenizeFiles(tokenizer, List.of(absent), out, 4));
    assertTrue(missing.getMessage().contains(absent), missing.getMessage());
    TokenizeOptions options = new TokenizeOptions();
    options.setContext(4);
    options.setEosToken("<none>");
    DistillException e = assertThrows(DistillException.class,
        () -> TextDataset.tokenizeFiles(tokenizer, paths, out, options, null));
    assertEquals(DistillException.INVALID_ARGUMENT, e.status());
    assertTrue(e.getMessage().contains("<none>"), e.getMessage());
    e = assertThrows(DistillException.class, () -> TextDataset.tokenizeFiles(tokenizer, paths, out, 0));
    assertEquals(DistillException.INVALID_ARGUMENT, e.status());
    e = assertThrows(DistillException.class, () -> TextDataset.tokenizeFiles(null, paths, out, 4));
    assertEquals("tokenizer: expected an open object, got null or a closed one", e.getMessage());
    assertFalse(Files.exists(Path.of(out)));

    TextDataset.tokenizeFiles(tokenizer, paths, out, 4);
    try (TextDataset dataset = new TextDataset(out)) {
      e = assertThrows(DistillException.class, () -> dataset.window(Split.TRAIN, 0, new int[4]));
      assertEquals(DistillException.INVALID_ARGUMENT, e.status());
      assertEquals("out: expected length 5, got 4", e.getMessage());
      e = assertThrows(DistillException.class, () -> dataset.window(Split.TRAIN, 0, null));
      assertEquals("out: expected an array, got null", e.getMessage());
      e = assertThrows(DistillException.class,
          () -> dataset.window(Split.TRAIN, dataset.windows(Split.TRAIN)));
      assertEquals(DistillException.INVALID_ARGUMENT, e.status());
      e = assertThrows(DistillException.class,
          () -> dataset.batch(Split.TRAIN, new long[] {0, 1}, new int[8], new int[7]));
      assertEquals("targets: expected length 8, got 7", e.getMessage());
      e = assertThrows(DistillException.class,
          () -> dataset.batch(Split.TRAIN, new long[] {0, -1}, new int[8], new int[8]));
      assertEquals(DistillException.INVALID_ARGUMENT, e.status());
      try (Tokenizer other = Tokenizer.train(docs.subList(0, 20), 300, TextFixtures.EOS)) {
        e = assertThrows(DistillException.class, () -> dataset.checkTokenizer(other));
        assertEquals(DistillException.INVALID_ARGUMENT, e.status());
        e = assertThrows(DistillException.class, () -> dataset.checkModel(300, 4));
        assertEquals(DistillException.INVALID_ARGUMENT, e.status());
      }
    }
    TextDataset closed = new TextDataset(out);
    closed.close();
    e = assertThrows(DistillException.class, () -> closed.window(Split.TRAIN, 0));
    assertEquals("TextDataset: used after close()", e.getMessage());

    NotFoundException notFound = assertThrows(NotFoundException.class,
        () -> new TextDataset(TempFiles.path("absent.tokens")));
    assertTrue(notFound.getMessage().contains("absent.tokens"), notFound.getMessage());
    Path notes = Path.of(TempFiles.path("notes.tokens"));
    Files.writeString(notes, "these are notes, not a token dataset\n");
    assertThrows(CorruptFileException.class, () -> new TextDataset(notes.toString()));
    byte[] whole = Files.readAllBytes(Path.of(out));
    Path truncated = Path.of(TempFiles.path("truncated.tokens"));
    Files.write(truncated, Arrays.copyOf(whole, whole.length - 3));
    assertThrows(CorruptFileException.class, () -> new TextDataset(truncated.toString()));
  }
}
