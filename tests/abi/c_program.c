/* c_program.c — the C ABI used from a C99 program, as a C service would.
 *
 * Plain C, no test framework: each CHECK counts a pass or a failure, and the
 * program ends with "N passed, M failed" and exits 0 only when M = 0.
 */
#include <distill/distill.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

static int passed = 0;
static int failed = 0;

#define CHECK(condition)                                                                     \
    do {                                                                                     \
        if (condition) {                                                                     \
            ++passed;                                                                        \
        } else {                                                                             \
            ++failed;                                                                        \
            fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: %s\n", __FILE__, __LINE__, \
                    #condition, distill_last_error_message());                               \
        }                                                                                    \
    } while (0)

#define CHECK_NEAR(actual, expected)                                                          \
    do {                                                                                      \
        double actual_ = (actual), expected_ = (expected);                                    \
        if (fabs(actual_ - expected_) <= 1e-5) {                                              \
            ++passed;                                                                         \
        } else {                                                                              \
            ++failed;                                                                         \
            fprintf(stderr, "%s:%d: %s = %.8f, expected %.8f\n", __FILE__, __LINE__, #actual, \
                    actual_, expected_);                                                      \
        }                                                                                     \
    } while (0)

/* A DLTensor over host memory (row-major, contiguous: strides = NULL). */
static DLTensor host_f32(float * data, int ndim, int64_t * shape) {
    DLTensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.device.device_type = kDLCPU;
    t.ndim = ndim;
    t.dtype.code = kDLFloat;
    t.dtype.bits = 32;
    t.dtype.lanes = 1;
    t.shape = shape;
    return t;
}

static void check_versions(void) {
    CHECK(distill_abi_version() == DISTILL_ABI_VERSION);
    CHECK(strcmp(distill_version(), DISTILL_VERSION_STRING) == 0);
}

/*
 * Forward KL, T = 1, BATCHMEAN, over N = 2 rows of V = 3, chosen so the
 * answer is exact by hand (ln2 = log 2; q = softmax(student), p = softmax(teacher)):
 *
 *   row 0: student [0, 0, 0]     → q = [1/3, 1/3, 1/3]
 *          teacher [0, ln2, 0]   → p = [1/4, 1/2, 1/4]
 *          KL(p‖q) = ½·log(3/4) + ½·log(3/2) = ½·log(9/8)
 *   row 1: student [ln2, 0, 0]   → q = [1/2, 1/4, 1/4]
 *          teacher [0, 0, 0]     → p = [1/3, 1/3, 1/3]
 *          KL(p‖q) = ⅓·log(2/3) + ⅔·log(4/3) = ⅓·log(32/27)
 *   loss = (½·log(9/8) + ⅓·log(32/27)) / 2 ≈ 0.0577623
 *
 * The gradient of KL(p‖softmax(z)) with respect to z is q − p, divided by
 * N = 2 for the batch mean:
 *   row 0: [1/3 − 1/4, 1/3 − 1/2, 1/3 − 1/4] / 2 = [ 1/24, −1/12,  1/24]
 *   row 1: [1/2 − 1/3, 1/4 − 1/3, 1/4 − 1/3] / 2 = [ 1/12, −1/24, −1/24]
 */
static void check_forward_kl(void) {
    const float ln2 = 0.69314718f;
    float student[6] = {0.0f, 0.0f, 0.0f, ln2, 0.0f, 0.0f};
    float teacher[6] = {0.0f, ln2, 0.0f, 0.0f, 0.0f, 0.0f};
    float loss = -1.0f;
    float grad[6] = {0};
    const double expected_grad[6] = {1.0 / 24, -1.0 / 12, 1.0 / 24, 1.0 / 12, -1.0 / 24, -1.0 / 24};
    int64_t shape[2] = {2, 3};
    DLTensor student_t = host_f32(student, 2, shape);
    DLTensor teacher_t = host_f32(teacher, 2, shape);
    DLTensor loss_t = host_f32(&loss, 0, NULL);
    DLTensor grad_t = host_f32(grad, 2, shape);
    distill_context * cpu = NULL;
    distill_kd_loss_options options;
    int i;

    CHECK(distill_context_create(NULL, &cpu) == DISTILL_STATUS_OK);
    CHECK(cpu != NULL);
    CHECK(distill_kd_loss_options_init(&options) == DISTILL_STATUS_OK);
    CHECK(options.struct_size == sizeof options);
    CHECK(options.divergence == DISTILL_DIVERGENCE_FORWARD_KL);
    CHECK(options.reduction == DISTILL_REDUCTION_BATCHMEAN);

    CHECK(distill_kd_loss(cpu, &options, &student_t, &teacher_t, NULL, &loss_t, &grad_t) ==
          DISTILL_STATUS_OK);
    CHECK_NEAR(loss, (0.5 * log(9.0 / 8.0) + log(32.0 / 27.0) / 3.0) / 2.0);
    for (i = 0; i < 6; ++i) CHECK_NEAR(grad[i], expected_grad[i]);

    distill_context_free(cpu);
}

/* Failures come back as a status and a message that names the argument;
 * out-parameters are left untouched. */
static void check_errors(void) {
    float student[6] = {0};
    float teacher[8] = {0};
    float loss = 42.0f;
    int64_t student_shape[2] = {2, 3};
    int64_t teacher_shape[2] = {2, 4}; /* V = 4 against the student's V = 3 */
    DLTensor student_t = host_f32(student, 2, student_shape);
    DLTensor teacher_t = host_f32(teacher, 2, teacher_shape);
    DLTensor loss_t = host_f32(&loss, 0, NULL);
    distill_context * cpu = NULL;

    CHECK(distill_kd_loss(NULL, NULL, &student_t, &student_t, NULL, &loss_t, NULL) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(distill_last_error_message(), "context") != NULL);
    CHECK(loss == 42.0f);

    CHECK(distill_context_create(NULL, &cpu) == DISTILL_STATUS_OK);
    CHECK(distill_kd_loss(cpu, NULL, &student_t, &teacher_t, NULL, &loss_t, NULL) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(distill_last_error_message(), "teacher_logits") != NULL);
    CHECK(loss == 42.0f);
    CHECK(strcmp(distill_status_name(DISTILL_STATUS_INVALID_ARGUMENT), "INVALID_ARGUMENT") == 0);

    CHECK(distill_context_create(NULL, NULL) == DISTILL_STATUS_INVALID_ARGUMENT);
    distill_context_free(cpu);
    distill_context_free(NULL); /* accepted, does nothing */
    ++passed;                   /* reaching this line is the check */
}

/* A callback teacher written in C: counts its calls, answers one position. */
static distill_status answer_in_c(void * user_data, const char * request_json,
                                  distill_teacher_record * record) {
    const int32_t ids[2] = {5, 6};
    const float logprobs[2] = {-0.5f, -1.5f};
    int * calls = (int *)user_data;
    ++*calls;
    (void)request_json;
    if (distill_teacher_record_set_string(record, DISTILL_RECORD_TEXT, "four") != DISTILL_STATUS_OK)
        return DISTILL_STATUS_INTERNAL;
    return distill_teacher_record_append_position(record, "four", NULL, 0, 5, -0.5f, 2, ids, NULL,
                                                  logprobs);
}

/* The store and a callback teacher from C: the second query of the same
 * request is answered by the store, not the callback. */
static void check_store_and_teacher(void) {
    const char * path = "distill_c_program_store.db";
    distill_store * store = NULL;
    distill_teacher * teacher = NULL;
    distill_teacher_record * first = NULL;
    distill_teacher_record * second = NULL;
    const char * text = NULL;
    int32_t ids[2] = {0, 0};
    int32_t copied = 0;
    int calls = 0;

    remove(path);
    CHECK(distill_store_open(path, NULL, &store) == DISTILL_STATUS_OK);
    CHECK(distill_teacher_create_callback(answer_in_c, &calls, NULL, &teacher) ==
          DISTILL_STATUS_OK);
    CHECK(distill_teacher_query_cached(teacher, store, "{\"prompt\": \"2+2=\"}", &first) ==
          DISTILL_STATUS_OK);
    CHECK(distill_teacher_query_cached(teacher, store, "{ \"prompt\":\"2+2=\" }", &second) ==
          DISTILL_STATUS_OK);
    CHECK(calls == 1);
    CHECK(distill_teacher_record_get_string(second, DISTILL_RECORD_TEXT, &text) ==
          DISTILL_STATUS_OK);
    CHECK(text != NULL && strcmp(text, "four") == 0);
    CHECK(distill_teacher_record_get_topk(second, 0, 2, ids, NULL, NULL, &copied) ==
          DISTILL_STATUS_OK);
    CHECK(copied == 2 && ids[0] == 5 && ids[1] == 6);
    CHECK(distill_store_open(NULL, NULL, &store) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(distill_last_error_message(), "path") != NULL);

    distill_teacher_record_free(first);
    distill_teacher_record_free(second);
    distill_teacher_free(teacher);
    distill_store_free(store);
    remove(path);
}

int main(void) {
    check_versions();
    check_forward_kl();
    check_errors();
    check_store_and_teacher();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
