namespace Distill {

using global::System;
using global::System.Runtime.InteropServices;

/// <summary>An array as the glue sees it (distill_swig::FloatArray and kin): its first element,
/// pinned, and its length. Pin keeps the array where it is until Dispose: the library reads and
/// writes it in place, without a copy.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeArray {
  public IntPtr Data;
  public long Length;

  internal struct Pinned : IDisposable {
    GCHandle handle;
    public NativeArray Array;

    internal Pinned(System.Array array) {
      handle = array == null ? default(GCHandle) : GCHandle.Alloc(array, GCHandleType.Pinned);
      Array = new NativeArray {
        Data = array == null ? IntPtr.Zero : handle.AddrOfPinnedObject(),
        Length = array == null ? 0 : array.LongLength
      };
    }

    public void Dispose() {
      if (handle.IsAllocated) handle.Free();
    }
  }

  internal static Pinned Pin(System.Array array) {
    return new Pinned(array);
  }
}

}
