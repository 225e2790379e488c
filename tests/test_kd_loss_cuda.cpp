// The CUDA backend against the CPU path, through the public C ABI only:
// the same inputs (as stored: fp32, bf16 or fp16) go to distill_kd_loss /
// distill_kd_loss_topk on a CPU context and on a CUDA context, and the
// losses and gradients must agree to fp32 accumulation-order differences
// (plus one rounding step of the gradient's storage type). Also: what only
// the device does (NaN rows for invalid labels and ids, no host sync) and a
// Llama-3-sized smoke run. Without a GPU every case returns early.
#if DISTILL_TEST_CUDA

#include <doctest/doctest.h>

#include <cuda_runtime.h>
#include <distill/distill.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cuda_test_support.h"
#include "kd_loss_problem.h"

namespace {

using namespace test;
using namespace test::cuda_support;

const double infinity = std::numeric_limits<double>::infinity();

// A few −inf teacher logits per row (p = 0 there; allowed by distill.h).
void add_negative_infinities(problem & pb) {
    const int64_t vocab = pb.spec.vocab;
    for (int64_t row = 0; row < pb.spec.rows; ++row)
        for (int64_t n = 0; n < 3; ++n)
            pb.teacher_logits.set(row * vocab + (row * 37 + n * 101) % vocab, -infinity);
}

const storage float_types[] = {storage::f32, storage::bf16, storage::f16};
const teacher_form forms[] = {teacher_form::dense, teacher_form::topk_renormalize,
                              teacher_form::topk_bucket};

}  // namespace

TEST_CASE("cuda: the backend sees the devices the CUDA runtime sees") {
    int runtime_count = 0;
    if (cudaGetDeviceCount(&runtime_count) != cudaSuccess) {
        (void)cudaGetLastError();
        runtime_count = 0;
    }
    int32_t distill_count = -1;
    REQUIRE(distill_cuda_device_count(&distill_count) == DISTILL_STATUS_OK);
    CHECK(distill_count == runtime_count);  // 0 = 0 on a machine without a GPU
}

TEST_CASE("cuda: every divergence, teacher form, dtype and reduction matches the CPU") {
    if (!cuda_device_present()) return;
    const context_handle cpu(false);
    const context_handle gpu(true);
    uint32_t seed = 100;
    for (teacher_form form : forms)
        for (int divergence = 0; divergence < 4; ++divergence)
            for (int type = 0; type < 3; ++type)
                for (int reduction = 0; reduction < 3; ++reduction)
                    for (int variant = 0; variant < 2; ++variant) {
                        // variant 0: no labels, T = 1, int64 ids. variant 1: int64
                        // labels with an ignored row, a hard term, T = 2, a teacher
                        // dtype unlike the student's, int32 ids.
                        problem_spec spec;
                        spec.form = form;
                        spec.rows = 6;
                        spec.vocab = 1001;
                        spec.k = 16;
                        spec.student_type = float_types[type];
                        spec.teacher_type = float_types[(type + variant) % 3];
                        spec.label_type = variant == 1 ? storage::i64 : storage::i32;
                        spec.id_type = variant == 1 ? storage::i32 : storage::i64;
                        spec.with_labels = variant == 1;
                        spec.ignore_some_rows = variant == 1;
                        spec.seed = ++seed;
                        problem pb(spec);
                        if (form == teacher_form::dense && divergence != 1)
                            add_negative_infinities(pb);
                        reference_options r;
                        r.divergence = divergence;
                        r.beta = 0.3;
                        r.temperature = variant == 1 ? 2.0 : 1.0;
                        r.hard_weight = variant == 1 ? 0.5 : 0.0;
                        r.soft_weight = variant == 1 ? 0.7 : 1.0;
                        r.reduction = reduction;
                        r = with_tail(r, pb);
                        CAPTURE(static_cast<int>(form));
                        CAPTURE(divergence);
                        CAPTURE(type);
                        CAPTURE(reduction);
                        CAPTURE(variant);
                        const library_result on_gpu = run_problem_on_cuda(gpu.handle, r, pb);
                        if (form == teacher_form::topk_renormalize && divergence == 1) {
                            CHECK(on_gpu.status == DISTILL_STATUS_UNSUPPORTED);
                            continue;
                        }
                        check_same(run_library(cpu.handle, r, pb), on_gpu, spec.student_type);
                    }
}

