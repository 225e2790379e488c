// Every divergence × reduction × teacher form × tail mode, with and
// without the hard loss and the T² scaling: the library's loss against the
// fp64 reference, and its gradient against fp64 finite differences of it.
#include <doctest/doctest.h>

#include <distill/distill.h>

#include <string>

#include "kd_loss_problem.h"

namespace {

using namespace test;

const char * form_name(teacher_form f) {
    switch (f) {
    case teacher_form::dense: return "dense";
    case teacher_form::topk_renormalize: return "topk-renormalize";
    case teacher_form::topk_bucket: return "topk-bucket";
    }
    return "?";
}

struct cpu_context {
    distill_context * handle = nullptr;
    cpu_context() { REQUIRE(distill_context_create(nullptr, &handle) == DISTILL_STATUS_OK); }
    ~cpu_context() { distill_context_free(handle); }
};

void check_against_reference(const distill_context * ctx, const reference_options & r,
                             problem & pb) {
    const library_result got = run_library(ctx, r, pb);
    REQUIRE_MESSAGE(got.status == DISTILL_STATUS_OK, got.message);
    const std::vector<int64_t> labels = pb.label_values();
    const reference_teacher teacher = pb.reference();
    const std::vector<double> student = pb.student.values();
    if (r.reduction == 2) {
        const std::vector<double> rows =
            reference_row_losses(r, student, pb.spec.rows, pb.spec.vocab, teacher, labels);
        for (size_t i = 0; i < rows.size(); ++i) {
            INFO("row ", i);
            CHECK(close(got.loss[i], rows[i], 1e-5, 1e-5));
        }
    } else {
        const double expected =
            reference_loss(r, student, pb.spec.rows, pb.spec.vocab, teacher, labels);
        CHECK(close(got.loss[0], expected, 1e-5, 1e-5));
    }
    const std::vector<double> fd =
        reference_gradient(r, student, pb.spec.rows, pb.spec.vocab, teacher, labels);
    for (size_t i = 0; i < fd.size(); ++i) {
        INFO("gradient entry ", i, ": library ", got.grad[i], ", finite differences ", fd[i]);
        CHECK(close(got.grad[i], fd[i], 2e-6, 2e-4));
    }
}

}  // namespace

TEST_CASE("every option combination matches the reference and finite differences") {
    cpu_context ctx;
    const teacher_form forms[] = {teacher_form::dense, teacher_form::topk_renormalize,
                                  teacher_form::topk_bucket};
    uint32_t seed = 10;
    for (teacher_form form : forms)
        for (int divergence = 0; divergence < 4; ++divergence)
            for (int reduction = 0; reduction < 3; ++reduction)
                for (int hard = 0; hard < 2; ++hard)
                    for (int t2 = 0; t2 < 2; ++t2) {
                        if (form == teacher_form::topk_renormalize && divergence == 1) continue;
                        problem_spec spec;
                        spec.form = form;
                        spec.rows = 3;
                        spec.vocab = 7;
                        spec.k = 3;
                        spec.with_labels = true;
                        spec.ignore_some_rows = hard == 1;
                        spec.seed = ++seed;
                        problem pb(spec);
                        reference_options r;
                        r.divergence = divergence;
                        r.beta = 0.3;
                        r.temperature = 1.7;
                        r.scale_by_t2 = t2 == 1;
                        r.reduction = reduction;
                        r.hard_weight = hard == 1 ? 0.4 : 0.0;
                        r.soft_weight = hard == 1 ? 0.6 : 1.0;
                        r = with_tail(r, pb);
                        CAPTURE(form_name(form));
                        CAPTURE(divergence);
                        CAPTURE(reduction);
                        CAPTURE(hard);
                        CAPTURE(t2);
                        check_against_reference(ctx.handle, r, pb);
                    }
}

TEST_CASE("hard loss alone (soft_weight 0) and no labels at all") {
    cpu_context ctx;
    problem_spec spec;
    spec.with_labels = true;
    problem pb(spec);
    reference_options r;
    r.soft_weight = 0.0;
    r.hard_weight = 1.0;
    check_against_reference(ctx.handle, r, pb);

    problem_spec unlabelled;
    unlabelled.seed = 5;
    problem pb2(unlabelled);
    reference_options plain;
    plain.divergence = 3;
    check_against_reference(ctx.handle, plain, pb2);
}

TEST_CASE("JSD's endpoints are exactly forward KL (beta 0) and reverse KL (beta 1)") {
    cpu_context ctx;
    problem_spec spec;
    spec.seed = 77;
    problem pb(spec);
    for (double beta : {0.0, 1.0}) {
        reference_options jsd;
        jsd.divergence = 2;
        jsd.beta = beta;
        reference_options kl;
        kl.divergence = beta == 0.0 ? 0 : 1;
        const library_result a = run_library(ctx.handle, jsd, pb);
        const library_result b = run_library(ctx.handle, kl, pb);
        REQUIRE(a.status == DISTILL_STATUS_OK);
        CHECK(a.loss[0] == b.loss[0]);
        CHECK(a.grad == b.grad);
        CHECK(a.loss[0] > 0.01);  // not the interior formula's limit, 0
    }
}

TEST_CASE("TVD's gradient is zero where teacher and student agree") {
    cpu_context ctx;
    problem_spec spec;
    spec.rows = 2;
    spec.vocab = 5;
    problem pb(spec);
    for (size_t i = 0; i < pb.student.size(); ++i) pb.teacher_logits.set(i, pb.student.get(i));
    reference_options r;
    r.divergence = 3;
    const library_result got = run_library(ctx.handle, r, pb);
    REQUIRE(got.status == DISTILL_STATUS_OK);
    CHECK(got.loss[0] == doctest::Approx(0.0).epsilon(1e-7));
    for (double g : got.grad) CHECK(std::fabs(g) < 1e-7);
}
