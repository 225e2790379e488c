package ai.distill;

/**
 * No space left on the device or in the quota (status DISK_FULL); the file is as it was
 * before the call.
 */
public class DiskFullException extends DistillException {
  private static final long serialVersionUID = 1L;

  public DiskFullException(String message) {
    super(DISK_FULL, message);
  }
}
