// A small pool of worker threads for the built-in students' forward,
// backward and optimizer: run(team, job) calls job(member, team) on the
// calling thread (member 0) and team − 1 workers, and returns when all are
// done; barrier() synchronises them inside a job.
//
// Why not OpenMP's team: libgomp's idle threads spin (300k pause loops,
// milliseconds) before they sleep, and its wait policy is fixed when the
// library loads. On a machine shared with other work that spinning is what
// a step pays for: a partner descheduled at a barrier costs a time slice,
// and a 0.2 ms step averaged 25 ms on two threads at a load of 3.5 on two
// cores. Here a waiting thread spins briefly, then yields the core, then
// sleeps on a futex (std::atomic::wait).
//
// Results never depend on the team: callers split work into blocks fixed
// by the sizes and hand each member a contiguous range of blocks (what
// OpenMP's schedule(static) does), so a member keeps to the same weights
// from step to step — and to its core's cache.
#pragma once

#include "common/openmp.h"
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace distill::layers {

namespace team_detail {

inline void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// Whether this thread is running a job (a nested run, OpenMP region or
// parallel GEMM then runs on the thread alone).
inline thread_local bool in_job = false;

// Waits until value != old: a few hundred pause loops (a partner a few
// microseconds late), then sched_yield for about a millisecond (a partner
// that is running elsewhere; lets others use this core meanwhile), then a
// futex sleep.
template <class T>
void wait_while_equal(const std::atomic<T> & value, T old) {
    for (int spin = 0; spin < 256; ++spin) {
        if (value.load(std::memory_order_acquire) != old) return;
        pause();
    }
    for (int spin = 0; spin < 1024; ++spin) {
        if (value.load(std::memory_order_acquire) != old) return;
        sched_yield();
    }
    while (value.load(std::memory_order_acquire) == old) value.wait(old, std::memory_order_acquire);
}

}  // namespace team_detail

inline bool inside_parallel_work() { return team_detail::in_job || omp_in_parallel(); }

class thread_team {
public:
    // The team for a call: OpenMP's thread count for this thread (a
    // context's num_threads, set by scoped_omp_threads), or 1 inside a job
    // or an OpenMP region.
    static int size() { return inside_parallel_work() ? 1 : omp_get_max_threads(); }

    // job(member, team) for member = 0 … team − 1; team ≤ 1 (or a team in
    // use by another thread) runs job(0, 1) here.
    template <class Job>
    static void run(int team, Job && job) {
        thread_team & pool = instance();
        std::unique_lock lock(pool.mutex_, std::try_to_lock);
        if (team <= 1 || !lock.owns_lock() || inside_parallel_work()) {
            const bool outer = !team_detail::in_job;
            team_detail::in_job = true;
            job(0, 1);
            if (outer) team_detail::in_job = false;
            return;
        }
        pool.start(team, [](void * context, int member, int size) {
            (*static_cast<Job *>(context))(member, size);
        }, &job);
    }

    // Inside a job: returns when every member of the team has called it.
    static void barrier(int team) {
        if (team <= 1) return;
        thread_team & pool = instance();
        const uint32_t phase = pool.phase_.load(std::memory_order_acquire);
        if (pool.arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == team) {
            pool.arrived_.store(0, std::memory_order_relaxed);
            pool.phase_.store(phase + 1, std::memory_order_release);
            pool.phase_.notify_all();
        } else {
            team_detail::wait_while_equal(pool.phase_, phase);
        }
    }

    // Blocks [first, end) of `blocks` for `member` of `team`: contiguous
    // ranges, as OpenMP's schedule(static).
    static int64_t first_block(int64_t blocks, int member, int team) {
        return blocks * member / team;
    }

private:
    using job_function = void (*)(void *, int, int);

    static thread_team & instance() {
        // Never destroyed: workers sleeping at exit are simply ended.
        static thread_team * pool = new thread_team;
        return *pool;
    }

    void start(int team, job_function function, void * context) {
        if (pid_ != getpid()) {  // a forked child has none of its parent's threads
            pid_ = getpid();
            workers_ = 0;
        }
        while (workers_ < team - 1) {
            // The generation it has seen: the job below is its first.
            const uint32_t seen = generation_.load(std::memory_order_relaxed);
            std::thread([this, index = workers_ + 1, seen] { work(index, seen); }).detach();
            ++workers_;
        }
        function_ = function;
        context_ = context;
        team_ = team;
        remaining_.store(workers_, std::memory_order_relaxed);
        const uint32_t next = generation_.load(std::memory_order_relaxed) + 1;
        generation_.store(next, std::memory_order_release);
        generation_.notify_all();
        team_detail::in_job = true;
        function(context, 0, team);
        team_detail::in_job = false;
        for (int left = remaining_.load(std::memory_order_acquire); left != 0;
             left = remaining_.load(std::memory_order_acquire))
            team_detail::wait_while_equal(remaining_, left);
    }

    void work(int index, uint32_t seen) {
        team_detail::in_job = true;
        const pid_t pid = pid_;
        for (;;) {
            team_detail::wait_while_equal(generation_, seen);
            seen = generation_.load(std::memory_order_acquire);
            if (pid != getpid()) return;
            if (index < team_) function_(context_, index, team_);
            if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) remaining_.notify_all();
        }
    }

    std::mutex mutex_;  // one run at a time
    pid_t pid_ = getpid();
    int workers_ = 0;
    // Set before generation_ moves on (release), read after (acquire).
    job_function function_ = nullptr;
    void * context_ = nullptr;
    int team_ = 1;
    std::atomic<uint32_t> generation_{0};  // 32 bits: a futex word
    std::atomic<int> remaining_{0};
    std::atomic<int> arrived_{0};
    std::atomic<uint32_t> phase_{0};
};

// Which threads a parallel layer function runs its blocks on. OpenMP's:
// the built-in students, whose other loops are OpenMP regions. The thread
// team: the transformer (core/lm), whose every pass runs there — mixing
// the two pools costs, after each OpenMP region, the time its idle threads
// spin (libgomp: up to milliseconds) while a team worker waits for a core.
enum class pool { openmp, team };

// body(block) for block in [0, blocks) on the team, each member taking the
// next block not yet taken: on a shared machine a member that loses its
// core for a while leaves its blocks to the others instead of holding the
// whole team at the end. Blocks are computed independently, so which
// member takes which never changes a result.
template <class Body>
void for_blocks_dynamic(int64_t blocks, Body && body) {
    std::atomic<int64_t> next{0};
    thread_team::run(blocks > 1 ? thread_team::size() : 1, [&](int, int) {
        for (int64_t block = next.fetch_add(1, std::memory_order_relaxed); block < blocks;
             block = next.fetch_add(1, std::memory_order_relaxed))
            body(block);
    });
}

// body(block) for block in [0, blocks): on OpenMP's threads (static
// schedule) or the team's (for_blocks_dynamic), unless already inside
// parallel work, then on this thread. Blocks are computed independently,
// so which thread takes which never changes a result.
template <class Body>
void for_blocks(pool threads, int64_t blocks, Body && body) {
    if (threads == pool::team) {
        for_blocks_dynamic(blocks, body);
        return;
    }
#pragma omp parallel for schedule(static) if (!inside_parallel_work())
    for (int64_t block = 0; block < blocks; ++block) body(block);
}

}  // namespace distill::layers
