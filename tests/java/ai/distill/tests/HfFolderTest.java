package ai.distill.tests;

import static org.junit.jupiter.api.Assertions.*;

import ai.distill.*;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * HfFolder: a transformer model file (written here as the transformer trainer writes one) out to
 * a transformers folder and back with every weight unchanged, the tokenizer along with it, and the
 * refusals of missing, damaged and mismatched inputs.
 */
class HfFolderTest {
  static final int VOCAB = 300, DIM = 8, KV = 4, FFN = 12;

  /** Each tensor's name and shape, in LlamaForCausalLM's names: one layer, 2 heads sharing 1 key/value head. */
  static Map<String, int[]> shapes() {
    Map<String, int[]> shapes = new LinkedHashMap<>();
    shapes.put("model.embed_tokens.weight", new int[] {VOCAB, DIM});
    shapes.put("model.layers.0.self_attn.q_proj.weight", new int[] {DIM, DIM});
    shapes.put("model.layers.0.self_attn.k_proj.weight", new int[] {KV, DIM});
    shapes.put("model.layers.0.self_attn.v_proj.weight", new int[] {KV, DIM});
    shapes.put("model.layers.0.self_attn.o_proj.weight", new int[] {DIM, DIM});
    shapes.put("model.layers.0.mlp.gate_proj.weight", new int[] {FFN, DIM});
    shapes.put("model.layers.0.mlp.up_proj.weight", new int[] {FFN, DIM});
    shapes.put("model.layers.0.mlp.down_proj.weight", new int[] {DIM, FFN});
    shapes.put("model.layers.0.input_layernorm.weight", new int[] {DIM});
    shapes.put("model.layers.0.post_attention_layernorm.weight", new int[] {DIM});
    shapes.put("model.norm.weight", new int[] {DIM});
    shapes.put("lm_head.weight", new int[] {VOCAB, DIM});
    return shapes;
  }

