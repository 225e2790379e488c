package ai.distill.tests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A fresh temporary directory per test run, for stores, models and checkpoints. */
final class TempFiles {
  private static Path directory;

  private TempFiles() {}

  static synchronized String path(String name) {
    try {
      if (directory == null) {
        directory = Files.createTempDirectory("distill-java-tests");
        Path created = directory;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> remove(created)));
      }
      return directory.resolve(name).toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void remove(Path root) {
    try (var paths = Files.walk(root)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort at exit
    }
  }
}
