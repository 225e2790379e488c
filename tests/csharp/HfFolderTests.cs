// HfFolderTests.cs — HfFolder: a transformer model file (written here as
// the transformer trainer writes one) out to a transformers folder and back
// with every weight unchanged, the tokenizer along, and the refusals.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Distill;

static class HfFolderTests {
  const int Vocab = 300, Dim = 8, Kv = 4, Ffn = 12;

  static List<KeyValuePair<string, int[]>> Shapes() {
    return new List<KeyValuePair<string, int[]>> {
      new KeyValuePair<string, int[]>("model.embed_tokens.weight", new[] { Vocab, Dim }),
      new KeyValuePair<string, int[]>("model.layers.0.self_attn.q_proj.weight", new[] { Dim, Dim }),
      new KeyValuePair<string, int[]>("model.layers.0.self_attn.k_proj.weight", new[] { Kv, Dim }),
      new KeyValuePair<string, int[]>("model.layers.0.self_attn.v_proj.weight", new[] { Kv, Dim }),
      new KeyValuePair<string, int[]>("model.layers.0.self_attn.o_proj.weight", new[] { Dim, Dim }),
      new KeyValuePair<string, int[]>("model.layers.0.mlp.gate_proj.weight", new[] { Ffn, Dim }),
      new KeyValuePair<string, int[]>("model.layers.0.mlp.up_proj.weight", new[] { Ffn, Dim }),
      new KeyValuePair<string, int[]>("model.layers.0.mlp.down_proj.weight", new[] { Dim, Ffn }),
      new KeyValuePair<string, int[]>("model.layers.0.input_layernorm.weight", new[] { Dim }),
      new KeyValuePair<string, int[]>("model.layers.0.post_attention_layernorm.weight", new[] { Dim }),
      new KeyValuePair<string, int[]>("model.norm.weight", new[] { Dim }),
      new KeyValuePair<string, int[]>("lm_head.weight", new[] { Vocab, Dim }),
    };
  }

  /// <summary>Writes a transformer model file (core/train/transformer_file.h): safetensors, F32
  /// random weights (norms near 1), the config in the metadata. Returns each tensor's bytes.</summary>
  static Dictionary<string, byte[]> WriteModelFile(string path, int seed) {
    string config = "{\\\"kind\\\": \\\"transformer\\\", \\\"vocab\\\": " + Vocab + ", \\\"dim\\\": " + Dim +
                    ", \\\"layers\\\": 1, \\\"heads\\\": 2, \\\"kv_heads\\\": 1, \\\"ffn\\\": " + Ffn + ", \\\"context\\\": 8}";
    var header = new StringBuilder("{\"__metadata__\": {\"format\": \"distill.checkpoint.v1\", \"config\": \"" + config + "\"}");
    var random = new Random(seed);
    var tensors = new Dictionary<string, byte[]>();
    var data = new MemoryStream();
    foreach (var tensor in Shapes()) {
      int count = tensor.Value.Aggregate(1, (a, b) => a * b);
      var values = new byte[4 * count];
      for (int i = 0; i < count; ++i) {
        double u = 1.0 - random.NextDouble(), v = random.NextDouble();
        double normal = Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
        BitConverter.GetBytes((float)((tensor.Value.Length == 1 ? 1.0 : 0.0) + 0.1 * normal)).CopyTo(values, 4 * i);
      }
      long begin = data.Length;
      data.Write(values, 0, values.Length);
      tensors[tensor.Key] = values;
      header.Append(", \"" + tensor.Key + "\": {\"dtype\": \"F32\", \"shape\": [" + string.Join(", ", tensor.Value) +
                    "], \"data_offsets\": [" + begin + ", " + data.Length + "]}");
    }
    header.Append("}");
    while (header.Length % 8 != 0) header.Append(' ');
    byte[] text = Encoding.UTF8.GetBytes(header.ToString());
    using (var file = new FileStream(path, FileMode.Create)) {
      file.Write(BitConverter.GetBytes((ulong)text.Length), 0, 8);
      file.Write(text, 0, text.Length);
      data.WriteTo(file);
    }
    return tensors;
  }

