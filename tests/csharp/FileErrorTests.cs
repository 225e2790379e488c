// FileErrorTests.cs — file failures throw the DistillException subclass a
// program can act on, with the status and a message naming the path; the
// library loaded at all, so its ABI matched these bindings.
using System;
using System.IO;
using Distill;

static class FileErrorTests {
  public static void TestTheLoadedLibraryServesTheseBindings() {
    Check.True(Library.AbiVersion() >= 7, "ABI " + Library.AbiVersion());
  }

  public static void TestAMissingFileIsNotFound() {
    string missing = TempFiles.Path("missing.db");
    var e = Check.Throws<NotFoundException>(() => new Store(missing, true), "a missing store");
    Check.Equal(Status.NotFound, e.Status, "status");
    Check.Equal("NOT_FOUND: opening the store for reading '" + missing + "' failed: No such file or directory",
                e.Message, "message");
    Check.True(!File.Exists(missing), "no file created");
    string absent = TempFiles.Path("absent.safetensors");
    e = Check.Throws<NotFoundException>(() => Model.Load(absent), "a missing model file");
    Check.True(e.Message.Contains(absent), "message: " + e.Message);
  }

  public static void TestADirectoryIsAFileIOError() {
    string directory = TempFiles.Path("a-directory");
    Directory.CreateDirectory(directory);
    var e = Check.Throws<FileIOException>(() => new Store(directory, true), "a directory as store");
    Check.Equal(Status.IOError, e.Status, "status");
    Check.True(e.Message.EndsWith("which is a directory"), "message: " + e.Message);
  }

  public static void TestDamagedFilesAreCorrupt() {
    string notes = TempFiles.Path("notes.txt");
    File.WriteAllText(notes, "these are my notes, not a database\n");
    var e = Check.Throws<CorruptFileException>(() => new Store(notes), "a text file as store");
    Check.Equal(Status.CorruptFile, e.Status, "status");
    Check.True(e.Message.Contains("not an intact SQLite database"), "message: " + e.Message);

    string weights = TempFiles.Path("model.safetensors");
    using (var model = new Model(LifecycleTests.Mlp, 1)) model.Save(weights);
    using (var file = new FileStream(weights, FileMode.Open)) file.SetLength(file.Length - 5);
    e = Check.Throws<CorruptFileException>(() => Model.Load(weights), "a truncated model file");
    Check.True(e.Message.Contains("safetensors file '" + weights + "'"), "message: " + e.Message);
  }

  public static void TestAFullDiskIsDiskFull() {
    if (!File.Exists("/dev/full")) return;  // not on this system
    // A model file has bytes to write (an empty store's export would not).
    using (var model = new Model(LifecycleTests.Mlp, 1)) {
      var e = Check.Throws<DiskFullException>(() => model.Save("/dev/full"), "save to /dev/full");
      Check.Equal(Status.DiskFull, e.Status, "status");
      Check.Equal("DISK_FULL: writing '/dev/full' failed: No space left on device", e.Message, "message");
    }
  }

  public static void TestABadArgumentIsStillInvalidArgument() {
    var e = Check.Throws<DistillException>(() => new Model("{", 1), "invalid JSON");
    Check.Equal(Status.InvalidArgument, e.Status, "status");
    Check.True(!(e is NotFoundException) && !(e is CorruptFileException), "not a file error");
  }
}
