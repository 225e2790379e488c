// TokenizerTests.cs — Distill.Tokenizer: the ids Hugging Face tokenizers
// gives for tokenizers it trained (GPT-2 and Llama 3 splits), byte-exact
// round trips (emoji, CJK, NUL, invalid UTF-8), encoding into a caller's
// array, training on Debian's fortunes and reloading, lookups, refusals.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Distill;

static class TokenizerTests {
  public static Tokenizer Trained() {
    return Tokenizer.Train(new[] { TextFixtures.MixedText() }, 400, TextFixtures.Eos, "<|pad|>");
  }

  public static void TestIdsEqualThoseOfHuggingFaceTokenizers() {
    string skipped;
    string dir = TextFixtures.ReferenceDir(out skipped);
    if (dir == null) {
      Console.WriteLine("        reference skipped: " + skipped);
      return;
    }
    var sizes = TextFixtures.VocabSizes(dir);
    var probes = TextFixtures.Probes(dir);
    Check.True(probes.Count > 80, "probes: " + probes.Count);
    foreach (string name in new[] { "gpt2", "llama3" }) {
      string path = Path.Combine(dir, name + ".json");
      using (var fromFile = Tokenizer.FromFile(path))
      using (var fromJson = Tokenizer.FromJson(File.ReadAllText(path, Encoding.UTF8))) {
        Check.Equal(sizes[name], fromFile.VocabSize, name + " vocab size");
        long tokens = 0, bytes = 0;
        foreach (var probe in probes.Where(p => p.Tokenizer == name)) {
          string text = Encoding.UTF8.GetString(probe.Text);
          string what = name + " on " + text.Substring(0, Math.Min(40, text.Length));
          TextFixtures.SameInts(probe.Ids, fromFile.Encode(probe.Text), what);
          TextFixtures.SameInts(probe.Ids, fromFile.Encode(text), what);
          TextFixtures.SameInts(probe.Ids, fromJson.Encode(text), what);
          Check.Equal(text, fromFile.Decode(probe.Ids), what);
          TextFixtures.SameBytes(probe.Text, fromFile.DecodeBytes(probe.Ids), what);
          tokens += probe.Ids.Length;
          bytes += probe.Text.Length;
        }
        Check.True(tokens < bytes / 2, name + ": " + tokens + " ids for " + bytes + " bytes");
      }
    }
  }

  public static void TestRoundTripsAreByteExact() {
    using (var tokenizer = Trained()) {
      string text = TextFixtures.MixedText();
      int[] ids = tokenizer.Encode(text);
      Check.True(ids.Length < Encoding.UTF8.GetByteCount(text) / 2, "merges were used");
      Check.Equal(text, tokenizer.Decode(ids), "text round trip");
      byte[] invalid = TextFixtures.WithInvalidUtf8(text);
      Check.Throws<DecoderFallbackException>(() => new UTF8Encoding(false, true).GetString(invalid), "not UTF-8");
      TextFixtures.SameBytes(invalid, tokenizer.DecodeBytes(tokenizer.Encode(invalid)), "bytes round trip");
      Check.Equal(Encoding.UTF8.GetString(invalid), tokenizer.Decode(tokenizer.Encode(invalid)), "U+FFFD for bad bytes");
      Check.Equal(0, tokenizer.Encode("").Length, "empty text");
      Check.Equal(0, tokenizer.Encode(new byte[0]).Length, "empty bytes");
      Check.Equal("", tokenizer.Decode(new int[0]), "no ids");
      int[] special = tokenizer.Encode("a" + TextFixtures.Eos + "b");
      Check.Equal(3, special.Length, "ids of a<|endoftext|>b");
      Check.Equal(0, special[1], "the special token's id");
    }
  }

  public static void TestEncodeWritesIntoTheCallersArrayTheSnprintfWay() {
    using (var tokenizer = Trained()) {
      byte[] text = Encoding.UTF8.GetBytes("\u6771\u4eac \U0001F642 the quick brown fox");
      int[] expected = tokenizer.Encode(text);
      var small = Enumerable.Repeat(-7, expected.Length - 1).ToArray();
      Check.Equal((long)expected.Length, tokenizer.Encode(text, small), "count");
      Check.True(small.All(id => id == -7), "a short array is left as it was");
      var ids = new int[2 * text.Length + 1];
      long count = tokenizer.Encode(text, ids);
      TextFixtures.SameInts(expected, ids.Take((int)count).ToArray(), "ids in place");
    }
  }

