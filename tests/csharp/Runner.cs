// Runner.cs — a plain test runner (no framework): runs every public static
// void method of the test classes whose name starts with "Test", prints
// each outcome, and exits non-zero when one failed.
using System;
using System.Linq;
using System.Reflection;

static class Runner {
  static int Main() {
    Type[] classes = { typeof(LossTests), typeof(LifecycleTests), typeof(TeacherTests),
                       typeof(TrainingTests), typeof(ThreadTests), typeof(FileErrorTests),
                       typeof(TokenizerTests), typeof(TextDatasetTests), typeof(HfFolderTests),
                       typeof(LanguageModelTests) };
    int failed = 0, passed = 0;
    foreach (Type type in classes) {
      foreach (MethodInfo test in type.GetMethods(BindingFlags.Public | BindingFlags.Static)
                                      .Where(m => m.Name.StartsWith("Test")).OrderBy(m => m.Name)) {
        try {
          test.Invoke(null, null);
          ++passed;
          Console.WriteLine("ok      " + type.Name + "." + test.Name);
        } catch (TargetInvocationException e) {
          ++failed;
          Console.WriteLine("FAILED  " + type.Name + "." + test.Name + ": " + e.InnerException);
        }
      }
    }
    Console.WriteLine(passed + " passed, " + failed + " failed");
    return failed == 0 ? 0 : 1;
  }
}

/// <summary>Assertions that say what differed.</summary>
static class Check {
  public static void True(bool condition, string what) {
    if (!condition) throw new Exception("expected: " + what);
  }
  public static void Equal<T>(T expected, T actual, string what) {
    if (!Equals(expected, actual)) throw new Exception(what + ": expected " + expected + ", got " + actual);
  }
  public static void Near(double expected, double actual, double tolerance, string what) {
    if (!(Math.Abs(expected - actual) <= tolerance))
      throw new Exception(what + ": expected " + expected + " ± " + tolerance + ", got " + actual);
  }
  public static E Throws<E>(Action action, string what) where E : Exception {
    try {
      action();
    } catch (E e) {
      return e;
    }
    throw new Exception(what + ": expected " + typeof(E).Name);
  }
}

/// <summary>A temporary directory removed when the runner exits.</summary>
static class TempFiles {
  static readonly string directory = CreateDirectory();

  static string CreateDirectory() {
    string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "distill-csharp-tests-" + Guid.NewGuid());
    System.IO.Directory.CreateDirectory(path);
    AppDomain.CurrentDomain.ProcessExit += (sender, args) => System.IO.Directory.Delete(path, true);
    return path;
  }

  public static string Path(string name) {
    return System.IO.Path.Combine(directory, name);
  }
}
