package ai.distill;

/**
 * Progress of {@link TextDataset#tokenizeFiles}, called on the calling thread about every
 * progressIntervalSeconds while the files are read, and once when writing begins. Return false to
 * stop: the call then raises a {@link DistillException} (CANCELLED) and leaves the output file as
 * it was. What it throws stops the call the same way and becomes the exception's cause.
 */
@FunctionalInterface
public interface TokenizeListener {
  boolean onProgress(TokenizeProgress progress) throws Exception;
}