  public static void TestTrainsOnFortunesAndReloads() {
    var files = new List<string>();
    long bytes = 0;
    foreach (string file in TextFixtures.FortuneFiles()) {
      if (bytes > 400000) break;
      files.Add(file);
      bytes += new FileInfo(file).Length;
    }
    if (files.Count == 0) {
      Console.WriteLine("        skipped: no fortunes in " + TextFixtures.Fortunes);
      return;
    }
    var options = new TokenizerTrainOptions { VocabSize = 600, Split = "llama3",
                                              SpecialTokens = new[] { TextFixtures.Eos, "<|pad|>" } };
    Check.True(options.SpecialTokens.SequenceEqual(new[] { TextFixtures.Eos, "<|pad|>" }), "special tokens kept");
    Check.Equal(2L, options.MinFrequency, "the library's default");
    string saved = TempFiles.Path("fortunes-tokenizer.json");
    using (var tokenizer = Tokenizer.TrainFiles(files, options))
    using (var again = Tokenizer.TrainFiles(files, options)) {
      Check.Equal(600, tokenizer.VocabSize, "vocab size");
      Check.Equal((int?)1, tokenizer.TokenToId("<|pad|>"), "<|pad|>");
      Check.Equal(tokenizer.ToJson(), again.ToJson(), "training is deterministic");
      tokenizer.Save(saved);
      using (var loaded = Tokenizer.FromFile(saved)) {
        Check.Equal(tokenizer.ToJson(), loaded.ToJson(), "reloaded");
        byte[] first = File.ReadAllBytes(files[0]);
        int[] ids = loaded.Encode(first);
        TextFixtures.SameInts(tokenizer.Encode(first), ids, "same ids reloaded");
        TextFixtures.SameBytes(first, loaded.DecodeBytes(ids), "round trip");
        Check.True(ids.Length < 0.6 * first.Length, ids.Length + " ids for " + first.Length + " bytes");
      }
    }
  }

  public static void TestTrainingOnFilesEqualsTrainingOnTheirTexts() {
    string mixed = TextFixtures.MixedText();
    int cut = char.IsHighSurrogate(mixed[19999]) ? 19999 : 20000;  // whole characters
    var docs = new[] { mixed.Substring(0, cut), "second text \U0001F642",
                       "caf\u00e9 \u6771\u4eac " + TextFixtures.Eos + " end" };
    var paths = TextFixtures.WriteDocuments(TempFiles.Path("train-files"), docs);
    var options = new TokenizerTrainOptions { VocabSize = 320, SpecialTokens = new[] { TextFixtures.Eos } };
    using (var files = Tokenizer.TrainFiles(paths, options))
    using (var texts = Tokenizer.Train(docs, options))
      Check.Equal(texts.ToJson(), files.ToJson(), "the same tokenizer");
  }

  public static void TestLookupsGiveNullForNoToken() {
    var text = string.Concat(Enumerable.Repeat("the cat the dog the end ", 10));
    using (var tokenizer = Tokenizer.Train(new[] { text }, 270, "<s>")) {
      Check.Equal((int?)0, tokenizer.TokenToId("<s>"), "<s>");
      Check.Equal("<s>", tokenizer.IdToToken(0), "token 0");
      int? the = tokenizer.TokenToId("\u0120the");  // " the" in the byte-level alphabet
      Check.True(the.HasValue, "\u0120the is a token");
      Check.Equal("\u0120the", tokenizer.IdToToken(the.Value), "its spelling");
      Check.Equal(" the", tokenizer.Decode(new[] { the.Value }), "its text");
      Check.Equal((int?)null, tokenizer.TokenToId("no such token"), "no such token");
      Check.Equal(null, tokenizer.IdToToken(100000), "no token 100000");
      var e = Check.Throws<DistillException>(() => tokenizer.Decode(new[] { 1, 100000 }), "a bad id");
      Check.Equal(Status.InvalidArgument, e.Status, "status");
      Check.Equal("INVALID_ARGUMENT: ids[1]: expected a token id in [0, " + tokenizer.VocabSize + "), got 100000",
                  e.Message, "message");
    }
  }

