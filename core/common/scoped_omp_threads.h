// Runs a scope with OpenMP's thread count set for the calling thread (a
// context's num_threads), and restores the previous count on exit. OpenMP
// keeps that count per thread, so other threads are not affected.
#pragma once

#include "common/openmp.h"

namespace distill {

class scoped_omp_threads {
public:
    // num_threads ≤ 0: leave OpenMP's default alone.
    explicit scoped_omp_threads(int num_threads) : previous_(omp_get_max_threads()) {
        if (num_threads > 0) {
            omp_set_num_threads(num_threads);
            changed_ = true;
        }
    }
    ~scoped_omp_threads() {
        if (changed_) omp_set_num_threads(previous_);
    }
    scoped_omp_threads(const scoped_omp_threads &) = delete;
    scoped_omp_threads & operator=(const scoped_omp_threads &) = delete;

private:
    int previous_;
    bool changed_ = false;
};

}  // namespace distill
