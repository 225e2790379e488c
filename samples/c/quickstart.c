/* quickstart.c — a distillation loss and its gradient from C.
 *
 * Two rows (N = 2) over a vocabulary of four tokens (V = 4): the student's
 * logits, the teacher's logits and the true next token of each row. The loss
 * is 0.5 · T² · KL(teacher ‖ student) at temperature T = 2 plus
 * 0.5 · cross-entropy with the labels, averaged over the rows.
 */
#include <distill/distill.h>

#include <stdio.h>

/* Prints the library's message and fails, for any status but OK. */
static int check(distill_status status, const char * what) {
    if (status == DISTILL_STATUS_OK) return 1;
    fprintf(stderr, "%s failed: %s: %s\n", what, distill_status_name(status),
            distill_last_error_message());
    return 0;
}

/* A DLTensor over host memory (row-major, contiguous: strides = NULL). */
static DLTensor host_tensor(void * data, int ndim, int64_t * shape, uint8_t code, uint8_t bits) {
    DLTensor t = {0};
    t.data = data;
    t.device.device_type = kDLCPU;
    t.ndim = ndim;
    t.dtype.code = code;
    t.dtype.bits = bits;
    t.dtype.lanes = 1;
    t.shape = shape;
    return t;
}

int main(void) {
    float student[2][4] = {{2.0f, 1.0f, 0.1f, -1.0f}, {0.5f, 0.2f, 3.0f, 0.0f}};
    float teacher[2][4] = {{3.0f, 0.5f, 0.0f, -2.0f}, {0.0f, 0.0f, 4.0f, 1.0f}};
    int64_t labels[2] = {0, 2};
    float loss = 0.0f, grad[2][4];
    int64_t logits_shape[2] = {2, 4}, labels_shape[1] = {2};

    DLTensor student_t = host_tensor(student, 2, logits_shape, kDLFloat, 32);
    DLTensor teacher_t = host_tensor(teacher, 2, logits_shape, kDLFloat, 32);
    DLTensor labels_t = host_tensor(labels, 1, labels_shape, kDLInt, 64);
    DLTensor loss_t = host_tensor(&loss, 0, NULL, kDLFloat, 32); /* a scalar */
    DLTensor grad_t = host_tensor(grad, 2, logits_shape, kDLFloat, 32);

    distill_context * cpu = NULL;
    distill_kd_loss_options options;
    if (!check(distill_context_create(NULL, &cpu), "distill_context_create")) return 1;
    if (!check(distill_kd_loss_options_init(&options), "distill_kd_loss_options_init")) return 1;
    options.temperature = 2.0f;
    options.soft_weight = 0.5f;
    options.hard_weight = 0.5f;

    distill_status status =
        distill_kd_loss(cpu, &options, &student_t, &teacher_t, &labels_t, &loss_t, &grad_t);
    distill_context_free(cpu);
    if (!check(status, "distill_kd_loss")) return 1;

    printf("distill %s: loss = %.6f\n", distill_version(), loss);
    printf("d loss / d student[0] = [%.4f %.4f %.4f %.4f]\n", grad[0][0], grad[0][1], grad[0][2],
           grad[0][3]);
    return 0;
}
