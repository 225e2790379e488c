// Splitting rows across OpenMP threads.
#pragma once

#include "cpu_isa.h"

#include <algorithm>
#include <cstdint>

#include <omp.h>

namespace distill::kernels::cpu::DISTILL_CPU_ISA {

// How many threads a call over `rows` rows uses: num_threads (≤ 0 means
// OpenMP's default), never more than the rows, at least 1.
inline int row_threads(int64_t rows, int num_threads) {
    const int64_t wanted = num_threads > 0 ? num_threads : omp_get_max_threads();
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(rows, wanted)));
}

// Calls fn(begin, end, member) on contiguous blocks of [0, rows), one block
// per thread (member = 0 … threads − 1, for per-thread scratch).
template <class Fn>
void for_each_row_range(int64_t rows, int num_threads, Fn && fn) {
    if (rows <= 0) return;
    const int threads = row_threads(rows, num_threads);
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
