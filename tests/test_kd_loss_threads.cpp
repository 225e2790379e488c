// One context shared by 4 threads at once gives the same answers as calls
// made one at a time; and the result does not depend on the thread count.
#include <doctest/doctest.h>

#include <distill/distill.h>

#include <atomic>
#include <thread>
#include <vector>

#include "kd_loss_problem.h"

using namespace test;

namespace {

problem_spec spec_for(int worker, int round) {
    problem_spec spec;
    spec.rows = 9;
    spec.vocab = 700 + 13 * worker;
    spec.k = 16;
    spec.form = static_cast<teacher_form>((worker + round) % 3);
    spec.with_labels = true;
    spec.ignore_some_rows = true;
    spec.seed = 7000 + 100 * worker + round;
    return spec;
}

reference_options options_for(int worker, const problem & pb) {
    reference_options r;
    r.divergence =
        worker % 4 == 1 && pb.spec.form == teacher_form::topk_renormalize ? 0 : worker % 4;
    r.temperature = 1.5;
    r.hard_weight = 0.2;
    return with_tail(r, pb);
}

}  // namespace

TEST_CASE("the same context from 4 threads at once") {
    distill_context * ctx = nullptr;
    REQUIRE(distill_context_create(nullptr, &ctx) == DISTILL_STATUS_OK);
    constexpr int workers = 4;
    constexpr int rounds = 6;
    // Expected answers, one call at a time.
    std::vector<std::vector<library_result>> expected(workers);
    for (int w = 0; w < workers; ++w)
        for (int round = 0; round < rounds; ++round) {
            problem pb(spec_for(w, round));
            expected[w].push_back(run_library(ctx, options_for(w, pb), pb));
            REQUIRE(expected[w].back().status == DISTILL_STATUS_OK);
        }
    std::atomic<int> mismatches{0};
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w)
        threads.emplace_back([&, w] {
            ++ready;
            while (ready.load() < workers) std::this_thread::yield();
            for (int repeat = 0; repeat < 3; ++repeat)
                for (int round = 0; round < rounds; ++round) {
                    problem pb(spec_for(w, round));
                    const library_result got = run_library(ctx, options_for(w, pb), pb);
                    if (got.status != DISTILL_STATUS_OK || got.loss != expected[w][round].loss ||
                        got.grad != expected[w][round].grad)
                        ++mismatches;
                }
        });
    for (std::thread & t : threads) t.join();
    CHECK(mismatches.load() == 0);
    distill_context_free(ctx);
}

TEST_CASE("bit-identical results for 1 and 2 threads") {
    distill_context_options one;
    distill_context_options_init(&one);
    one.num_threads = 1;
    distill_context_options two = one;
    two.num_threads = 2;
    distill_context * serial = nullptr;
    distill_context * parallel = nullptr;
    REQUIRE(distill_context_create(&one, &serial) == DISTILL_STATUS_OK);
    REQUIRE(distill_context_create(&two, &parallel) == DISTILL_STATUS_OK);
    for (int form = 0; form < 3; ++form) {
        // Large enough (rows × vocabulary ≥ 2 × 32768 entries) that the
        // kernels really split the rows across the two threads.
        problem_spec spec = spec_for(form, 0);
        spec.rows = 40;
        spec.vocab = 2100;
        problem pb(spec);
        const reference_options r = options_for(0, pb);
        const library_result a = run_library(serial, r, pb);
        const library_result b = run_library(parallel, r, pb);
        CHECK(a.loss == b.loss);
        CHECK(a.grad == b.grad);
    }
    distill_context_free(serial);
    distill_context_free(parallel);
}
