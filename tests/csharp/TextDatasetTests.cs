// TextDatasetTests.cs — TextDataset.TokenizeFiles and TextDataset on
// fortunes (one document a file): windows hold each document encoded alone
// then the end-of-document id, the split takes whole documents, windows and
// batches land in the caller's arrays, progress is reported and can cancel,
// and the refusals.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Distill;

static class TextDatasetTests {
  const int Context = 32;
  static readonly List<string> docs = TextFixtures.Documents(150);
  static readonly Tokenizer tokenizer = Tokenizer.Train(docs, 700, TextFixtures.Eos, "<|pad|>");

  static List<int> Stream(IEnumerable<string> documents) {
    int eos = tokenizer.TokenToId(TextFixtures.Eos).Value;
    var out_ = new List<int>();
    foreach (string doc in documents) {
      out_.AddRange(tokenizer.Encode(doc));
      out_.Add(eos);
    }
    return out_;
  }

  static List<int> Served(TextDataset dataset, Split split) {
    var out_ = new List<int>();
    var window = new int[dataset.Context + 1];
    for (long i = 0; i < dataset.Windows(split); ++i) {
      dataset.Window(split, i, window);
      if (out_.Count > 0) Check.Equal(out_[out_.Count - 1], window[0], "consecutive windows share one id");
      out_.AddRange(window.Skip(out_.Count == 0 ? 0 : 1));
    }
    return out_;
  }

  public static void TestWindowsAreEachDocumentEncodedAlone() {
    var paths = TextFixtures.WriteDocuments(TempFiles.Path("windows"), docs);
    string out_ = TempFiles.Path("windows.tokens");
    var summary = TextDataset.TokenizeFiles(tokenizer, paths, out_, Context);
    var stream = Stream(docs);
    Check.Equal((long)docs.Count, summary.TrainDocuments, "train documents");
    Check.Equal(0L, summary.ValidationDocuments, "validation documents");
    Check.Equal((long)stream.Count, summary.TrainTokens, "train tokens");
    Check.Equal((long)(stream.Count - 1) / Context, summary.TrainWindows, "train windows");
    Check.Equal(2, summary.TokenBytes, "token bytes");
    Check.Equal(new FileInfo(out_).Length, summary.FileBytes, "file bytes");
    using (var dataset = new TextDataset(out_)) {
      var info = dataset.Info;
      Check.Equal(Context, info.Context, "context");
      Check.Equal(tokenizer.VocabSize, info.VocabSize, "vocab size");
      Check.Equal(tokenizer.TokenToId(TextFixtures.Eos).Value, info.EosId, "eos id");
      Check.Equal(summary.TrainWindows, dataset.Windows(Split.Train), "windows");
      Check.Equal(0L, dataset.Windows(Split.Validation), "no validation windows");
      byte[] sha = System.Security.Cryptography.SHA256.Create().ComputeHash(Encoding.UTF8.GetBytes(tokenizer.ToJson()));
      Check.Equal(BitConverter.ToString(sha).Replace("-", "").ToLowerInvariant(), info.TokenizerSha256, "tokenizer hash");
      dataset.CheckTokenizer(tokenizer);
      dataset.CheckModel(tokenizer.VocabSize, Context);

      var got = Served(dataset, Split.Train);
      Check.Equal((int)info.TrainWindows * Context + 1, got.Count, "ids served");
      TextFixtures.SameInts(stream.Take(got.Count).ToArray(), got.ToArray(), "windows end to end");
      TextFixtures.SameInts(stream.Skip(3 * Context).Take(Context + 1).ToArray(), dataset.Window(Split.Train, 3), "window 3");
      int[] first = tokenizer.Encode(docs[0]);
      int shared = Math.Min(first.Length, Context + 1);
      TextFixtures.SameInts(first.Take(shared).ToArray(), dataset.Window(Split.Train, 0).Take(shared).ToArray(),
                            "window 0 is document 0's ids");

      long[] windows = { 0, 5, 2 };
      var tokens = new int[windows.Length * Context];
      var targets = new int[windows.Length * Context];
      dataset.Batch(Split.Train, windows, tokens, targets);
      for (int b = 0; b < windows.Length; ++b) {
        int[] window = dataset.Window(Split.Train, windows[b]);
        TextFixtures.SameInts(window.Take(Context).ToArray(), tokens.Skip(b * Context).Take(Context).ToArray(), "tokens " + b);
        TextFixtures.SameInts(window.Skip(1).ToArray(), targets.Skip(b * Context).Take(Context).ToArray(), "targets " + b);
      }

      long[] order = dataset.ShuffledWindows(Split.Train, 11);
      Check.True(order.OrderBy(i => i).SequenceEqual(Enumerable.Range(0, order.Length).Select(i => (long)i)), "a permutation");
      Check.True(order.SequenceEqual(dataset.ShuffledWindows(Split.Train, 11)), "fixed by the seed");
      Check.True(!order.SequenceEqual(dataset.ShuffledWindows(Split.Train, 12)), "another seed, another order");
    }
  }

