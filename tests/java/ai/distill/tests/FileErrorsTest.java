package ai.distill.tests;

import static org.junit.jupiter.api.Assertions.*;

import ai.distill.*;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * File failures throw the DistillException subclass a program can act on, with the status and a
 * message naming the path; the library loaded at all, so its ABI matched these bindings.
 */
class FileErrorsTest {
  static final String MLP = "{\"kind\": \"mlp\", \"inputs\": 4, \"hidden\": [8], \"outputs\": 3}";

  @Test
  void theLoadedLibraryServesTheseBindings() {
    assertTrue(Library.abiVersion() >= 7, "ABI " + Library.abiVersion());
  }

  @Test
  void aMissingFileIsNotFound() {
    String missing = TempFiles.path("missing.db");
    NotFoundException e = assertThrows(NotFoundException.class, () -> new Store(missing, true));
    assertEquals(DistillException.NOT_FOUND, e.status());
    assertEquals("NOT_FOUND: opening the store for reading '" + missing
        + "' failed: No such file or directory", e.getMessage());
    assertFalse(new File(missing).exists());
    String absent = TempFiles.path("absent.safetensors");
    e = assertThrows(NotFoundException.class, () -> Model.load(absent));
    assertTrue(e.getMessage().contains(absent), e.getMessage());
  }

  @Test
  void aDirectoryIsAFileIOError() throws IOException {
    Path directory = Files.createDirectories(Path.of(TempFiles.path("a-directory")));
    FileIOException e =
        assertThrows(FileIOException.class, () -> new Store(directory.toString(), true));
    assertEquals(DistillException.IO_ERROR, e.status());
    assertTrue(e.getMessage().endsWith("which is a directory"), e.getMessage());
  }

  @Test
  void damagedFilesAreCorrupt() throws IOException {
    Path notes = Path.of(TempFiles.path("notes.txt"));
    Files.writeString(notes, "these are my notes, not a database\n");
    CorruptFileException e =
        assertThrows(CorruptFileException.class, () -> new Store(notes.toString()));
    assertEquals(DistillException.CORRUPT_FILE, e.status());
    assertTrue(e.getMessage().contains("not an intact SQLite database"), e.getMessage());

    String weights = TempFiles.path("model.safetensors");
    try (Model model = new Model(MLP, 1)) {
      model.save(weights);
    }
    try (RandomAccessFile file = new RandomAccessFile(weights, "rw")) {
      file.setLength(file.length() - 5);
    }
    e = assertThrows(CorruptFileException.class, () -> Model.load(weights));
    assertTrue(e.getMessage().contains("safetensors file '" + weights + "'"), e.getMessage());
  }

  @Test
  void aFullDiskIsDiskFull() {
    if (!new File("/dev/full").exists()) return;  // not on this system
    // A model file has bytes to write (an empty store's export would not).
    try (Model model = new Model(MLP, 1)) {
      DiskFullException e = assertThrows(DiskFullException.class, () -> model.save("/dev/full"));
      assertEquals(DistillException.DISK_FULL, e.status());
      assertEquals("DISK_FULL: writing '/dev/full' failed: No space left on device", e.getMessage());
    }
  }

  @Test
  void aBadArgumentIsStillInvalidArgument() {
    DistillException e = assertThrows(DistillException.class, () -> new Model("{", 1));
    assertEquals(DistillException.INVALID_ARGUMENT, e.status());
    assertFalse(e instanceof NotFoundException || e instanceof CorruptFileException);
  }
}