TEST_CASE("cuda: long rows (512 threads per block), hard loss alone, JSD endpoints") {
    if (!cuda_device_present()) return;
    const context_handle cpu(false);
    const context_handle gpu(true);
    for (teacher_form form : forms)
        for (int divergence = 0; divergence < 4; ++divergence)
            for (storage type : {storage::f32, storage::bf16}) {
                if (form == teacher_form::topk_renormalize && divergence == 1) continue;
                problem_spec spec;
                spec.form = form;
                spec.rows = 3;
                spec.vocab = 40000;
                spec.k = 64;
                spec.student_type = type;
                spec.teacher_type = type;
                spec.with_labels = true;
                spec.seed = 7 + divergence;
                problem pb(spec);
                reference_options r;
                r.divergence = divergence;
                r.temperature = 2.0;
                r.hard_weight = 0.5;
                r = with_tail(r, pb);
                CAPTURE(static_cast<int>(form));
                CAPTURE(divergence);
                check_same(run_library(cpu.handle, r, pb), run_problem_on_cuda(gpu.handle, r, pb),
                           type);
            }

    for (teacher_form form : forms) {  // the hard loss alone: no teacher is read
        problem_spec spec;
        spec.form = form;
        spec.vocab = 300;
        spec.with_labels = true;
        problem pb(spec);
        reference_options r;
        r.soft_weight = 0.0;
        r.hard_weight = 1.0;
        r.temperature = 3.0;
        r = with_tail(r, pb);
        check_same(run_library(cpu.handle, r, pb), run_problem_on_cuda(gpu.handle, r, pb),
                   storage::f32);
    }

    problem_spec spec;  // JSD at β = 0 and 1 is exactly forward and reverse KL
    spec.vocab = 500;
    problem pb(spec);
    for (double beta : {0.0, 1.0}) {
        reference_options jsd;
        jsd.divergence = 2;
        jsd.beta = beta;
        reference_options kl;
        kl.divergence = beta == 0.0 ? 0 : 1;
        const library_result a = run_problem_on_cuda(gpu.handle, jsd, pb);
        const library_result b = run_problem_on_cuda(gpu.handle, kl, pb);
        REQUIRE(a.status == DISTILL_STATUS_OK);
        CHECK(a.loss == b.loss);
        CHECK(a.grad == b.grad);
        check_same(run_library(cpu.handle, jsd, pb), a, storage::f32);
    }
}

TEST_CASE("cuda: results are repeatable bit for bit, with or without the gradient") {
    if (!cuda_device_present()) return;
    const context_handle gpu(true);
    for (teacher_form form : forms)
        for (int divergence = 0; divergence < 4; ++divergence) {
            if (form == teacher_form::topk_renormalize && divergence == 1) continue;
            problem_spec spec;
            spec.form = form;
            spec.rows = 9;
            spec.vocab = 2049;
            spec.k = 10;
            spec.student_type = storage::bf16;
            spec.with_labels = true;
            spec.ignore_some_rows = true;
            problem pb(spec);
            reference_options r;
            r.divergence = divergence;
            r.hard_weight = 0.2;
            r = with_tail(r, pb);
            const library_result first = run_problem_on_cuda(gpu.handle, r, pb);
            const library_result second = run_problem_on_cuda(gpu.handle, r, pb);
            const library_result loss_only = run_problem_on_cuda(gpu.handle, r, pb, false);
            REQUIRE(first.status == DISTILL_STATUS_OK);
            CHECK(first.loss == second.loss);
            CHECK(first.grad == second.grad);
            CHECK(first.loss == loss_only.loss);
        }
}

