package ai.distill;

/**
 * A file exists but cannot be read or written: permission denied, a device I/O error, a
 * directory where a file was expected (status IO_ERROR).
 */
public class FileIOException extends DistillException {
  private static final long serialVersionUID = 1L;

  public FileIOException(String message) {
    super(IO_ERROR, message);
  }
}
