package ai.distill;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Loads libdistill.so.0 and its JNI glue, libdistill_jni.so, once:
 *
 * <ol>
 *   <li>from the directory named by the system property {@code distill.library.path}, when set;
 *   <li>else from {@code java.library.path} ({@code System.loadLibrary("distill_jni")}, which finds
 *       libdistill.so.0 beside it);
 *   <li>else from the jar's resources {@code /ai/distill/native/}, extracted to a temporary
 *       directory that is removed when the JVM exits.
 * </ol>
 */
final class NativeLoader {
  static final String PROPERTY = "distill.library.path";
  private static final String LIBRARY = "libdistill.so.0";
  private static final String GLUE = "libdistill_jni.so";
  private static boolean loaded;

  private NativeLoader() {}

  static synchronized void load() {
    if (loaded) return;
    String directory = System.getProperty(PROPERTY);
    if (directory != null && !directory.isEmpty()) {
      loadFrom(new File(directory));
    } else {
      try {
        System.loadLibrary("distill_jni");
      } catch (UnsatisfiedLinkError notOnPath) {
        loadFromResources(notOnPath);
      }
    }
    loaded = true;
  }

  // The library first: the glue's dependency on its soname is then already met.
  private static void loadFrom(File directory) {
    System.load(new File(directory, LIBRARY).getAbsolutePath());
    System.load(new File(directory, GLUE).getAbsolutePath());
  }

  private static void loadFromResources(UnsatisfiedLinkError notOnPath) {
    try {
      Path directory = Files.createTempDirectory("distill-native");
      directory.toFile().deleteOnExit();
      for (String name : new String[] {LIBRARY, GLUE}) {
        try (InputStream in = NativeLoader.class.getResourceAsStream("native/" + name)) {
          if (in == null)
            throw new UnsatisfiedLinkError("distill: " + name + " is neither on java.library.path ("
                + notOnPath.getMessage() + ") nor in the jar; set -D" + PROPERTY + "=<directory>");
          Path file = directory.resolve(name);
          Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
          file.toFile().deleteOnExit();
        }
      }
      loadFrom(directory.toFile());
    } catch (IOException e) {
      throw new UnsatisfiedLinkError("distill: cannot extract the native libraries: " + e);
    }
  }
}
