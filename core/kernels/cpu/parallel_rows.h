// Splitting rows across OpenMP threads.
#pragma once

#include "cpu_isa.h"

#include <algorithm>
#include <cstdint>

#include "common/openmp.h"

namespace distill::kernels::cpu::DISTILL_CPU_ISA {

// Entries (rows × vocabulary) below which another thread costs more than it
// saves: a fork/join is microseconds, and on a busy machine a thread that
// waits for a descheduled partner costs a whole time slice. A student's
// small-vocabulary batches (128 × 10) thus run on the calling thread.
inline constexpr int64_t min_entries_per_thread = int64_t{1} << 15;

// How many threads a call over `rows` rows of `vocab` entries uses:
// num_threads (≤ 0 means OpenMP's default), never more than the rows, nor
// than the work warrants, at least 1. Per-row results do not depend on it.
inline int row_threads(int64_t rows, int64_t vocab, int num_threads) {
    const int64_t wanted = num_threads > 0 ? num_threads : omp_get_max_threads();
    const int64_t worth = std::max<int64_t>(1, rows * vocab / min_entries_per_thread);
    return static_cast<int>(std::max<int64_t>(1, std::min({rows, wanted, worth})));
}

// Calls fn(begin, end, member) on contiguous blocks of [0, rows), one block
// per thread (member = 0 … threads − 1, for per-thread scratch); `threads`
// comes from row_threads.
template <class Fn>
void for_each_row_range(int64_t rows, int threads, Fn && fn) {
    if (rows <= 0) return;
    if (threads <= 1) {
        fn(int64_t{0}, rows, 0);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        const int64_t team = omp_get_num_threads();
        const int64_t member = omp_get_thread_num();
        const int64_t begin = rows * member / team;
        const int64_t end = rows * (member + 1) / team;
        fn(begin, end, static_cast<int>(member));
    }
}

}  // namespace distill::kernels::cpu::DISTILL_CPU_ISA