  static int IndexOf(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.Length <= haystack.Length; ++i) {
      int k = 0;
      while (k < needle.Length && haystack[i + k] == needle[k]) ++k;
      if (k == needle.Length) return i;
    }
    return -1;
  }

  static HashSet<string> Names(string dir) {
    return new HashSet<string>(Directory.GetFiles(dir).Select(Path.GetFileName));
  }

  static Tokenizer SmallTokenizer(int vocab) {
    return Tokenizer.Train(new[] { TextFixtures.MixedText() }, vocab, TextFixtures.Eos);
  }

  public static void TestExportImportRoundTripKeepsEveryWeightAndTheTokenizer() {
    string model = TempFiles.Path("hf-student.safetensors");
    var tensors = WriteModelFile(model, 3);
    string tokenizerFile = TempFiles.Path("hf-tokenizer.json");
    using (var tokenizer = SmallTokenizer(290)) {
      tokenizer.Save(tokenizerFile);
      string folder = TempFiles.Path("hf-ours");
      HfFolder.ExportFolder(model, folder, tokenizerFile);
      var names = Names(folder);
      foreach (string name in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" })
        Check.True(names.Contains(name), name + " in " + string.Join(", ", names));
      string config = File.ReadAllText(Path.Combine(folder, "config.json"));
      Check.True(config.Contains("LlamaForCausalLM"), "config: " + config);
      byte[] weights = File.ReadAllBytes(Path.Combine(folder, "model.safetensors"));
      foreach (var tensor in tensors) Check.True(IndexOf(weights, tensor.Value) >= 0, tensor.Key + " kept exactly");

      string imported = TempFiles.Path("hf-imported.safetensors");
      string importedTokenizer = TempFiles.Path("hf-imported-tokenizer.json");
      HfFolder.ImportFolder(folder, imported, importedTokenizer);
      using (var again = Tokenizer.FromFile(importedTokenizer))
        Check.Equal(tokenizer.ToJson(), again.ToJson(), "the tokenizer came back");
      byte[] importedWeights = File.ReadAllBytes(imported);
      foreach (var tensor in tensors) Check.True(IndexOf(importedWeights, tensor.Value) >= 0, tensor.Key + " imported exactly");
      string twice = TempFiles.Path("hf-twice");
      HfFolder.ExportFolder(imported, twice, importedTokenizer);
      TextFixtures.SameBytes(weights, File.ReadAllBytes(Path.Combine(twice, "model.safetensors")), "exported again");
      Check.Equal(config, File.ReadAllText(Path.Combine(twice, "config.json")), "config again");
    }
  }

  public static void TestExportWithoutATokenizerReplacesTheFolder() {
    string model = TempFiles.Path("hf-plain.safetensors");
    WriteModelFile(model, 4);
    string folder = TempFiles.Path("hf-replaced");
    Directory.CreateDirectory(folder);
    File.WriteAllText(Path.Combine(folder, "stale.txt"), "old");
    HfFolder.ExportFolder(model, folder);
    var names = Names(folder);
    Check.True(names.Contains("model.safetensors") && names.Contains("config.json"), string.Join(", ", names));
    Check.True(!names.Contains("tokenizer.json") && !names.Contains("stale.txt"), string.Join(", ", names));
    string imported = TempFiles.Path("hf-plain-imported.safetensors");
    HfFolder.ImportFolder(folder, imported);
    Check.True(new FileInfo(imported).Length > 0, "imported");
  }

  public static void TestMissingDamagedAndMismatchedInputsAreRefused() {
    var e = Check.Throws<NotFoundException>(
        () => HfFolder.ExportFolder(TempFiles.Path("hf-absent.safetensors"), TempFiles.Path("hf-out")), "no model");
    Check.True(e.Message.Contains("hf-absent.safetensors"), "message: " + e.Message);
    e = Check.Throws<NotFoundException>(
        () => HfFolder.ImportFolder(TempFiles.Path("hf-no-folder"), TempFiles.Path("hf-x.safetensors")), "no folder");
    Check.True(e.Message.Contains("hf-no-folder"), "message: " + e.Message);

    string model = TempFiles.Path("hf-damaged.safetensors");
    WriteModelFile(model, 5);
    string folder = TempFiles.Path("hf-damaged");
    HfFolder.ExportFolder(model, folder);
    e = Check.Throws<NotFoundException>(() => HfFolder.ImportFolder(folder, TempFiles.Path("hf-y.safetensors"),
                                                                    TempFiles.Path("hf-y.json")), "no tokenizer.json");
    Check.True(e.Message.Contains("tokenizer"), "message: " + e.Message);
    string weightsPath = Path.Combine(folder, "model.safetensors");
    byte[] weights = File.ReadAllBytes(weightsPath);
    File.WriteAllBytes(weightsPath, weights.Take(weights.Length / 2).ToArray());
    Check.Throws<CorruptFileException>(() => HfFolder.ImportFolder(folder, TempFiles.Path("hf-z.safetensors")), "truncated weights");
    Check.True(!File.Exists(TempFiles.Path("hf-z.safetensors")), "nothing written");

    string tokenizerFile = TempFiles.Path("hf-large-tokenizer.json");
    using (var large = SmallTokenizer(Vocab + 20)) {
      Check.Equal(Vocab + 20, large.VocabSize, "vocab size");
      large.Save(tokenizerFile);
    }
    var tooLarge = Check.Throws<DistillException>(
        () => HfFolder.ExportFolder(model, TempFiles.Path("hf-large"), tokenizerFile), "a tokenizer larger than the model");
    Check.Equal(Status.InvalidArgument, tooLarge.Status, "status");
    Check.Throws<DistillException>(() => HfFolder.ExportFolder(model, ""), "an empty dir");
  }
}
