// The top-k kernel at vocabularies whose id bitmap outgrows the default
// 48 KiB of shared memory: where the bitmap goes (host arithmetic, checked
// on every machine), and on a GPU the CPU's results at V = 380,000 (shared
// memory past 48 KiB, opted into), 400,000 (past the old 393,216 fallback)
// and 2,000,000 (past Hopper's 227 KiB: global memory), with a student
// whose top-k mass is near 1 (a tail of ~1e-8 that 1 − Σ q_k loses), and a
// repeated id, which makes its row NaN on the GPU as the CPU refuses it.
#include <doctest/doctest.h>

#include "kernels/cuda/kd_loss_topk_mask.h"

using distill::kernels::cuda::plan_topk_mask;
using distill::kernels::cuda::topk_mask_place;

TEST_CASE("cuda top-k bitmap: 48 KiB less the static shared memory, then the opt-in limit") {
    constexpr size_t static_shared = 2352;  // the kernel's block reductions
    constexpr size_t hopper_opt_in = 227 * 1024;
    // 48 KiB − 2352 B = 46800 B = 11700 words = 374,400 ids.
    CHECK(plan_topk_mask(374400, static_shared, hopper_opt_in).place == topk_mask_place::shared);
    const auto past_default = plan_topk_mask(374401, static_shared, hopper_opt_in);
    CHECK(past_default.place == topk_mask_place::shared_opt_in);
    CHECK(past_default.shared_bytes == 11701 * 4);
    // 393,216 ids fill 48 KiB exactly: no room for the static part.
    CHECK(plan_topk_mask(393216, static_shared, hopper_opt_in).place ==
          topk_mask_place::shared_opt_in);
    const auto at_380k = plan_topk_mask(380000, static_shared, hopper_opt_in);
    CHECK(at_380k.place == topk_mask_place::shared_opt_in);
    CHECK(at_380k.words == 11875);
    CHECK(at_380k.shared_bytes == 47500);
    // (227 KiB − 2352 B) · 8 = 1,840,768 ids.
    CHECK(plan_topk_mask(1840768, static_shared, hopper_opt_in).place ==
          topk_mask_place::shared_opt_in);
    const auto past_opt_in = plan_topk_mask(1840769, static_shared, hopper_opt_in);
    CHECK(past_opt_in.place == topk_mask_place::global);
    CHECK(past_opt_in.shared_bytes == 0);
    CHECK(past_opt_in.words == 57525);
    // A device whose opt-in limit is the default: straight to global memory.
    CHECK(plan_topk_mask(380000, static_shared, 48 * 1024).place == topk_mask_place::global);
    CHECK(plan_topk_mask(1, static_shared, 48 * 1024).place == topk_mask_place::shared);
}

#if DISTILL_TEST_CUDA

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda_test_support.h"
#include "kd_loss_problem.h"

namespace {

using namespace test;
using namespace test::cuda_support;

// Student logits of +30 at the row's top-k ids: q_rest ≈ V · e² / (K · e³⁰),
// about 1e-8, below the rounding of Σ q_k.
void concentrate_student_on_topk(problem & pb) {
    for (int64_t row = 0; row < pb.spec.rows; ++row)
        for (int64_t j = 0; j < pb.spec.k; ++j) {
            const auto id = static_cast<int64_t>(pb.topk_ids.get(row * pb.spec.k + j));
            pb.student.set(row * pb.spec.vocab + id, 30.0);
        }
}

void check_vocabulary(int64_t vocab, int64_t rows) {
    const context_handle cpu(false);
    const context_handle gpu(true);
    for (const teacher_form form : {teacher_form::topk_bucket, teacher_form::topk_renormalize})
        for (const bool concentrated : {false, true}) {
            CAPTURE(vocab);
            CAPTURE(static_cast<int>(form));
            CAPTURE(concentrated);
            problem_spec spec;
            spec.form = form;
            spec.rows = rows;
            spec.vocab = vocab;
            spec.k = 20;
            spec.with_labels = true;
            spec.seed = static_cast<uint32_t>(vocab % 1000 + (concentrated ? 7 : 3));
            problem pb(spec);
            if (concentrated) concentrate_student_on_topk(pb);
            reference_options r;
            r.temperature = 2.0;
            r.hard_weight = 0.5;
            r.reduction = 2;  // NONE: one loss per row
            r = with_tail(r, pb);
            check_same(run_library(cpu.handle, r, pb), run_problem_on_cuda(gpu.handle, r, pb),
                       storage::f32);

            // Row 1 with its first id repeated: the CPU refuses the call, the
            // GPU makes that row NaN and leaves the others as they were.
            problem repeated = pb;
            repeated.topk_ids.set(1 * spec.k + 5, repeated.topk_ids.get(1 * spec.k + 0));
            const library_result refused = run_library(cpu.handle, r, repeated);
            CHECK(refused.status == DISTILL_STATUS_INVALID_ARGUMENT);
            CHECK(refused.message.find("twice in row 1") != std::string::npos);
            const library_result got = run_problem_on_cuda(gpu.handle, r, repeated);
            REQUIRE_MESSAGE(got.status == DISTILL_STATUS_OK, got.message);
            CHECK(std::isnan(got.loss[1]));
            for (int64_t i = 0; i < vocab; ++i) REQUIRE(std::isnan(got.grad[vocab + i]));
            check_same(without_rows(run_library(cpu.handle, r, pb), vocab, {1}),
                       without_rows(got, vocab, {1}), storage::f32);
        }
}

}  // namespace

TEST_CASE("cuda: top-k at V = 380,000 (shared memory past 48 KiB) matches the CPU") {
    if (!cuda_device_present()) return;
    check_vocabulary(380000, 3);
}

TEST_CASE("cuda: top-k at V = 400,000 (past the old 1 - sum fallback) matches the CPU") {
    if (!cuda_device_present()) return;
    check_vocabulary(400000, 3);
}

TEST_CASE("cuda: top-k at V = 2,000,000 (the bitmap in global memory) matches the CPU") {
    if (!cuda_device_present()) return;
    check_vocabulary(2000000, 3);
}

#endif  // DISTILL_TEST_CUDA
