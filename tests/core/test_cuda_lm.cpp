// The CUDA backend's transformer primitives (core/backend/cuda_backend_api.h,
// API 3) against the CPU functions of core/lm on the same random inputs,
// odd sizes included (T not a multiple of the kernels' 16- and 32-row
// tiles, head sizes 6 … 256); then the device transformer
// (core/lm/device_transformer.h) against the CPU model for several configs,
// and a few optimiser steps against the CPU trainer. Bit for bit where the
// operations are the same (the embedding's gather and scatter-add), to
// fp32 rounding elsewhere (cuBLAS, expf and the sums' order differ).
// Host-only C++: device memory goes through the table.
//
// Without a device (or without the backend library) every case says so and
// returns; the GPU checks (scripts/run-gpu-checks.sh) run them on a GPU.
// The same device-transformer checks run on the emulated backend on every
// machine (test_lm_device_transformer.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <numeric>
#include <string>
#include <vector>

#include "backend/context.h"
#include "backend/cuda_backend_loader.h"
#include "lm/attention.h"
#include "lm/cross_entropy.h"
#include "lm/embedding.h"
#include "lm/rmsnorm.h"
#include "lm/rope.h"
#include "lm/swiglu.h"
#include "lm_device_checks.h"
#include "students/device_student.h"
#include "test_student_support.h"

using distill::device_buffer;
using distill::device_session;
using lm_device_checks::make_config;
using student_test::random_values;
using student_test::relative_error;

namespace {

// A CUDA context on device 0, or none (with the skip message).
bool cuda_context(distill::context * out) {
    try {
        (void)distill::cuda_backend();
    } catch (const std::exception & e) {
        MESSAGE("no CUDA device: skipped (the CUDA backend did not load: ", std::string(e.what()),
                ")");
        return false;
    }
    if (distill::cuda_device_count() == 0) {
        MESSAGE("no CUDA device: skipped");
        return false;
    }
    out->cuda = true;
    out->device_id = 0;
    out->cuda_backend = &distill::cuda_backend();
    return true;
}

struct message_buffer {
    char text[512] = {};
};

// One primitive's call: status 0 or the test fails with the message.
#define REQUIRE_CALL(call)                                  \
    do {                                                    \
        message_buffer m_;                                  \
        const int32_t status_ = (call);                     \
        REQUIRE_MESSAGE(status_ == 0, m_.text);             \
    } while (0)
#define MESSAGE_ARGS m_.text, sizeof m_.text

template <class T>
T * upload(device_session &, device_buffer & b, const std::vector<T> & host) {
    b.upload(host.data(), sizeof(T) * host.size());
    return b.as<T>();
}

template <class T>
std::vector<T> download(device_session & s, const T * device, size_t n) {
    std::vector<T> host(n);
    s.copy(host.data(), device, sizeof(T) * n, 1);
    return host;
}

// A buffer of n NaNs: an output the kernels forget shows up.
float * poisoned(device_session & s, device_buffer & b, size_t n) {
    return upload(s, b, std::vector<float>(n, std::nanf("")));
}

bool same_bits(const std::vector<float> & a, const std::vector<float> & b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct attention_shape {
    int64_t B, T, H, KV, D;
};

}  // namespace

TEST_CASE("cuda lm primitives: attention forward and backward match lm::attention (GQA, odd T, "
          "D = 6 ... 256)") {
    distill::context ctx;
    if (!cuda_context(&ctx)) return;
    device_session session(ctx);
    const auto & api = session.backend();
    const attention_shape shapes[] = {
        {2, 37, 4, 2, 16}, {1, 70, 4, 4, 32}, {2, 33, 8, 2, 64}, {1, 129, 2, 1, 128},
        {1, 21, 2, 2, 80}, {1, 50, 2, 1, 256}, {3, 1, 3, 1, 6},  {1, 17, 6, 3, 48},
    };
    for (const attention_shape & a : shapes) {
        INFO("B ", a.B, ", T ", a.T, ", H ", a.H, ", KV ", a.KV, ", D ", a.D);
        const size_t qn = static_cast<size_t>(a.B * a.T * a.H * a.D), kn = static_cast<size_t>(a.B * a.T * a.KV * a.D),
                     rows = static_cast<size_t>(a.B * a.H * a.T);
        // Scores of a few units, so the softmax is neither flat nor one-hot.
        const auto q = random_values<float>(qn, 1, -2.0, 2.0);
        const auto k = random_values<float>(kn, 2, -2.0, 2.0);
        const auto v = random_values<float>(kn, 3);
        const auto d_out = random_values<float>(qn, 4);
        std::vector<float> out(qn), lse(rows), d_q(qn), d_k(kn), d_v(kn), row_dot(rows);
        distill::lm::attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), a.B,
                                       a.T, a.H, a.KV, a.D);
        distill::lm::attention_backward(d_q.data(), d_k.data(), d_v.data(), row_dot.data(),
                                        d_out.data(), out.data(), lse.data(), q.data(), k.data(),
                                        v.data(), a.B, a.T, a.H, a.KV, a.D);

