// Agreement with the fp64 reference on random shapes and at the edges:
// V = 1, K = V, every row ignored, logits of ±1e4, −inf teacher logits,
// very small and very large T, bf16 and fp16 inputs, int32 indices.
#include <doctest/doctest.h>

#include <distill/distill.h>

#include <cmath>
#include <limits>
#include <random>

#include "kd_loss_problem.h"

namespace {

using namespace test;

struct cpu_context {
    distill_context * handle = nullptr;
    explicit cpu_context(int32_t threads = 0) {
        distill_context_options o;
        distill_context_options_init(&o);
        o.num_threads = threads;
        REQUIRE(distill_context_create(&o, &handle) == DISTILL_STATUS_OK);
    }
    ~cpu_context() { distill_context_free(handle); }
};

struct tolerances {
    double loss_abs = 1e-5, loss_rel = 1e-5, grad_abs = 2e-6, grad_rel = 2e-4;
};

// Loss against the reference; gradient against its finite differences.
void expect_reference(const distill_context * ctx, const reference_options & r, problem & pb,
                      tolerances tol = {}) {
    const library_result got = run_library(ctx, r, pb);
    REQUIRE_MESSAGE(got.status == DISTILL_STATUS_OK, got.message);
    const std::vector<int64_t> labels = pb.label_values();
    const reference_teacher teacher = pb.reference();
    const std::vector<double> student = pb.student.values();
    const double expected =
        reference_loss(r, student, pb.spec.rows, pb.spec.vocab, teacher, labels);
    double got_loss = got.loss[0];
    if (r.reduction == 2) {
        got_loss = 0.0;
        for (double v : got.loss) got_loss += v;
    }
    INFO("loss: library ", got_loss, ", reference ", expected);
    CHECK(close(got_loss, expected, tol.loss_abs, tol.loss_rel));
    const std::vector<double> fd =
        reference_gradient(r, student, pb.spec.rows, pb.spec.vocab, teacher, labels);
    int reported = 0;
    for (size_t i = 0; i < fd.size(); ++i) {
        if (close(got.grad[i], fd[i], tol.grad_abs, tol.grad_rel)) continue;
        if (++reported > 5) break;
        INFO("gradient entry ", i, ": library ", got.grad[i], ", finite differences ", fd[i]);
        CHECK(false);
    }
}

}  // namespace

TEST_CASE("random shapes, forms and options agree with the reference") {
    cpu_context ctx;
    std::mt19937 rng(2024);
    const int64_t vocabularies[] = {2, 5, 511, 512, 513, 1100};
    for (int trial = 0; trial < 40; ++trial) {
        problem_spec spec;
        spec.vocab = vocabularies[trial % 6];
        spec.rows = 1 + static_cast<int64_t>(rng() % 3);
        spec.k = std::min<int64_t>(spec.vocab, 1 + static_cast<int64_t>(rng() % 20));
        spec.form = static_cast<teacher_form>(rng() % 3);
        spec.with_labels = rng() % 2 == 0;
        spec.ignore_some_rows = spec.with_labels && rng() % 2 == 0;
        spec.seed = 1000 + trial;
        problem pb(spec);
        reference_options r;
        r.divergence = static_cast<int>(rng() % 4);
        if (spec.form == teacher_form::topk_renormalize && r.divergence == 1) r.divergence = 0;
        r.beta = 0.1 + 0.8 * (rng() % 100) / 100.0;
        r.temperature = 0.5 + (rng() % 40) / 10.0;
        r.reduction = static_cast<int>(rng() % 3);
        r.hard_weight = spec.with_labels && rng() % 2 == 0 ? 0.5 : 0.0;
        r = with_tail(r, pb);
        CAPTURE(trial);
        CAPTURE(spec.vocab);
        CAPTURE(spec.k);
        CAPTURE(static_cast<int>(spec.form));
        CAPTURE(r.divergence);
        expect_reference(ctx.handle, r, pb);
    }
}

