package ai.distill;

/**
 * Progress of {@link Trainer#fitText} and {@link Trainer#fitStored}, called on the calling thread
 * after every step ({@code getEvaluated()} false) and after every validation (true, its figures in
 * {@code getValidation()}). Return false to stop: the call then raises a {@link DistillException}
 * (CANCELLED) after writing the checkpoint, when one is configured. What it throws stops the call
 * the same way and becomes the exception's cause. The final report, after the last step and its
 * validation, cannot stop the fit: what it returns or throws is ignored.
 */
@FunctionalInterface
public interface TextFitListener {
  boolean onProgress(TextFitProgress progress) throws Exception;
}