        device_buffer bq(session), bk(session), bv(session), bdo(session), bo(session),
            bl(session), bdq(session), bdk(session), bdv(session), brd(session);
        float * dq_ = upload(session, bq, q);
        float * dk_ = upload(session, bk, k);
        float * dv_ = upload(session, bv, v);
        float * ddo = upload(session, bdo, d_out);
        float * dout = poisoned(session, bo, qn);
        float * dlse = poisoned(session, bl, rows);
        REQUIRE_CALL(api.attention_forward(session.handle(), dout, dlse, dq_, dk_, dv_, a.B, a.T,
                                           a.H, a.KV, a.D, MESSAGE_ARGS));
        CHECK(relative_error(download(session, dout, qn), out) < 1e-5);
        CHECK(relative_error(download(session, dlse, rows), lse) < 1e-5);

        float * gq = poisoned(session, bdq, qn);
        float * gk = poisoned(session, bdk, kn);
        float * gv = poisoned(session, bdv, kn);
        float * rd = poisoned(session, brd, rows);
        REQUIRE_CALL(api.attention_backward(session.handle(), gq, gk, gv, rd, ddo, dout, dlse, dq_,
                                            dk_, dv_, a.B, a.T, a.H, a.KV, a.D, MESSAGE_ARGS));
        const auto got_q = download(session, gq, qn), got_k = download(session, gk, kn),
                   got_v = download(session, gv, kn);
        CHECK(relative_error(got_q, d_q) < 1e-4);
        CHECK(relative_error(got_k, d_k) < 1e-4);
        CHECK(relative_error(got_v, d_v) < 1e-4);
        // The same bits on a second run (no atomics).
        REQUIRE_CALL(api.attention_backward(session.handle(), gq, gk, gv, rd, ddo, dout, dlse, dq_,
                                            dk_, dv_, a.B, a.T, a.H, a.KV, a.D, MESSAGE_ARGS));
        CHECK(same_bits(download(session, gq, qn), got_q));
        CHECK(same_bits(download(session, gk, kn), got_k));
    }
}

TEST_CASE("cuda lm primitives: attention refuses bad shapes, naming the argument") {
    distill::context ctx;
    if (!cuda_context(&ctx)) return;
    device_session session(ctx);
    const auto & api = session.backend();
    device_buffer some(session);
    some.reserve(4096);
    float * p = some.as<float>();
    const auto fails_naming = [&](int64_t H, int64_t KV, int64_t D, const char * argument) {
        message_buffer m;
        CHECK(api.attention_forward(session.handle(), p, p, p, p, p, 1, 2, H, KV, D, m.text,
                                    sizeof m.text) == 1);
        INFO(m.text);
        CHECK(std::string(m.text).find(argument) != std::string::npos);
    };
    fails_naming(4, 3, 8, "KV");
    fails_naming(4, 2, 7, "D");
    fails_naming(1, 1, 258, "D");
}