TEST_CASE("a vocabulary of one entry gives zero loss and zero gradient") {
    cpu_context ctx;
    for (int form = 0; form < 3; ++form)
        for (int divergence = 0; divergence < 4; ++divergence) {
            problem_spec spec;
            spec.vocab = 1;
            spec.k = 1;
            spec.form = static_cast<teacher_form>(form);
            spec.with_labels = true;
            problem pb(spec);
            for (size_t row = 0; row < pb.labels.size(); ++row) pb.labels.set(row, 0);
            reference_options r;
            r.divergence = divergence == 1 && form == 1 ? 0 : divergence;
            r.hard_weight = 0.5;
            r = with_tail(r, pb);
            const library_result got = run_library(ctx.handle, r, pb);
            REQUIRE_MESSAGE(got.status == DISTILL_STATUS_OK, got.message);
            CHECK(std::fabs(got.loss[0]) < 1e-6);
            for (double g : got.grad) CHECK(std::fabs(g) < 1e-6);
        }
}

TEST_CASE("K = V: the whole vocabulary as a top-k teacher") {
    cpu_context ctx;
    for (int tail = 0; tail < 2; ++tail)
        for (int divergence = 0; divergence < 4; ++divergence) {
            if (tail == 0 && divergence == 1) continue;
            problem_spec spec;
            spec.vocab = 6;
            spec.k = 6;
            spec.form = tail ? teacher_form::topk_bucket : teacher_form::topk_renormalize;
            spec.seed = 300 + divergence;
            problem pb(spec);
            reference_options r;
            r.divergence = divergence;
            r.temperature = 3.0;
            r = with_tail(r, pb);
            expect_reference(ctx.handle, r, pb);
            // With every id given, the top-k teacher is the dense teacher.
            problem_spec dense_spec = spec;
            dense_spec.form = teacher_form::dense;
            problem dense(dense_spec);
            const library_result a = run_library(ctx.handle, r, pb);
            const library_result b = run_library(ctx.handle, r, dense);
            CHECK(close(a.loss[0], b.loss[0], 1e-5, 1e-4));
        }
}

TEST_CASE("every row ignored: loss 0, gradient 0, no NaN, for every reduction") {
    cpu_context ctx;
    for (int form = 0; form < 3; ++form)
        for (int reduction = 0; reduction < 3; ++reduction) {
            problem_spec spec;
            spec.form = static_cast<teacher_form>(form);
            spec.with_labels = true;
            problem pb(spec);
            for (size_t row = 0; row < pb.labels.size(); ++row) pb.labels.set(row, -7);
            reference_options r;
            r.ignore_index = -7;
            r.reduction = reduction;
            r.hard_weight = 1.0;
            r = with_tail(r, pb);
            const library_result got = run_library(ctx.handle, r, pb);
            REQUIRE_MESSAGE(got.status == DISTILL_STATUS_OK, got.message);
            for (double v : got.loss) CHECK(v == 0.0);
            for (double g : got.grad) CHECK(g == 0.0);
        }
}

TEST_CASE("logits of ±1e4 stay finite and exact") {
    cpu_context ctx;
    for (int form = 0; form < 3; ++form)
        for (int divergence = 0; divergence < 4; ++divergence) {
            // At this scale a top-k teacher's tail is exactly 0 while the
            // student has mass outside the top-k: reverse KL is +inf there.
            if (form != 0 && divergence == 1) continue;
            problem_spec spec;
            spec.form = static_cast<teacher_form>(form);
            spec.logit_scale = 1e4;
            spec.seed = 40 + divergence;
            spec.with_labels = true;
            problem pb(spec);
            reference_options r;
            r.divergence = divergence;
            r.hard_weight = 0.3;
            r = with_tail(r, pb);
            const library_result got = run_library(ctx.handle, r, pb);
            REQUIRE_MESSAGE(got.status == DISTILL_STATUS_OK, got.message);
            const double expected = reference_loss(r, pb.student.values(), spec.rows, spec.vocab,
                                                   pb.reference(), pb.label_values());
            CAPTURE(form);
            CAPTURE(divergence);
            CHECK(std::isfinite(got.loss[0]));
            CHECK(close(got.loss[0], expected, 1e-2, 1e-5));
            for (double g : got.grad) CHECK(std::isfinite(g));
        }
}

TEST_CASE("-inf teacher logits: p = 0 there; reverse KL is +inf") {
    cpu_context ctx;
    problem_spec spec;
    spec.vocab = 9;
    spec.with_labels = true;
    problem pb(spec);
    const double neg_inf = -std::numeric_limits<double>::infinity();
    for (int64_t row = 0; row < spec.rows; ++row)
        for (int64_t i = 0; i < spec.vocab; i += 2)
            pb.teacher_logits.set(row * spec.vocab + i, neg_inf);
    for (int divergence : {0, 2, 3}) {
        reference_options r;
        r.divergence = divergence;
        r.temperature = 2.0;
        CAPTURE(divergence);
        expect_reference(ctx.handle, r, pb);
    }
    reference_options reverse;
    reverse.divergence = 1;
    const library_result got = run_library(ctx.handle, reverse, pb, false);
    REQUIRE(got.status == DISTILL_STATUS_OK);
    CHECK(got.loss[0] == std::numeric_limits<double>::infinity());
}

