// Runs an elementwise loop body over [0, N) on OpenMP's threads when N is
// above `threshold` and no parallel region is active, else on the calling
// thread without entering OpenMP at all: the students call the activations
// row by row inside their own parallel region, where even a one-thread
// nested region (it allocates a team) would cost more than a row's work.
#pragma once

#include "common/openmp.h"

#include "students/layers/thread_team.h"

#include <algorithm>
#include <cstdint>

namespace distill::layers {

//
// simd = true asks for vector code (only for bodies that compute the same
// bits in a vector lane as alone — not ones calling libm, whose vector
// variants may round differently, which would make results depend on where
// a thread's range starts).
template <bool simd = false, class Body>
void elementwise(int64_t N, int64_t threshold, Body && body) {
    if (N > threshold && !inside_parallel_work()) {
        if constexpr (simd) {
#pragma omp parallel for simd schedule(static)
            for (int64_t i = 0; i < N; ++i) body(i);
        } else {
#pragma omp parallel for schedule(static)
            for (int64_t i = 0; i < N; ++i) body(i);
        }
    } else if constexpr (simd) {
#pragma omp simd
        for (int64_t i = 0; i < N; ++i) body(i);
    } else {
        for (int64_t i = 0; i < N; ++i) body(i);
    }
}

// elementwise on the thread team (thread_team.h's pool::team: the
// transformer's passes), in 16 blocks per member of the team taken as they
// come (for_blocks_dynamic; with simd only for bodies whose lanes compute
// what a scalar would, as above).
template <bool simd = false, class Body>
void team_elementwise(int64_t N, int64_t threshold, Body && body) {
    const int64_t team = N > threshold && !inside_parallel_work() ? thread_team::size() : 1;
    const int64_t blocks = std::min<int64_t>(N, 16 * team);
    for_blocks_dynamic(blocks, [&](int64_t block) {
        const int64_t begin = N * block / blocks, end = N * (block + 1) / blocks;
        if constexpr (simd) {
#pragma omp simd
            for (int64_t i = begin; i < end; ++i) body(i);
        } else {
            for (int64_t i = begin; i < end; ++i) body(i);
        }
    });
}

}  // namespace distill::layers