TEST_CASE("cuda lm primitives: rmsnorm, rope, swiglu, embedding and cross_entropy match core/lm") {
    distill::context ctx;
    if (!cuda_context(&ctx)) return;
    device_session session(ctx);
    const auto & api = session.backend();
    void * s = session.handle();

    SUBCASE("rmsnorm forward and backward, C odd") {
        const int64_t N = 37, C = 75;
        const auto x = random_values<float>(static_cast<size_t>(N * C), 1);
        const auto w = random_values<float>(static_cast<size_t>(C), 2, 0.5, 1.5);
        const auto dy = random_values<float>(static_cast<size_t>(N * C), 3);
        const auto start = random_values<float>(static_cast<size_t>(N * C), 4);  // d_inp adds to it
        std::vector<float> y(x.size()), rstd(static_cast<size_t>(N)), dx = start, dw(static_cast<size_t>(C));
        distill::lm::rmsnorm_forward(y.data(), rstd.data(), x.data(), w.data(), N, C, 1e-5);
        distill::lm::rmsnorm_backward(dx.data(), dw.data(), dy.data(), x.data(), rstd.data(),
                                      w.data(), N, C);
        device_buffer bx(session), bw(session), bdy(session), by(session), br(session),
            bdx(session), bdw(session);
        float * gx = upload(session, bx, x);
        float * gw = upload(session, bw, w);
        float * gdy = upload(session, bdy, dy);
        float * gy = poisoned(session, by, x.size());
        float * gr = poisoned(session, br, static_cast<size_t>(N));
        REQUIRE_CALL(api.rmsnorm_forward(s, gy, gr, gx, gw, N, C, 1e-5, MESSAGE_ARGS));
        CHECK(relative_error(download(session, gy, y.size()), y) < 1e-6);
        CHECK(relative_error(download(session, gr, rstd.size()), rstd) < 1e-6);
        float * gdx = upload(session, bdx, start);
        float * gdw = poisoned(session, bdw, static_cast<size_t>(C));
        REQUIRE_CALL(api.rmsnorm_backward(s, gdx, gdw, gdy, gx, gr, gw, N, C, 1, MESSAGE_ARGS));
        CHECK(relative_error(download(session, gdx, dx.size()), dx) < 1e-5);
        CHECK(relative_error(download(session, gdw, dw.size()), dw) < 1e-5);
        // accumulate = 0 overwrites (the poison goes).
        std::vector<float> fresh(x.size(), 0.0f);
        distill::lm::rmsnorm_backward(fresh.data(), dw.data(), dy.data(), x.data(), rstd.data(),
                                      w.data(), N, C);
        gdx = poisoned(session, bdx, x.size());
        REQUIRE_CALL(api.rmsnorm_backward(s, gdx, gdw, gdy, gx, gr, gw, N, C, 0, MESSAGE_ARGS));
        CHECK(relative_error(download(session, gdx, fresh.size()), fresh) < 1e-5);
    }
    SUBCASE("rope forward and backward in place, D = 10") {
        const int64_t B = 2, T = 13, NH = 3, D = 10, context = 20;
        std::vector<float> cos(static_cast<size_t>(context * D / 2)), sin(cos.size());
        distill::lm::rope_tables(cos.data(), sin.data(), context, D, 10000.0);
        const auto x = random_values<float>(static_cast<size_t>(B * T * NH * D), 5);
        std::vector<float> forward = x, back = x;
        distill::lm::rope_forward(forward.data(), cos.data(), sin.data(), B, T, NH, D);
        distill::lm::rope_backward(back.data(), cos.data(), sin.data(), B, T, NH, D);
        device_buffer bc(session), bs(session), bx(session);
        float * gc = upload(session, bc, cos);
        float * gs = upload(session, bs, sin);
        float * gx = upload(session, bx, x);
        REQUIRE_CALL(api.rope(s, gx, gc, gs, B, T, NH, D, 0, MESSAGE_ARGS));
        CHECK(relative_error(download(session, gx, x.size()), forward) < 1e-6);
        gx = upload(session, bx, x);
        REQUIRE_CALL(api.rope(s, gx, gc, gs, B, T, NH, D, 1, MESSAGE_ARGS));
        CHECK(relative_error(download(session, gx, x.size()), back) < 1e-6);
    }
    SUBCASE("swiglu forward and backward") {
        const int64_t n = 1001;
        const auto gate = random_values<float>(static_cast<size_t>(n), 6, -6.0, 6.0);
        const auto up = random_values<float>(static_cast<size_t>(n), 7);
        const auto d_out = random_values<float>(static_cast<size_t>(n), 8);
        std::vector<float> out(static_cast<size_t>(n)), d_gate(static_cast<size_t>(n)), d_up(static_cast<size_t>(n));
        distill::lm::swiglu_forward(out.data(), gate.data(), up.data(), n);
        distill::lm::swiglu_backward(d_gate.data(), d_up.data(), d_out.data(), gate.data(),
                                     up.data(), n);
        device_buffer bg(session), bu(session), bd(session), bo(session), bdg(session),
            bdu(session);
        float * gg = upload(session, bg, gate);
        float * gu = upload(session, bu, up);
        float * gd = upload(session, bd, d_out);
        float * go = poisoned(session, bo, static_cast<size_t>(n));
        REQUIRE_CALL(api.swiglu_forward(s, go, gg, gu, n, MESSAGE_ARGS));
        CHECK(relative_error(download(session, go, out.size()), out) < 1e-6);
        float * gdg = poisoned(session, bdg, static_cast<size_t>(n));
        float * gdu = poisoned(session, bdu, static_cast<size_t>(n));
        REQUIRE_CALL(api.swiglu_backward(s, gdg, gdu, gd, gg, gu, n, MESSAGE_ARGS));
        CHECK(relative_error(download(session, gdg, d_gate.size()), d_gate) < 1e-6);
        CHECK(relative_error(download(session, gdu, d_up.size()), d_up) < 1e-6);
    }
    SUBCASE("embedding gather and scatter-add, bit for bit, repeated ids") {
        const int64_t N = 300, C = 33, V = 41;
        std::vector<int32_t> tokens(static_cast<size_t>(N));
        for (int64_t n = 0; n < N; ++n) tokens[static_cast<size_t>(n)] = int32_t((n * n + 3 * n) % V);
        std::vector<int32_t> order(static_cast<size_t>(N));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](int32_t a, int32_t b) { return tokens[a] < tokens[b]; });
        const auto table = random_values<float>(static_cast<size_t>(V * C), 9);
        const auto d_out = random_values<float>(static_cast<size_t>(N * C), 10);
        const auto start = random_values<float>(static_cast<size_t>(V * C), 11);
        std::vector<float> out(static_cast<size_t>(N * C)), d_table = start;
        distill::lm::embedding_forward(out.data(), tokens.data(), table.data(), N, C);
        distill::lm::embedding_backward(d_table.data(), d_out.data(), tokens.data(), N, C);
        device_buffer bt(session), bo(session), btab(session), bd(session), bdt(session),
            bord(session);
        int32_t * gt = upload(session, bt, tokens);
        int32_t * gord = upload(session, bord, order);
        float * gtab = upload(session, btab, table);
        float * gd = upload(session, bd, d_out);
        float * go = poisoned(session, bo, out.size());
        REQUIRE_CALL(api.embedding_forward(s, go, gt, gtab, N, C, V, MESSAGE_ARGS));
        CHECK(same_bits(download(session, go, out.size()), out));
        float * gdt = upload(session, bdt, start);
        REQUIRE_CALL(api.embedding_backward(s, gdt, gd, gt, gord, N, C, V, MESSAGE_ARGS));
        CHECK(same_bits(download(session, gdt, d_table.size()), d_table));
    }
    SUBCASE("cross_entropy: loss and d_logits, ignored rows, no target at all") {
        const int64_t N = 19, V = 1000;
        const auto logits = random_values<float>(static_cast<size_t>(N * V), 12, -8.0, 8.0);
        std::vector<int32_t> targets(static_cast<size_t>(N));
        for (int64_t n = 0; n < N; ++n)
            targets[static_cast<size_t>(n)] = n % 5 == 2 ? distill::lm::ignore_target : int32_t((n * 37) % V);
        std::vector<float> d_logits(logits.size());
        const double loss = distill::lm::cross_entropy(d_logits.data(), logits.data(),
                                                       targets.data(), N, V);
        device_buffer bl(session), bt(session), bd(session), bloss(session);
        float * gl = upload(session, bl, logits);
        int32_t * gt = upload(session, bt, targets);
        float * gd = poisoned(session, bd, logits.size());
        float * gloss = poisoned(session, bloss, 1);
        REQUIRE_CALL(api.cross_entropy(s, gloss, gd, gl, gt, N, V, MESSAGE_ARGS));
        const float got = download(session, gloss, 1)[0];
        CHECK(std::fabs(got - loss) <= 1e-5 * std::fabs(loss));
        CHECK(relative_error(download(session, gd, d_logits.size()), d_logits) < 1e-5);
        const std::vector<int32_t> none(static_cast<size_t>(N), distill::lm::ignore_target);
        gt = upload(session, bt, none);
        REQUIRE_CALL(api.cross_entropy(s, gloss, gd, gl, gt, N, V, MESSAGE_ARGS));
        CHECK(download(session, gloss, 1)[0] == 0.0f);
        CHECK(relative_error(download(session, gd, d_logits.size()),
                             std::vector<float>(d_logits.size(), 0.0f)) == 0.0);
        std::vector<int32_t> bad = targets;
        bad[3] = int32_t(V);
        gt = upload(session, bt, bad);
        REQUIRE_CALL(api.cross_entropy(s, gloss, nullptr, gl, gt, N, V, MESSAGE_ARGS));
        CHECK(std::isnan(download(session, gloss, 1)[0]));
    }
}