  /**
   * Writes a transformer model file (core/train/transformer_file.h): safetensors, F32 random
   * weights (norms near 1), the student's config in the metadata. Returns each tensor's bytes.
   */
  static Map<String, byte[]> writeModelFile(Path path, long seed) throws IOException {
    String config = "{\\\"kind\\\": \\\"transformer\\\", \\\"vocab\\\": " + VOCAB + ", \\\"dim\\\": " + DIM
        + ", \\\"layers\\\": 1, \\\"heads\\\": 2, \\\"kv_heads\\\": 1, \\\"ffn\\\": " + FFN
        + ", \\\"context\\\": 8}";
    StringBuilder header = new StringBuilder("{\"__metadata__\": {\"format\": \"distill.checkpoint.v1\", \"config\": \"")
        .append(config).append("\"}");
    Random random = new Random(seed);
    Map<String, byte[]> tensors = new LinkedHashMap<>();
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (Map.Entry<String, int[]> tensor : shapes().entrySet()) {
      int[] shape = tensor.getValue();
      int count = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
      ByteBuffer values = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < count; ++i)
        values.putFloat((float) ((shape.length == 1 ? 1.0 : 0.0) + 0.1 * random.nextGaussian()));
      int begin = data.size();
      data.writeBytes(values.array());
      tensors.put(tensor.getKey(), values.array());
      header.append(", \"").append(tensor.getKey()).append("\": {\"dtype\": \"F32\", \"shape\": ")
          .append(Arrays.toString(shape)).append(", \"data_offsets\": [").append(begin).append(", ")
          .append(data.size()).append("]}");
    }
    header.append("}");
    while (header.length() % 8 != 0) header.append(' ');
    byte[] text = header.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer file = ByteBuffer.allocate(8 + text.length + data.size()).order(ByteOrder.LITTLE_ENDIAN);
    file.putLong(text.length).put(text).put(data.toByteArray());
    Files.write(path, file.array());
    return tensors;
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; ++i) {
      for (int k = 0; k < needle.length; ++k)
        if (haystack[i + k] != needle[k]) continue outer;
      return i;
    }
    return -1;
  }

  static Set<String> names(Path dir) throws IOException {
    try (var paths = Files.list(dir)) {
      return paths.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }

  static Tokenizer smallTokenizer(int vocab) {
    return Tokenizer.train(List.of(TextFixtures.mixedText()), vocab, TextFixtures.EOS);
  }

  @Test
  void exportImportRoundTripKeepsEveryWeightAndTheTokenizer() throws IOException {
    Path model = Path.of(TempFiles.path("hf-student.safetensors"));
    Map<String, byte[]> tensors = writeModelFile(model, 3);
    Path tokenizerFile = Path.of(TempFiles.path("hf-tokenizer.json"));
    try (Tokenizer tokenizer = smallTokenizer(290)) {
      tokenizer.save(tokenizerFile.toString());
      Path folder = Path.of(TempFiles.path("hf-ours"));
      HfFolder.exportFolder(model.toString(), folder.toString(), tokenizerFile.toString());
      assertTrue(names(folder).containsAll(
          Set.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")), names(folder).toString());
      String config = Files.readString(folder.resolve("config.json"));
      assertTrue(config.contains("LlamaForCausalLM"), config);
      assertTrue(config.contains("\"vocab_size\": " + VOCAB) || config.contains("\"vocab_size\":" + VOCAB), config);
      byte[] weights = Files.readAllBytes(folder.resolve("model.safetensors"));
      for (Map.Entry<String, byte[]> tensor : tensors.entrySet())
        assertTrue(indexOf(weights, tensor.getValue()) >= 0, tensor.getKey() + " kept exactly");

      Path imported = Path.of(TempFiles.path("hf-imported.safetensors"));
      Path importedTokenizer = Path.of(TempFiles.path("hf-imported-tokenizer.json"));
      HfFolder.importFolder(folder.toString(), imported.toString(), importedTokenizer.toString());
      try (Tokenizer again = Tokenizer.fromFile(importedTokenizer.toString())) {
        assertEquals(tokenizer.toJson(), again.toJson());
      }
      byte[] importedWeights = Files.readAllBytes(imported);
      for (Map.Entry<String, byte[]> tensor : tensors.entrySet())
        assertTrue(indexOf(importedWeights, tensor.getValue()) >= 0, tensor.getKey() + " imported exactly");
      Path twice = Path.of(TempFiles.path("hf-twice"));
      HfFolder.exportFolder(imported.toString(), twice.toString(), importedTokenizer.toString());
      assertArrayEquals(weights, Files.readAllBytes(twice.resolve("model.safetensors")));
      assertEquals(config, Files.readString(twice.resolve("config.json")));
    }
  }

  @Test
  void exportWithoutATokenizerReplacesTheFolder() throws IOException {
    Path model = Path.of(TempFiles.path("hf-plain.safetensors"));
    writeModelFile(model, 4);
    Path folder = Files.createDirectories(Path.of(TempFiles.path("hf-replaced")));
    Files.writeString(folder.resolve("stale.txt"), "old");
    HfFolder.exportFolder(model.toString(), folder.toString());
    Set<String> names = names(folder);
    assertTrue(names.contains("model.safetensors") && names.contains("config.json"), names.toString());
    assertFalse(names.contains("tokenizer.json") || names.contains("stale.txt"), names.toString());
    Path imported = Path.of(TempFiles.path("hf-plain-imported.safetensors"));
    HfFolder.importFolder(folder.toString(), imported.toString());
    assertTrue(Files.size(imported) > 0);
  }

  @Test
  void missingDamagedAndMismatchedInputsAreRefused() throws IOException {
    String absent = TempFiles.path("hf-absent.safetensors");
    NotFoundException e = assertThrows(NotFoundException.class,
        () -> HfFolder.exportFolder(absent, TempFiles.path("hf-out")));
    assertTrue(e.getMessage().contains("hf-absent.safetensors"), e.getMessage());
    String noFolder = TempFiles.path("hf-no-folder");
    e = assertThrows(NotFoundException.class,
        () -> HfFolder.importFolder(noFolder, TempFiles.path("hf-x.safetensors")));
    assertTrue(e.getMessage().contains("hf-no-folder"), e.getMessage());

    Path model = Path.of(TempFiles.path("hf-damaged.safetensors"));
    writeModelFile(model, 5);
    Path folder = Path.of(TempFiles.path("hf-damaged"));
    HfFolder.exportFolder(model.toString(), folder.toString());
    e = assertThrows(NotFoundException.class, () -> HfFolder.importFolder(folder.toString(),
        TempFiles.path("hf-y.safetensors"), TempFiles.path("hf-y.json")));
    assertTrue(e.getMessage().contains("tokenizer"), e.getMessage());
    byte[] weights = Files.readAllBytes(folder.resolve("model.safetensors"));
    Files.write(folder.resolve("model.safetensors"), Arrays.copyOf(weights, weights.length / 2));
    assertThrows(CorruptFileException.class,
        () -> HfFolder.importFolder(folder.toString(), TempFiles.path("hf-z.safetensors")));
    assertFalse(Files.exists(Path.of(TempFiles.path("hf-z.safetensors"))));

    Path tokenizerFile = Path.of(TempFiles.path("hf-large-tokenizer.json"));
    try (Tokenizer large = smallTokenizer(VOCAB + 20)) {
      assertEquals(VOCAB + 20, large.vocabSize());
      large.save(tokenizerFile.toString());
    }
    DistillException tooLarge = assertThrows(DistillException.class, () -> HfFolder.exportFolder(
        model.toString(), TempFiles.path("hf-large"), tokenizerFile.toString()));
    assertEquals(DistillException.INVALID_ARGUMENT, tooLarge.status());
    assertThrows(DistillException.class, () -> HfFolder.exportFolder(model.toString(), ""));
  }
}
