// Quickstart.java — distill a small student from a teacher written in Java,
// save it, load it back and predict; and the loss on its own on an array.
//
//   java -cp build/release/bindings/swig/java/distill.jar:build/release/bindings/swig/java/distill-sample.jar \
//        Quickstart [work directory]
//
// The jar carries libdistill and its JNI glue and loads them itself.
import ai.distill.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

public class Quickstart {
  // The teacher: any Java code that maps features to class logits. Here a
  // fixed rule over 8 features and 4 classes, standing in for a big model.
  static float[] teacherLogits(float[] x) {
    float[] logits = new float[4];
    for (int c = 0; c < 4; ++c) logits[c] = 3 * (x[2 * c] + x[2 * c + 1]);
    return logits;
  }

  public static void main(String[] args) throws Exception {
    Path work = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "distill-java-quickstart"));

    try (Context cpu = new Context()) {
      // 1. The loss on its own, on Java arrays [N = 2, V = 4] (README: ≈ 0.2633).
      float[] student = {2.0f, 1.0f, 0.1f, -1.0f, 0.5f, 0.2f, 3.0f, 0.0f};
      float[] teacher = {3.0f, 0.5f, 0.0f, -2.0f, 0.0f, 0.0f, 4.0f, 1.0f};
      LossOptions options = new LossOptions();  // forward KL, batchmean, T² on
      options.setTemperature(2.0f);
      options.setSoftWeight(0.5f);
      options.setHardWeight(0.5f);
      float[] grad = new float[8];
      float loss = Loss.kdLoss(cpu, options, student, teacher, new long[] {0, 2}, 2, grad);
      System.out.printf("loss = %.6f%n", loss);

      // 2. Data: 2,000 examples of 8 features.
      int rows = 2000, features = 8;
      Random random = new Random(0);
      float[] inputs = new float[rows * features];
      for (int i = 0; i < inputs.length; ++i) inputs[i] = (float) random.nextGaussian();

      try (Dataset train = Dataset.create(inputs, rows, null);
           Teacher javaTeacher = Teacher.fromCallback("rule-teacher", (request, record) ->
               record.answerClassification(teacherLogits(Teacher.requestFeatures(request)), 0, 1.0f));
           Store answers = new Store(work.resolve("answers.db").toString())) {
        // 3. Ask the teacher once per example; answers are kept in the store.
        AskSummary asked = train.askTeacher(javaTeacher, answers);
        System.out.printf("teacher asked %d, from the store %d%n", asked.getAsked(), asked.getFromStore());

        // 4. Distill a small MLP from the teacher's answers.
        try (Dataset validation = train.slice(1600, 400); Dataset fitSet = train.slice(0, 1600);
             Model model = new Model("{\"kind\": \"mlp\", \"inputs\": 8, \"hidden\": [32], \"outputs\": 4}", 1)) {
          LossOptions distillation = new LossOptions();
          distillation.setTemperature(2.0f);
          TrainerOptions trainerOptions = new TrainerOptions();
          trainerOptions.setOptimizerJson("{\"kind\": \"adamw\", \"lr\": 0.01}");
          FitOptions fit = new FitOptions();
          fit.setEpochs(10);
          fit.setBatchSize(64);
          try (Trainer trainer = new Trainer(cpu, model, trainerOptions, distillation)) {
            FitSummary summary = trainer.fit(fitSet, validation, fit, progress -> {
              if (progress.getEvent() == ProgressEvent.EPOCH_END)
                System.out.printf("epoch %d: loss %.4f, agreement %.3f%n", progress.getEpoch(),
                    progress.getLoss(), progress.getValAgreement());
              return true;  // false would stop the training
            });
            System.out.printf("trained %d epochs in %.1f s%n", summary.getEpochsRun(), summary.getSeconds());
          }
          EvalMetrics metrics = model.evaluate(cpu, validation);
          System.out.printf("agreement with the teacher: %.3f%n", metrics.getAgreement());

          // 5. Save, load back, predict.
          String saved = work.resolve("student.safetensors").toString();
          model.save(saved);
          try (Model loaded = Model.load(saved)) {
            float[] x = {1, 1, 0, 0, 0, 0, 0, 0};  // the teacher says class 0
            float[] p = loaded.predict(cpu, x, 1, Output.PROBABILITIES);
            System.out.printf("student's probabilities: [%.3f, %.3f, %.3f, %.3f]%n", p[0], p[1], p[2], p[3]);
            if (Math.abs(loss - 0.2633f) > 1e-3f || metrics.getAgreement() < 0.8 || p[0] < 0.5f) {
              System.err.println("quickstart: unexpected results");
              System.exit(1);
            }
          }
        }
      }
    } catch (DistillException e) {
      System.err.println("distill: " + e.getMessage() + " (status " + e.status() + ")");
      System.exit(1);
    }
  }
}