// fp32 on both sides, in other orders: within 1e-4 of the largest value
// of each tensor.
constexpr double model_tolerance = 1e-4;

TEST_CASE("cuda lm: the device transformer matches the CPU model (GQA, tied, odd sizes, D = 16 "
          "... 64)") {
    distill::context ctx;
    if (!cuda_context(&ctx)) return;
    SUBCASE("GQA H = 4, KV = 2, D = 16, T = 37 (not a multiple of the tiles)") {
        lm_device_checks::check_against_cpu(ctx, make_config(97, 64, 2, 4, 2, 96, 64, false), 2,
                                            37, model_tolerance);
    }
    SUBCASE("tied embeddings, D = 32, T = 50") {
        lm_device_checks::check_against_cpu(ctx, make_config(61, 64, 2, 2, 2, 80, 64, true), 3, 50,
                                            model_tolerance);
    }
    SUBCASE("D = 64, multi-query, odd vocab and ffn, T = 1 and T = 70") {
        const auto config = make_config(131, 128, 1, 2, 1, 171, 80, false);
        lm_device_checks::check_against_cpu(ctx, config, 2, 1, model_tolerance);
        lm_device_checks::check_against_cpu(ctx, config, 1, 70, model_tolerance);
    }
}

TEST_CASE("cuda lm: optimiser steps on the device follow the CPU trainer's loss curve") {
    distill::context ctx;
    if (!cuda_context(&ctx)) return;
    lm_device_checks::check_training_curve(ctx, make_config(53, 64, 2, 4, 2, 96, 48, false), 4, 33,
                                           8, 1e-3);
}

TEST_CASE("cuda lm: two device train steps of the same batch give the same bits") {
    distill::context ctx;
    if (!cuda_context(&ctx)) return;
    lm_device_checks::check_repeatable(ctx, make_config(97, 64, 2, 4, 2, 96, 64, true), 3, 45);
}