TEST_CASE("cuda: ignored rows, no rows, and TVD's zero gradient") {
    if (!cuda_device_present()) return;
    const context_handle cpu(false);
    const context_handle gpu(true);

    problem_spec spec;  // every row ignored: batchmean is 0 with a zero gradient
    spec.rows = 4;
    spec.vocab = 100;
    spec.with_labels = true;
    for (teacher_form form : forms) {
        spec.form = form;
        problem pb(spec);
        for (int64_t row = 0; row < spec.rows; ++row) pb.labels.set(row, -100);
        reference_options r;
        r.hard_weight = 1.0;
        r = with_tail(r, pb);
        const library_result got = run_problem_on_cuda(gpu.handle, r, pb);
        REQUIRE(got.status == DISTILL_STATUS_OK);
        CHECK(got.loss[0] == 0.0);
        for (double g : got.grad) REQUIRE(g == 0.0);
    }

    problem_spec empty;  // N = 0: a loss of 0 for batchmean and sum, nothing else
    empty.rows = 0;
    empty.vocab = 10;
    for (teacher_form form : forms)
        for (int reduction = 0; reduction < 3; ++reduction) {
            empty.form = form;
            problem pb(empty);
            reference_options r;
            r.reduction = reduction;
            r = with_tail(r, pb);
            check_same(run_library(cpu.handle, r, pb), run_problem_on_cuda(gpu.handle, r, pb),
                       storage::f32);
        }

    problem_spec same;  // teacher = student: TVD is 0 and so is its gradient
    same.vocab = 300;
    problem pb(same);
    for (size_t i = 0; i < pb.student.size(); ++i) pb.teacher_logits.set(i, pb.student.get(i));
    reference_options tvd;
    tvd.divergence = 3;
    const library_result got = run_problem_on_cuda(gpu.handle, tvd, pb);
    REQUIRE(got.status == DISTILL_STATUS_OK);
    CHECK(std::fabs(got.loss[0]) < 1e-7);
    for (double g : got.grad) CHECK(std::fabs(g) < 1e-7);
}

TEST_CASE("cuda: a top-k tail below the rounding floor counts as no tail") {
    if (!cuda_device_present()) return;
    const context_handle cpu(false);
    const context_handle gpu(true);
    problem_spec spec;
    spec.form = teacher_form::topk_bucket;
    spec.rows = 4;
    spec.vocab = 60;
    spec.k = 6;
    problem pb(spec);
    // Renormalise each row's top-k log-probs so that Σ exp = 1 up to fp32
    // rounding (a "tail" of ~1e-7, which T = 10 would magnify to ~0.2).
    for (int64_t row = 0; row < spec.rows; ++row) {
        double mass = 0.0;
        for (int64_t j = 0; j < spec.k; ++j)
            mass += std::exp(pb.topk_logprobs.get(row * spec.k + j));
        for (int64_t j = 0; j < spec.k; ++j)
            pb.topk_logprobs.set(row * spec.k + j,
                                 pb.topk_logprobs.get(row * spec.k + j) - std::log(mass));
    }
    reference_options bucket;
    bucket.temperature = 10.0;
    bucket.tail_bucket = true;
    reference_options renormalize = bucket;
    renormalize.tail_bucket = false;
    const library_result with_bucket = run_problem_on_cuda(gpu.handle, bucket, pb);
    const library_result renormalized = run_problem_on_cuda(gpu.handle, renormalize, pb);
    check_same(run_library(cpu.handle, bucket, pb), with_bucket, storage::f32);
    CHECK(with_bucket.loss == renormalized.loss);  // forward KL: the same computation
    CHECK(with_bucket.grad == renormalized.grad);
}