  static bool PrefixMatches(List<int> served, int at, List<int> ids) {
    for (int k = 0; k < ids.Count && at + k < served.Count; ++k)
      if (served[at + k] != ids[k]) return false;
    return true;
  }

  public static void TestTheValidationSplitTakesWholeDocumentsInCorpusOrder() {
    var chosen = docs.Take(100).ToList();
    var paths = TextFixtures.WriteDocuments(TempFiles.Path("split"), chosen);
    string out_ = TempFiles.Path("split.tokens");
    var options = new TokenizeOptions { Context = 8, ValidationFraction = 0.2, Seed = 7 };
    var summary = TextDataset.TokenizeFiles(tokenizer, paths, out_, options);
    Check.Equal(80L, summary.TrainDocuments, "train documents");
    Check.Equal(20L, summary.ValidationDocuments, "validation documents");
    Check.Equal((long)Stream(chosen).Count, summary.TrainTokens + summary.ValidationTokens, "tokens");
    List<int> train, validation;
    using (var dataset = new TextDataset(out_)) {
      train = Served(dataset, Split.Train);
      validation = Served(dataset, Split.Validation);
    }
    int t = 0, v = 0, inValidation = 0;
    foreach (string doc in chosen) {
      var ids = Stream(new[] { doc });
      if (t < train.Count && PrefixMatches(train, t, ids)) {
        t += ids.Count;
      } else {
        Check.True(PrefixMatches(validation, v, ids), "document in one split");
        v += ids.Count;
        ++inValidation;
      }
    }
    Check.True(t >= train.Count && v >= validation.Count, "every id accounted for");
    Check.True(inValidation >= 19, "validation documents found: " + inValidation);
  }

  public static void TestProgressIsReportedAndCanCancel() {
    var paths = TextFixtures.WriteDocuments(TempFiles.Path("progress"), docs.Take(40).ToList());
    var options = new TokenizeOptions { Context = 4, ProgressIntervalSeconds = 0 };
    var reports = new List<TokenizeProgress>();
    TextDataset.TokenizeFiles(tokenizer, paths, TempFiles.Path("progress.tokens"), options,
                              p => { reports.Add(p); return true; });
    Check.True(reports.Count > 0, "reports");
    var last = reports[reports.Count - 1];
    Check.True(last.Writing, "the last report is the writing one");
    Check.Equal(40L, last.FilesTotal, "files");
    Check.Equal(40L, last.Documents, "documents");

    string cancelled = TempFiles.Path("cancelled.tokens");
    var e = Check.Throws<DistillException>(
        () => TextDataset.TokenizeFiles(tokenizer, paths, cancelled, options, p => false), "cancelled");
    Check.Equal(Status.Cancelled, e.Status, "status");
    Check.True(!File.Exists(cancelled), "nothing written");
    var thrown = new InvalidOperationException("listener failed");
    e = Check.Throws<DistillException>(
        () => TextDataset.TokenizeFiles(tokenizer, paths, cancelled, options, p => { throw thrown; }), "thrown");
    Check.Equal(Status.Cancelled, e.Status, "status");
    Check.True(ReferenceEquals(thrown, e.InnerException), "the listener's exception inside: " + e.InnerException);
    Check.True(!File.Exists(cancelled), "nothing written");
  }

