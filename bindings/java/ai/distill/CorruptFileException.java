package ai.distill;

/**
 * A file's contents are damaged, truncated, or of another kind: not a distill store,
 * checkpoint, safetensors or IDX file (status CORRUPT_FILE).
 */
public class CorruptFileException extends DistillException {
  private static final long serialVersionUID = 1L;

  public CorruptFileException(String message) {
    super(CORRUPT_FILE, message);
  }
}