TEST_CASE("cuda: invalid labels and top-k ids make their row NaN, never an error") {
    if (!cuda_device_present()) return;
    const context_handle cpu(false);
    const context_handle gpu(true);
    for (teacher_form form : forms) {
        problem_spec spec;
        spec.form = form;
        spec.rows = 5;
        spec.vocab = 200;
        spec.k = 8;
        spec.with_labels = true;
        problem valid(spec);
        problem invalid(spec);
        invalid.labels.set(1, static_cast<double>(spec.vocab));  // label = V
        invalid.labels.set(3, -5.0);                             // negative, not ignore_index
        std::vector<int64_t> bad_rows{1, 3};
        if (form != teacher_form::dense) {
            invalid.topk_ids.set(0 * spec.k + 2, static_cast<double>(spec.vocab));  // id = V
            invalid.topk_ids.set(4 * spec.k + 0, -1.0);
            bad_rows.insert(bad_rows.end(), {0, 4});
        }
        reference_options r;
        r.hard_weight = 0.5;
        r.reduction = 2;
        r = with_tail(r, valid);
        CAPTURE(static_cast<int>(form));
        const library_result expected = run_library(cpu.handle, r, valid);
        const library_result got = run_problem_on_cuda(gpu.handle, r, invalid);
        REQUIRE_MESSAGE(got.status == DISTILL_STATUS_OK, got.message);
        for (int64_t row : bad_rows) {
            CAPTURE(row);
            CHECK(std::isnan(got.loss[row]));
            for (int64_t i = 0; i < spec.vocab; ++i)
                REQUIRE(std::isnan(got.grad[row * spec.vocab + i]));
        }
        // The other rows are untouched by their neighbours' bad values.
        check_same(without_rows(expected, spec.vocab, bad_rows),
                   without_rows(got, spec.vocab, bad_rows), storage::f32);
        r.reduction = 0;  // and a NaN row makes the mean NaN
        CHECK(std::isnan(run_problem_on_cuda(gpu.handle, r, invalid).loss[0]));
    }

    problem_spec spec;  // a top-k mass above 1 + 1e-3: logits passed as log-probs
    spec.form = teacher_form::topk_bucket;
    spec.k = 3;
    problem pb(spec);
    for (int64_t j = 0; j < spec.k; ++j) pb.topk_logprobs.set(j, -0.1);
    reference_options r;
    r.tail_bucket = true;
    r.reduction = 2;
    const library_result got = run_problem_on_cuda(gpu.handle, r, pb);
    REQUIRE(got.status == DISTILL_STATUS_OK);
    CHECK(std::isnan(got.loss[0]));
    CHECK_FALSE(std::isnan(got.loss[1]));
}

TEST_CASE("cuda: a context's own stream") {
    if (!cuda_device_present()) return;
    cudaStream_t stream = nullptr;
    REQUIRE(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) == cudaSuccess);
    {
        const context_handle cpu(false);
        const context_handle gpu(true, stream);
        for (teacher_form form : forms) {
            problem_spec spec;
            spec.form = form;
            spec.rows = 5;
            spec.vocab = 3000;
            spec.k = 20;
            spec.student_type = storage::f16;
            spec.with_labels = true;
            spec.ignore_some_rows = true;
            problem pb(spec);
            reference_options r;
            r.divergence = 2;
            r.hard_weight = 0.3;
            r = with_tail(r, pb);
            check_same(run_library(cpu.handle, r, pb),
                       run_problem_on_cuda(gpu.handle, r, pb, true, stream), storage::f16);
        }
    }
    cudaStreamDestroy(stream);
}