TEST_CASE("very small and very large temperatures") {
    cpu_context ctx;
    for (double temperature : {0.05, 50.0})
        for (int form = 0; form < 3; ++form)
            for (int divergence = 0; divergence < 4; ++divergence) {
                if (form == 1 && divergence == 1) continue;
                problem_spec spec;
                spec.form = static_cast<teacher_form>(form);
                spec.seed = 500 + divergence;
                spec.logit_scale = 1.0;
                problem pb(spec);
                reference_options r;
                r.divergence = divergence;
                r.temperature = temperature;
                r = with_tail(r, pb);
                CAPTURE(temperature);
                CAPTURE(form);
                CAPTURE(divergence);
                // The divergence is computed from fp32 exps, so it carries an
                // absolute error of ~1e-7 whatever its size; T² (2500 at
                // T = 50) magnifies it in the loss.
                tolerances tol;
                tol.loss_abs = 1e-6 * temperature * temperature;
                tol.loss_rel = 1e-4;
                tol.grad_abs = 1e-5;
                tol.grad_rel = 1e-3;
                expect_reference(ctx.handle, r, pb, tol);
            }
}

TEST_CASE("bf16 and fp16 inputs, int32 labels and ids") {
    cpu_context ctx;
    const storage floats[] = {storage::f32, storage::bf16, storage::f16};
    for (storage student : floats)
        for (storage teacher : floats)
            for (int form = 0; form < 3; ++form) {
                problem_spec spec;
                spec.vocab = 600;
                spec.k = 8;
                spec.form = static_cast<teacher_form>(form);
                spec.student_type = student;
                spec.teacher_type = teacher;
                spec.label_type = storage::i32;
                spec.id_type = storage::i32;
                spec.with_labels = true;
                spec.seed = 900 + form;
                problem pb(spec);
                reference_options r;
                r.divergence = 2;
                r.temperature = 2.0;
                r.hard_weight = 0.25;
                r = with_tail(r, pb);
                CAPTURE(static_cast<int>(student));
                CAPTURE(static_cast<int>(teacher));
                CAPTURE(form);
                tolerances tol;
                if (student != storage::f32) {  // the gradient is stored in 16 bits
                    tol.grad_abs = 1e-6;
                    tol.grad_rel = student == storage::bf16 ? 8e-3 : 1e-3;
                }
                expect_reference(ctx.handle, r, pb, tol);
            }
}

TEST_CASE("a NaN logit is not hidden: the loss is NaN") {
    cpu_context ctx;
    for (int form = 0; form < 3; ++form)
        for (int divergence = 0; divergence < 4; ++divergence) {
            if (form == 1 && divergence == 1) continue;
            problem_spec spec;
            spec.form = static_cast<teacher_form>(form);
            problem pb(spec);
            pb.student.set(4, std::nan(""));
            reference_options r;
            r.divergence = divergence;
            r.reduction = 2;
            r = with_tail(r, pb);
            CAPTURE(form);
            CAPTURE(divergence);
            const library_result got = run_library(ctx.handle, r, pb);
            REQUIRE(got.status == DISTILL_STATUS_OK);
            CHECK(std::isnan(got.loss[0]));     // row 0 holds the NaN
            CHECK(std::isfinite(got.loss[1]));  // other rows are untouched
        }
}

TEST_CASE("an empty batch (N = 0) is a zero loss, not an error") {
    cpu_context ctx;
    for (int form = 0; form < 3; ++form)
        for (int reduction = 0; reduction < 3; ++reduction) {
            problem_spec spec;
            spec.rows = 0;
            spec.form = static_cast<teacher_form>(form);
            spec.with_labels = true;
            problem pb(spec);
            reference_options r;
            r.reduction = reduction;
            r.hard_weight = 0.5;
            r = with_tail(r, pb);
            const library_result got = run_library(ctx.handle, r, pb);
            REQUIRE_MESSAGE(got.status == DISTILL_STATUS_OK, got.message);
            if (reduction != 2) CHECK(got.loss[0] == 0.0);
            CHECK(got.grad.empty());
        }
}
