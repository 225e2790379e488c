package ai.distill.tests;

import static org.junit.jupiter.api.Assertions.*;

import ai.distill.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Java Strings cross as UTF-8, not JNI's modified UTF-8: a path, a JSON request, a record's text
 * and an error message keep characters outside the BMP (emoji) exactly. (NUL: the C ABI's record
 * strings end at one; the tokenizer's texts, which have lengths, carry it: TokenizerTest.)
 */
class StringsTest {
  static final String SMILE = "\ud83d\ude42";

  @Test
  void aPathWithAnEmojiNamesThatFile() throws Exception {
    String path = TempFiles.path("tokenizer-" + SMILE + "-\u6771\u4eac.json");
    try (Tokenizer tokenizer = Tokenizer.train(List.of("hello hello world " + SMILE), 270)) {
      tokenizer.save(path);
      assertTrue(Files.exists(Path.of(path)), "the file is named as asked");
      try (Tokenizer loaded = Tokenizer.fromFile(path)) {
        assertEquals(tokenizer.toJson(), loaded.toJson());
      }
    }
    String missing = TempFiles.path("missing-" + SMILE + ".json");
    NotFoundException e = assertThrows(NotFoundException.class, () -> Tokenizer.fromFile(missing));
    assertTrue(e.getMessage().contains(missing), "the message names the path exactly: " + e.getMessage());
  }

  @Test
  void recordTextAndRequestsKeepEmoji() {
    String text = "a" + SMILE + "b \ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67 \u6771\u4eac";
    try (TeacherRecord record = new TeacherRecord()) {
      record.setString(RecordString.TEXT, text);
      assertEquals(text, record.getString(RecordString.TEXT));
    }
    // A callback teacher sees the request as sent and answers with emoji.
    String[] seen = new String[1];
    try (Teacher teacher = Teacher.fromCallback("emoji", (request, record) -> {
           seen[0] = request;
           record.setString(RecordString.TEXT, "answer " + SMILE);
         });
         TeacherRecord answer = teacher.query("{\"prompt\": \"" + SMILE + "\"}")) {
      assertTrue(seen[0].contains(SMILE), seen[0]);
      assertEquals("answer " + SMILE, answer.getString(RecordString.TEXT));
    }
  }
}