TEST_CASE("cuda: smoke check at 4096 x 128256 (a Llama-3 vocabulary) in bf16") {
    if (!cuda_device_present()) return;
    const context_handle cpu(false);
    const context_handle gpu(true);
    constexpr int64_t rows = 4096;
    constexpr int64_t vocab = 128256;
    constexpr int64_t k = 20;
    host_tensor student(storage::bf16, {rows, vocab});
    host_tensor teacher(storage::bf16, {rows, vocab});
    auto * student_bits = static_cast<uint16_t *>(student.data());
    auto * teacher_bits = static_cast<uint16_t *>(teacher.data());
    uint64_t state = 0x9E3779B97F4A7C15ull;
    auto uniform = [&state] {  // xorshift64*: fast, deterministic, in [-4, 4)
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        return static_cast<float>(((state * 0x2545F4914F6CDD1Dull) >> 40) * 0x1p-24 * 8.0 - 4.0);
    };
    for (int64_t i = 0; i < rows * vocab; ++i) {
        student_bits[i] = to_bf16(uniform());
        teacher_bits[i] = to_bf16(uniform());
    }
    host_tensor labels(storage::i64, {rows});
    host_tensor ids(storage::i64, {rows, k});
    host_tensor logprobs(storage::f32, {rows, k});
    int64_t active = 0;
    for (int64_t row = 0; row < rows; ++row) {
        const bool ignored = row % 7 == 3;
        labels.set(row, ignored ? -100.0 : static_cast<double>((row * 7919) % vocab));
        active += ignored ? 0 : 1;
        for (int64_t j = 0; j < k; ++j) {
            ids.set(row * k + j, static_cast<double>((row * 7919 + j * 6421) % vocab));
            logprobs.set(row * k + j, std::log(0.03 * std::pow(0.9, double(j))));
        }
    }
    // Rows checked against the CPU: the first and last few, one ignored.
    const std::vector<int64_t> checked{0, 1, 2, 3, rows - 3, rows - 2, rows - 1};
    auto pick_rows = [&](host_tensor & from, storage kind, int64_t width) {
        host_tensor picked(kind, {static_cast<int64_t>(checked.size()), width});
        const size_t row_bytes = (from.size() / rows) * (from.dl()->dtype.bits / 8);
        for (size_t n = 0; n < checked.size(); ++n)
            std::memcpy(static_cast<char *>(picked.data()) + n * row_bytes,
                        static_cast<char *>(from.data()) + checked[n] * row_bytes, row_bytes);
        return picked;
    };

    struct setup {
        teacher_form form;
        int divergence;
    };
    for (const setup s : {setup{teacher_form::dense, 0}, setup{teacher_form::topk_bucket, 2}}) {
        CAPTURE(static_cast<int>(s.form));
        distill_kd_loss_options options;
        distill_kd_loss_options_init(&options);
        options.divergence = s.divergence;
        options.temperature = 2.0f;
        options.hard_weight = 0.5f;
        options.tail = DISTILL_TAIL_BUCKET;
        options.reduction = DISTILL_REDUCTION_NONE;
        const bool dense = s.form == teacher_form::dense;
        const teacher_tensors full = dense ? teacher_tensors{&teacher, nullptr, nullptr}
                                           : teacher_tensors{nullptr, &ids, &logprobs};
        cuda_run got = run_cuda(gpu.handle, options, student, storage::bf16, full, &labels, true);
        REQUIRE_MESSAGE(got.status == DISTILL_STATUS_OK, got.message);

        double total = 0.0;
        for (int64_t row = 0; row < rows; ++row) {
            const double loss = got.loss.get(static_cast<size_t>(row));
            REQUIRE(std::isfinite(loss));
            total += loss;
        }
        // The CPU on the checked rows (NONE: rows are independent).
        host_tensor sub_student = pick_rows(student, storage::bf16, vocab);
        host_tensor sub_teacher = pick_rows(teacher, storage::bf16, vocab);
        host_tensor sub_ids = pick_rows(ids, storage::i64, k);
        host_tensor sub_logprobs = pick_rows(logprobs, storage::f32, k);
        host_tensor sub_labels = pick_rows(labels, storage::i64, 1);
        sub_labels.shape() = {static_cast<int64_t>(checked.size())};
        host_tensor sub_loss(storage::f32, {static_cast<int64_t>(checked.size())});
        host_tensor sub_grad(storage::bf16, {static_cast<int64_t>(checked.size()), vocab});
        const distill_status status =
            dense ? distill_kd_loss(cpu.handle, &options, sub_student.dl(), sub_teacher.dl(),
                                    sub_labels.dl(), sub_loss.dl(), sub_grad.dl())
                  : distill_kd_loss_topk(cpu.handle, &options, sub_student.dl(), sub_ids.dl(),
                                         sub_logprobs.dl(), sub_labels.dl(), sub_loss.dl(),
                                         sub_grad.dl());
        REQUIRE_MESSAGE(status == DISTILL_STATUS_OK, distill_last_error_message());
        for (size_t n = 0; n < checked.size(); ++n) {
            const int64_t row = checked[n];
            CAPTURE(row);
            CHECK(close(got.loss.get(row), sub_loss.get(n), 1e-5, 1e-4));
            std::vector<double> gpu_row(vocab);
            std::vector<double> cpu_row(vocab);
            for (int64_t i = 0; i < vocab; ++i) {
                gpu_row[i] = got.grad.get(row * vocab + i);
                cpu_row[i] = sub_grad.get(n * vocab + i);
            }
            const double rel_tol = grad_rel_tol(storage::bf16);
            CHECK(count_mismatches(gpu_row, cpu_row, rel_tol, 0.0, nullptr) == 0);
        }

        // BATCHMEAN without a gradient: the mean over the non-ignored rows.
        options.reduction = DISTILL_REDUCTION_BATCHMEAN;
        cuda_run mean = run_cuda(gpu.handle, options, student, storage::bf16, full, &labels, false);
        REQUIRE_MESSAGE(mean.status == DISTILL_STATUS_OK, mean.message);
        CHECK(close(mean.loss.get(0), total / double(active), 1e-6, 1e-5));
    }
}

#endif  // DISTILL_TEST_CUDA
