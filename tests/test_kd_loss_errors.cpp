// Every refused argument: the status, and a message that names the
// argument, the expected and the actual value. Nothing is written on
// failure, and NULL handles or pointers never crash.
#include <doctest/doctest.h>

#include <distill/distill.h>
#include <distill/distill.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "kd_loss_problem.h"

namespace {

using namespace test;

struct fixture {
    distill_context * ctx = nullptr;
    fixture() { REQUIRE(distill_context_create(nullptr, &ctx) == DISTILL_STATUS_OK); }
    ~fixture() { distill_context_free(ctx); }
};

// Runs and expects `status` with every fragment in the message; the loss
// buffer must keep its poison value (nothing written on failure).
void expect_error(const distill_context * ctx, const reference_options & r, problem & pb,
                  distill_status status, std::initializer_list<const char *> fragments) {
    const library_result got = run_library(ctx, r, pb);
    CHECK(got.status == status);
    for (const char * fragment : fragments) {
        INFO("message: ", got.message);
        CHECK(got.message.find(fragment) != std::string::npos);
    }
}

problem small(teacher_form form = teacher_form::dense, bool labels = false) {
    problem_spec spec;
    spec.rows = 2;
    spec.vocab = 5;
    spec.k = 2;
    spec.form = form;
    spec.with_labels = labels;
    return problem(spec);
}

}  // namespace

TEST_CASE("shape, dtype and vocabulary mismatches") {
    fixture f;
    reference_options r;

    problem teacher_vocab = small();
    teacher_vocab.teacher_logits.shape()[1] = 4;
    expect_error(f.ctx, r, teacher_vocab, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"teacher_logits", "V = 5", "V = 4", "never pads"});

    problem teacher_rows = small();
    teacher_rows.teacher_logits.shape()[0] = 1;
    expect_error(f.ctx, r, teacher_rows, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"teacher_logits", "[N, V] = [2, 5]", "got [1, 5]"});

    problem student_1d = small();
    student_1d.student.shape() = {10};
    expect_error(f.ctx, r, student_1d, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"student_logits", "[N, V]", "got [10]"});

    problem_spec int_student;
    int_student.student_type = storage::i32;
    problem wrong_dtype(int_student);
    expect_error(f.ctx, r, wrong_dtype, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"student_logits", "float32, bfloat16 or float16", "int32"});

    problem_spec float_labels;
    float_labels.with_labels = true;
    float_labels.label_type = storage::f32;
    problem wrong_labels(float_labels);
    expect_error(f.ctx, r, wrong_labels, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"labels", "int64 or int32", "float32"});

    problem label_count = small(teacher_form::dense, true);
    label_count.labels.shape()[0] = 1;
    expect_error(f.ctx, r, label_count, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"labels", "[N] = [2]", "got [1]"});

    problem logprob_shape = small(teacher_form::topk_renormalize);
    logprob_shape.topk_logprobs.shape()[1] = 1;
    expect_error(f.ctx, r, logprob_shape, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"teacher_topk_logprobs", "[N, K] = [2, 2]", "got [2, 1]"});
}

TEST_CASE("out-of-range values") {
    fixture f;
    reference_options r;

    problem ids = small(teacher_form::topk_renormalize);
    ids.topk_ids.set(3, 5);
    expect_error(f.ctx, r, ids, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"teacher_topk_ids", "[0, V) = [0, 5)", "teacher_topk_ids[1, 1] = 5"});

    problem negative_id = small(teacher_form::topk_bucket);
    negative_id.topk_ids.set(0, -1);
    expect_error(f.ctx, r, negative_id, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"teacher_topk_ids", "= -1"});

    problem repeated = small(teacher_form::topk_renormalize);
    repeated.topk_ids.set(1, repeated.topk_ids.get(0));
    expect_error(f.ctx, r, repeated, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"teacher_topk_ids", "distinct", "twice in row 0"});

    problem too_much_mass = small(teacher_form::topk_bucket);
    too_much_mass.topk_logprobs.set(0, -0.1);
    too_much_mass.topk_logprobs.set(1, -0.2);
    expect_error(f.ctx, r, too_much_mass, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"teacher_topk_logprobs", "mass <= 1", "row 0"});

    problem nan_logprob = small(teacher_form::topk_bucket);
    nan_logprob.topk_logprobs.set(2, std::nan(""));
    expect_error(f.ctx, r, nan_logprob, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"teacher_topk_logprobs", "[1, 0]"});

    problem label = small(teacher_form::dense, true);
    label.labels.set(1, 5);
    expect_error(f.ctx, r, label, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"labels", "[0, V) = [0, 5)", "ignore_index (-100)", "labels[1] = 5"});
}