  public static void TestFourThreadsEncodeWithOneTokenizer() {
    using (var tokenizer = Trained()) {
      string text = TextFixtures.MixedText();
      int[] expected = tokenizer.Encode(text);
      var same = new bool[4];
      var threads = Enumerable.Range(0, 4).Select(t => new System.Threading.Thread(() => {
        bool ok = true;
        for (int i = 0; i < 20 && ok; ++i)
          ok = tokenizer.Encode(text).SequenceEqual(expected) && tokenizer.Decode(expected) == text;
        same[t] = ok;
      })).ToList();
      threads.ForEach(t => t.Start());
      threads.ForEach(t => t.Join());
      Check.True(same.All(ok => ok), "the same ids on every thread");
    }
  }

  public static void TestOtherFilesAndBadArgumentsAreRefused() {
    string dir = Environment.GetEnvironmentVariable("DISTILL_TOKENIZER_REFERENCE_DIR");
    string wordpiece = dir == null ? null : Path.Combine(dir, "wordpiece.json");
    string json = wordpiece != null && File.Exists(wordpiece) ? File.ReadAllText(wordpiece)
        : "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}, \"unk_token\": \"[UNK]\"}}";
    var e = Check.Throws<DistillException>(() => Tokenizer.FromJson(json), "WordPiece");
    Check.Equal(Status.Unsupported, e.Status, "status");
    Check.True(e.Message.Contains("model type WordPiece is not supported: expected BPE"), "message: " + e.Message);
    e = Check.Throws<DistillException>(() => Tokenizer.FromJson("{\"model\": {"), "malformed JSON");
    Check.Equal(Status.InvalidArgument, e.Status, "status");
    Check.True(e.Message.Contains("not valid JSON"), "message: " + e.Message);

    string missing = TempFiles.Path("no/such/tokenizer.json");
    var notFound = Check.Throws<NotFoundException>(() => Tokenizer.FromFile(missing), "a missing file");
    Check.True(notFound.Message.Contains(missing), "message: " + notFound.Message);
    var options = new TokenizerTrainOptions { VocabSize = 300 };
    notFound = Check.Throws<NotFoundException>(() => Tokenizer.TrainFiles(new[] { missing }, options), "a missing text");
    Check.True(notFound.Message.Contains(missing), "message: " + notFound.Message);
    Check.Throws<FileIOException>(() => Tokenizer.TrainFiles(new[] { TempFiles.Path("") }, options), "a directory");
    e = Check.Throws<DistillException>(() => Tokenizer.Train(new[] { "abc" }, 10), "a small vocabulary");
    Check.True(e.Message.Contains("vocab_size: expected at least 256"), "message: " + e.Message);
    e = Check.Throws<DistillException>(() => Tokenizer.Train(new[] { "abc" }, (TokenizerTrainOptions)null), "no options");
    Check.True(e.Message.StartsWith("options: expected an open object"), "message: " + e.Message);
    Check.Throws<DistillException>(() => Tokenizer.Train(null, 300), "no texts");
  }

  public static void TestNullDisposedAndUnencodableArgumentsAreRefused() {
    var tokenizer = Trained();
    var e = Check.Throws<DistillException>(() => tokenizer.Encode((string)null), "null text");
    Check.Equal("text: expected a string, got null", e.Message, "message");
    e = Check.Throws<DistillException>(() => tokenizer.Encode((byte[])null), "null bytes");
    Check.Equal("text: expected an array, got null", e.Message, "message");
    e = Check.Throws<DistillException>(() => tokenizer.Encode(new byte[3], null), "null ids");
    Check.Equal("ids: expected an array, got null", e.Message, "message");
    e = Check.Throws<DistillException>(() => tokenizer.Encode("lone \ud83d surrogate"), "a lone surrogate");
    Check.True(e.Message.Contains("lone surrogate"), "message: " + e.Message);
    tokenizer.Dispose();
    tokenizer.Dispose();
    e = Check.Throws<DistillException>(() => tokenizer.Encode("text"), "disposed");
    Check.Equal("Tokenizer: used after Dispose()", e.Message, "message");
    Check.Throws<DistillException>(() => { var size = tokenizer.VocabSize; }, "disposed property");
  }
}
