// OpenMP's runtime calls, or serial stand-ins where the build has no OpenMP
// (DISTILL_OPENMP=OFF, which the ThreadSanitizer build uses): every
// `omp parallel` pragma is then ignored, so a region runs once on the
// calling thread, as a team of one.
//
// The thread count (omp_get_max_threads / omp_set_num_threads) stays a
// per-thread setting as in OpenMP — OMP_NUM_THREADS, else the cores — since
// the students' own thread team (students/layers/thread_team.h) sizes its
// workers from it: without OpenMP that team still runs multi-threaded.
#pragma once

#if defined(_OPENMP)
#include <omp.h>
#else
#include <cstdlib>
#include <thread>

namespace distill::openmp_serial {

inline int default_threads() {
    if (const char * text = std::getenv("OMP_NUM_THREADS")) {
        const int value = std::atoi(text);
        if (value > 0) return value;
    }
    const unsigned cores = std::thread::hardware_concurrency();
    return cores > 0 ? static_cast<int>(cores) : 1;
}

inline int & max_threads() {
    thread_local int count = default_threads();
    return count;
}

}  // namespace distill::openmp_serial

inline int omp_get_max_threads() { return distill::openmp_serial::max_threads(); }
inline void omp_set_num_threads(int count) {
    if (count > 0) distill::openmp_serial::max_threads() = count;
}
inline int omp_get_num_threads() { return 1; }
inline int omp_get_thread_num() { return 0; }
inline int omp_in_parallel() { return 0; }
#endif