TEST_CASE("options are checked") {
    fixture f;
    problem pb = small();
    reference_options r;
    r.temperature = 0.0;
    expect_error(f.ctx, r, pb, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"options.temperature", "> 0", "got 0"});
    r = {};
    r.temperature = std::numeric_limits<double>::infinity();
    expect_error(f.ctx, r, pb, DISTILL_STATUS_INVALID_ARGUMENT, {"options.temperature", "inf"});
    r = {};
    r.beta = 1.5;
    expect_error(f.ctx, r, pb, DISTILL_STATUS_INVALID_ARGUMENT, {"options.beta", "[0, 1]", "1.5"});
    r = {};
    r.divergence = 9;
    expect_error(f.ctx, r, pb, DISTILL_STATUS_INVALID_ARGUMENT, {"options.divergence", "got 9"});
    r = {};
    r.reduction = -1;
    expect_error(f.ctx, r, pb, DISTILL_STATUS_INVALID_ARGUMENT, {"options.reduction", "got -1"});
    r = {};
    r.soft_weight = -1.0;
    expect_error(f.ctx, r, pb, DISTILL_STATUS_INVALID_ARGUMENT, {"options.soft_weight", "-1"});
    r = {};
    r.hard_weight = 0.5;
    expect_error(f.ctx, r, pb, DISTILL_STATUS_INVALID_ARGUMENT,
                 {"labels", "hard_weight", "got NULL"});

    problem topk = small(teacher_form::topk_renormalize);
    r = {};
    r.divergence = 1;
    expect_error(f.ctx, r, topk, DISTILL_STATUS_UNSUPPORTED,
                 {"reverse KL", "DISTILL_TAIL_BUCKET", "dense teacher"});
    r.divergence = 2;
    r.beta = 1.0;
    expect_error(f.ctx, r, topk, DISTILL_STATUS_UNSUPPORTED, {"reverse KL"});

    distill_kd_loss_options uninitialised{};
    host_tensor loss(storage::f32, {});
    CHECK(distill_kd_loss(f.ctx, &uninitialised, pb.student.dl(), pb.teacher_logits.dl(), nullptr,
                          loss.dl(), nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("struct_size") != std::string::npos);

    distill_kd_loss_options from_the_future;
    distill_kd_loss_options_init(&from_the_future);
    from_the_future.struct_size += 8;
    CHECK(distill_kd_loss(f.ctx, &from_the_future, pb.student.dl(), pb.teacher_logits.dl(), nullptr,
                          loss.dl(), nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("newer than the library") !=
          std::string::npos);
}

TEST_CASE("outputs: dtype, shape, contiguity, overlap, device") {
    fixture f;
    problem pb = small();
    distill_kd_loss_options o;
    distill_kd_loss_options_init(&o);

    host_tensor row_loss(storage::f32, {2});
    CHECK(distill_kd_loss(f.ctx, &o, pb.student.dl(), pb.teacher_logits.dl(), nullptr,
                          row_loss.dl(), nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("loss: expected a scalar") !=
          std::string::npos);

    host_tensor half_loss(storage::f16, {});
    CHECK(distill_kd_loss(f.ctx, &o, pb.student.dl(), pb.teacher_logits.dl(), nullptr,
                          half_loss.dl(), nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("float32, got float16") !=
          std::string::npos);

    host_tensor loss(storage::f32, {});
    host_tensor bf16_grad(storage::bf16, {2, 5});
    CHECK(distill_kd_loss(f.ctx, &o, pb.student.dl(), pb.teacher_logits.dl(), nullptr, loss.dl(),
                          bf16_grad.dl()) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message())
              .find("grad_student_logits: expected the student's dtype float32, got bfloat16") !=
          std::string::npos);

    // In place (the gradient over the student's logits) is refused.
    CHECK(distill_kd_loss(f.ctx, &o, pb.student.dl(), pb.teacher_logits.dl(), nullptr, loss.dl(),
                          pb.student.dl()) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("overlapping") != std::string::npos);

    // A transposed view: strides [1, 2] for shape [2, 5].
    DLTensor transposed = *pb.student.dl();
    int64_t strides[2] = {1, 2};
    transposed.strides = strides;
    CHECK(distill_kd_loss(f.ctx, &o, &transposed, pb.teacher_logits.dl(), nullptr, loss.dl(),
                          nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("contiguous tensor, got strides [1, 2]") !=
          std::string::npos);

    // Explicit compact strides are fine.
    DLTensor compact = *pb.student.dl();
    int64_t compact_strides[2] = {5, 1};
    compact.strides = compact_strides;
    CHECK(distill_kd_loss(f.ctx, &o, &compact, pb.teacher_logits.dl(), nullptr, loss.dl(),
                          nullptr) == DISTILL_STATUS_OK);

    DLTensor on_gpu = *pb.teacher_logits.dl();
    on_gpu.device = {kDLCUDA, 0};
    CHECK(distill_kd_loss(f.ctx, &o, pb.student.dl(), &on_gpu, nullptr, loss.dl(), nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message())
              .find("teacher_logits: expected a tensor on the context's device (cpu), got one on "
                    "cuda:0") != std::string::npos);
}

TEST_CASE("empty tensors carry no layout: N = 0 is a zero loss, V = 0 is named as such") {
    // PyTorch gives empty tensors strides such as [1, 1]; they address no
    // element, so they must not be reported as a contiguity problem.
    fixture f;
    distill_kd_loss_options o;
    distill_kd_loss_options_init(&o);
    int64_t odd_strides[2] = {1, 1};
    host_tensor loss(storage::f32, {});

    host_tensor no_rows(storage::f32, {0, 5});
    DLTensor student = *no_rows.dl();
    student.strides = odd_strides;
    host_tensor no_rows_teacher(storage::f32, {0, 5});
    DLTensor teacher = *no_rows_teacher.dl();
    teacher.strides = odd_strides;
    REQUIRE_MESSAGE(distill_kd_loss(f.ctx, &o, &student, &teacher, nullptr, loss.dl(), nullptr) ==
                        DISTILL_STATUS_OK,
                    distill_last_error_message());
    CHECK(loss.values()[0] == 0.0);

    host_tensor no_vocab(storage::f32, {2, 0});
    DLTensor empty_rows = *no_vocab.dl();
    empty_rows.strides = odd_strides;
    host_tensor no_vocab_teacher(storage::f32, {2, 0});
    CHECK(distill_kd_loss(f.ctx, &o, &empty_rows, no_vocab_teacher.dl(), nullptr, loss.dl(),
                          nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    const std::string message = distill_last_error_message();
    INFO("message: ", message);
    CHECK(message.find("student_logits: expected a vocabulary V >= 1, got shape [2, 0]") !=
          std::string::npos);
    CHECK(message.find("strides") == std::string::npos);
}

TEST_CASE("NULL handles and pointers are errors, never crashes") {
    fixture f;
    problem pb = small();
    host_tensor loss(storage::f32, {});
    distill_kd_loss_options o;
    distill_kd_loss_options_init(&o);
    CHECK(distill_kd_loss(nullptr, &o, pb.student.dl(), pb.teacher_logits.dl(), nullptr, loss.dl(),
                          nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("context") != std::string::npos);
    CHECK(distill_kd_loss(f.ctx, &o, nullptr, pb.teacher_logits.dl(), nullptr, loss.dl(),
                          nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()) ==
          "student_logits: expected a DLTensor, got NULL");
    CHECK(distill_kd_loss(f.ctx, &o, pb.student.dl(), nullptr, nullptr, loss.dl(), nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_kd_loss(f.ctx, &o, pb.student.dl(), pb.teacher_logits.dl(), nullptr, nullptr,
                          nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_kd_loss_topk(f.ctx, &o, pb.student.dl(), nullptr, nullptr, nullptr, loss.dl(),
                               nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    DLTensor no_data = *pb.student.dl();
    no_data.data = nullptr;
    CHECK(distill_kd_loss(f.ctx, &o, &no_data, pb.teacher_logits.dl(), nullptr, loss.dl(),
                          nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("NULL data pointer") != std::string::npos);
    DLTensor no_shape = *pb.student.dl();
    no_shape.shape = nullptr;
    CHECK(distill_kd_loss(f.ctx, &o, &no_shape, pb.teacher_logits.dl(), nullptr, loss.dl(),
                          nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_kd_loss_options_init(nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_context_options_init(nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_context_create(nullptr, nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_cuda_device_count(nullptr) == DISTILL_STATUS_INVALID_ARGUMENT);
    distill_context_free(nullptr);
    // A NULL options pointer means the defaults.
    CHECK(distill_kd_loss(f.ctx, nullptr, pb.student.dl(), pb.teacher_logits.dl(), nullptr,
                          loss.dl(), nullptr) == DISTILL_STATUS_OK);
    CHECK(std::string(distill_last_error_message()).empty());
}

TEST_CASE("contexts: bad options, and a GPU where there is none is a clear error") {
    distill_context_options o;
    distill_context_options_init(&o);
    distill_context * ctx = reinterpret_cast<distill_context *>(0x1);
    o.device_type = 7;
    CHECK(distill_context_create(&o, &ctx) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(ctx == reinterpret_cast<distill_context *>(0x1));  // untouched on failure
    o.device_type = DISTILL_DEVICE_CPU;
    o.num_threads = -2;
    CHECK(distill_context_create(&o, &ctx) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("num_threads") != std::string::npos);

    int32_t devices = -1;
    REQUIRE(distill_cuda_device_count(&devices) == DISTILL_STATUS_OK);
    CHECK(devices >= 0);
    o.num_threads = 0;
    o.device_type = DISTILL_DEVICE_CUDA;
    o.device_id = devices;  // one past the last device
    CHECK(distill_context_create(&o, &ctx) == DISTILL_STATUS_UNSUPPORTED);
    const std::string message = distill_last_error_message();
    CHECK(
        (message.find("CUDA") != std::string::npos || message.find("device") != std::string::npos));
}

TEST_CASE("the C++ wrapper throws with the status and the message") {
    distill::Context cpu;
    distill::KdLossOptions options;
    options->temperature = -1.0f;
    problem pb = small();
    host_tensor loss(storage::f32, {});
    try {
        distill::kd_loss(cpu, options, *pb.student.dl(), *pb.teacher_logits.dl(), nullptr,
                         *loss.dl());
        FAIL("expected an exception");
    } catch (const distill::Exception & e) {
        CHECK(e.status() == DISTILL_STATUS_INVALID_ARGUMENT);
        CHECK(std::string(e.what()).find("INVALID_ARGUMENT: options.temperature") == 0);
    }
    options->temperature = 2.0f;
    distill::kd_loss(cpu, options, *pb.student.dl(), *pb.teacher_logits.dl(), nullptr, *loss.dl());
    CHECK(loss.get(0) > 0.0);
    distill::Context moved = std::move(cpu);
    CHECK(moved.get() != nullptr);
    CHECK(cpu.get() == nullptr);
    CHECK_NOTHROW(distill::check_library_version());
    CHECK(std::string(distill_version()) == DISTILL_VERSION_STRING);
    CHECK(distill_abi_version() == DISTILL_ABI_VERSION);
}
