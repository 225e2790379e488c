package ai.distill;

/**
 * A file or directory the call was given does not exist (status NOT_FOUND).
 */
public class NotFoundException extends DistillException {
  private static final long serialVersionUID = 1L;

  public NotFoundException(String message) {
    super(NOT_FOUND, message);
  }
}
