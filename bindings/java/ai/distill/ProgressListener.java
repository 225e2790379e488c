package ai.distill;

/**
 * Progress of a long call ({@link Trainer#fit}, {@link Dataset#askTeacher}), called on the calling
 * thread. Return false to stop: the call then raises a {@link DistillException} (CANCELLED) with
 * the work done so far kept (answers stored, checkpoints written). What it throws stops the call
 * the same way and becomes the exception's cause.
 */
@FunctionalInterface
public interface ProgressListener {
  boolean onProgress(Progress progress) throws Exception;
}