  public static void TestBadArgumentsMissingAndDamagedFilesAreRefused() {
    var paths = TextFixtures.WriteDocuments(TempFiles.Path("refusals"), docs.Take(10).ToList());
    string out_ = TempFiles.Path("refusals.tokens");
    string absent = TempFiles.Path("absent.txt");
    var missing = Check.Throws<NotFoundException>(
        () => TextDataset.TokenizeFiles(tokenizer, new[] { absent }, out_, 4), "a missing input");
    Check.True(missing.Message.Contains(absent), "message: " + missing.Message);
    var e = Check.Throws<DistillException>(() => TextDataset.TokenizeFiles(
        tokenizer, paths, out_, new TokenizeOptions { Context = 4, EosToken = "<none>" }), "no such eos token");
    Check.Equal(Status.InvalidArgument, e.Status, "status");
    Check.True(e.Message.Contains("<none>"), "message: " + e.Message);
    e = Check.Throws<DistillException>(() => TextDataset.TokenizeFiles(tokenizer, paths, out_, 0), "context 0");
    Check.Equal(Status.InvalidArgument, e.Status, "status");
    e = Check.Throws<DistillException>(() => TextDataset.TokenizeFiles(null, paths, out_, 4), "no tokenizer");
    Check.Equal("tokenizer: expected an open object, got null or a closed one", e.Message, "message");
    Check.True(!File.Exists(out_), "nothing written");

    TextDataset.TokenizeFiles(tokenizer, paths, out_, 4);
    using (var dataset = new TextDataset(out_)) {
      e = Check.Throws<DistillException>(() => dataset.Window(Split.Train, 0, new int[4]), "a short array");
      Check.Equal("out: expected length 5, got 4", e.Message, "message");
      e = Check.Throws<DistillException>(() => dataset.Window(Split.Train, 0, null), "no array");
      Check.Equal("out: expected an array, got null", e.Message, "message");
      e = Check.Throws<DistillException>(() => dataset.Window(Split.Train, dataset.Windows(Split.Train)), "past the end");
      Check.Equal(Status.InvalidArgument, e.Status, "status");
      e = Check.Throws<DistillException>(() => dataset.Batch(Split.Train, new long[] { 0, 1 }, new int[8], new int[7]), "short targets");
      Check.Equal("targets: expected length 8, got 7", e.Message, "message");
      e = Check.Throws<DistillException>(() => dataset.Batch(Split.Train, new long[] { 0, -1 }, new int[8], new int[8]), "a bad index");
      Check.Equal(Status.InvalidArgument, e.Status, "status");
      using (var other = Tokenizer.Train(docs.Take(20), 300, TextFixtures.Eos)) {
        e = Check.Throws<DistillException>(() => dataset.CheckTokenizer(other), "another tokenizer");
        Check.Equal(Status.InvalidArgument, e.Status, "status");
        e = Check.Throws<DistillException>(() => dataset.CheckModel(300, 4), "a small model");
        Check.Equal(Status.InvalidArgument, e.Status, "status");
      }
    }
    var disposed = new TextDataset(out_);
    disposed.Dispose();
    e = Check.Throws<DistillException>(() => disposed.Window(Split.Train, 0), "disposed");
    Check.Equal("TextDataset: used after Dispose()", e.Message, "message");

    var notFound = Check.Throws<NotFoundException>(() => new TextDataset(TempFiles.Path("absent.tokens")), "a missing dataset");
    Check.True(notFound.Message.Contains("absent.tokens"), "message: " + notFound.Message);
    string notes = TempFiles.Path("notes.tokens");
    File.WriteAllText(notes, "these are notes, not a token dataset\n");
    Check.Throws<CorruptFileException>(() => new TextDataset(notes), "a text file");
    byte[] whole = File.ReadAllBytes(out_);
    string truncated = TempFiles.Path("truncated.tokens");
    File.WriteAllBytes(truncated, whole.Take(whole.Length - 3).ToArray());
    Check.Throws<CorruptFileException>(() => new TextDataset(truncated), "a truncated dataset");
  }
}
