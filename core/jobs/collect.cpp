#include "jobs/collect.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "common/error.h"
#include "jobs/cached_query.h"
#include "store/store.h"
#include "teachers/http_client.h"
#include "teachers/http_teacher.h"

namespace distill {
namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often progress is reported while answers arrive or nothing happens.
constexpr milliseconds progress_interval{100};
// Finished answers are committed in groups (one transaction, WAL append
// and lock round trip for many answers): at most this many, the oldest
// waiting at most this long. What a kill -9 loses is asked again by the rerun, never stored
// twice (rows are keyed).
constexpr size_t group_size = 64;
constexpr milliseconds group_interval{100};

// The state shared by both ways of asking: the summary, the store writes,
// the reasons to stop.
class job {
public:
    job(teacher & t, store & s, const std::vector<nlohmann::json> & requests,
        const collect_settings & settings)
        : teacher_(t), store_(s), requests_(requests), settings_(settings), start_(steady::now()) {
        summary_.requests = int64_t(requests.size());
    }

    // The indices to ask: the first request of each key not stored as a
    // success. A repeated key is answered by the first one's record.
    std::vector<size_t> plan(bool http) {
        std::vector<size_t> to_ask;
        std::set<std::string> seen;
        for (size_t i = 0; i < requests_.size(); ++i) {
            try {
                if (http) kind_of(requests_[i]);
                const std::string key = request_key(teacher_, requests_[i]);
                if (!seen.insert(key).second) {
                    ++summary_.answered_from_store;
                    continue;
                }
                if (stored_success(teacher_, store_, requests_[i], true))
                    ++summary_.answered_from_store;
                else
                    to_ask.push_back(i);
            } catch (const error & e) {
                throw error(e.code(), "requests[" + std::to_string(i) + "]: " + e.what());
            }
        }
        return to_ask;
    }

    // Takes a finished answer into the group being stored; `fatal` as in
    // collect_settings. It counts (and is reported) once its group is
    // committed, so progress never says "done" of an answer a kill -9
    // could still lose.
    void finish(size_t index, teacher_record record, bool fatal) {
        if (group_.empty()) group_started_ = steady::now();
        if (fatal && settings_.stop_on_fatal && fatal_status_ == 0) {
            fatal_status_ = record.error_status;
            fatal_message_ = "requests[" + std::to_string(index) + "] (key " + record.key +
                             ") failed: " + record.error_message +
                             "; no request started after it (stop_on_fatal_error); those "
                             "already in flight finished and were stored";
        }
        group_.push_back(std::move(record));
    }

    // Answers finished and not yet committed.
    size_t waiting() const { return group_.size(); }

    // When the oldest answer of the group must be committed by (a time
    // point far away while the group is empty).
    steady::time_point flush_due() const {
        return group_.empty() ? steady::time_point::max() : group_started_ + group_interval;
    }

    // Commits the group in one transaction when it is full, when its
    // oldest answer is `lookahead` or less from being due, or when
    // `force`; then counts it.
    void flush(bool force, steady::duration lookahead = steady::duration::zero()) {
        if (group_.empty()) return;
        if (!force && group_.size() < group_size && steady::now() + lookahead < flush_due()) return;
        store_.put_many(group_);
        for (const teacher_record & record : group_) {
            ++summary_.asked;
            if (record.failed())
                ++summary_.failed;
            else
                ++summary_.succeeded;
            summary_.prompt_tokens += record.usage.prompt_tokens;
            summary_.cached_tokens += record.usage.cached_tokens;
            summary_.completion_tokens += record.usage.completion_tokens;
        }
        summary_.cost_usd = cost_usd(settings_.prices, summary_.prompt_tokens,
                                     summary_.cached_tokens, summary_.completion_tokens);
        group_.clear();
    }

    // Calls progress when `force` or when it last ran long enough ago.
    void report(bool force) {
        const auto now = steady::now();
        summary_.elapsed_seconds = std::chrono::duration<double>(now - start_).count();
        if (!settings_.progress || (!force && now - last_report_ < progress_interval)) return;
        last_report_ = now;
        if (!settings_.progress(summary_)) cancelled_ = true;
    }

    bool stopping() const { return cancelled_ || fatal_status_ != 0; }

    // The summary, or the reason the job stopped early.
    collect_summary result() {
        flush(true);
        report(true);
        if (fatal_status_ != 0) throw error(status(fatal_status_), fatal_message_);
        if (cancelled_)
            throw error(status::cancelled, "collect: stopped by the progress callback after " +
                                               std::to_string(summary_.asked) +
                                               " asked; answers so far are stored");
        return summary_;
    }

    teacher & teacher_;
    store & store_;
    const std::vector<nlohmann::json> & requests_;
    const collect_settings & settings_;

private:
    collect_summary summary_;
    std::vector<teacher_record> group_;  // finished, not yet committed
    steady::time_point group_started_{};
    steady::time_point start_, last_report_{};
    bool cancelled_ = false;
    int32_t fatal_status_ = 0;
    std::string fatal_message_;
};

// Any teacher: one request at a time on the calling thread. An answer
// waits for its group only when the next one is expected within the group
// interval (a slow teacher's answers are committed one by one).
void ask_in_turn(job & j, const std::vector<size_t> & to_ask) {
    steady::duration last_ask{};
    for (const size_t index : to_ask) {
        if (j.stopping()) break;
        j.flush(false, last_ask);
        const nlohmann::json & request = j.requests_[index];
        teacher_record record;
        const auto wall_start = std::chrono::system_clock::now();
        const auto start = steady::now();
        j.teacher_.ask(request, record);  // error(cancelled) from a callback ends the job here
        last_ask = steady::now() - start;
        stamp_record(j.teacher_, request, wall_start, start, record);
        const bool fatal = record.error_status == int32_t(status::invalid_argument);
        j.finish(index, std::move(record), fatal);
        j.report(false);
    }
}

// One request of an HTTP job, from its first attempt to its final answer.
struct flight {
    size_t index = 0;
    teacher_record record;
    http_request http;
    int attempt = 0;
    int64_t estimated_tokens = 0;
    std::chrono::system_clock::time_point wall_start;
    steady::time_point start, deadline, retry_at;
};

// An HTTP teacher: up to `concurrency` requests in flight in one
// http_multi, retries waiting on the side without holding a slot, every
// start within the rate limits.
void ask_concurrently(job & j, const http_teacher & teacher, const std::vector<size_t> & to_ask) {
    const collect_settings & settings = j.settings_;
    const size_t concurrency = size_t(std::max(settings.concurrency, 1));
    std::deque<size_t> pending(to_ask.begin(), to_ask.end());
    std::vector<flight> retrying;
    std::map<uint64_t, flight> flying;
    uint64_t next_tag = 0;
    http_multi multi;
    rate_limiter limiter(settings.limits, steady::now());

    for (;;) {
        auto now = steady::now();
        auto wake = now + progress_interval;
        // Answers waiting for their group keep their slots, so a kill -9
        // loses at most `concurrency` answers, as with a commit each; they
        // are committed as soon as a slot is wanted.
        if (flying.size() + j.waiting() >= concurrency && (!pending.empty() || !retrying.empty()))
            j.flush(true);
        // Start what may start: due retries first (they were asked earlier).
        while (!j.stopping() && flying.size() + j.waiting() < concurrency) {
            auto due = std::find_if(retrying.begin(), retrying.end(),
                                    [&](const flight & f) { return f.retry_at <= now; });
            if (due == retrying.end() && pending.empty()) break;
            const nlohmann::json & request =
                j.requests_[due != retrying.end() ? due->index : pending.front()];
            const int64_t estimate = estimate_tokens(request, j.teacher_.parameters());
            const milliseconds wait = limiter.wait_before(estimate, now);
            if (wait > milliseconds(0)) {
                wake = std::min(wake, now + wait);
                break;
            }
            flight f;
            if (due != retrying.end()) {
                f = std::move(*due);
                retrying.erase(due);
            } else {
                f.index = pending.front();
                pending.pop_front();
                f.http = teacher.prepare(request, f.record);
                f.wall_start = std::chrono::system_clock::now();
                f.start = now;
                f.deadline = teacher.retry_deadline(now);
            }
            f.estimated_tokens = estimate;
            limiter.spend(estimate, now);
            multi.start(next_tag, f.http);
            flying.emplace(next_tag++, std::move(f));
        }
        // Stopping: what is in flight finishes and is stored; retries not
        // yet due are dropped unstored (a rerun asks them again).
        if (flying.empty() && (j.stopping() || (pending.empty() && retrying.empty()))) break;
        for (const flight & f : retrying) wake = std::min(wake, f.retry_at);
        wake = std::min(wake, j.flush_due());
        const milliseconds max_wait =
            std::max(std::chrono::ceil<milliseconds>(wake - steady::now()), milliseconds(0));
        if (flying.empty()) {
            std::this_thread::sleep_for(max_wait);
        } else {
            for (auto & [tag, response] : multi.poll(max_wait)) {
                auto node = flying.extract(tag);
                flight & f = node.mapped();
                now = steady::now();
                limiter.observe(response.headers, now);
                const nlohmann::json & request = j.requests_[f.index];
                const http_attempt_outcome outcome = teacher.read_attempt(
                    request, f.http, response, f.attempt, f.deadline, f.record);
                if (!outcome.done) {
                    limiter.settle(f.estimated_tokens, 0);  // refused: nothing was spent
                    ++f.attempt;
                    f.retry_at = now + outcome.wait;
                    retrying.push_back(std::move(f));
                    continue;
                }
                limiter.settle(f.estimated_tokens,
                               f.record.usage.prompt_tokens + f.record.usage.completion_tokens);
                stamp_record(j.teacher_, request, f.wall_start, f.start, f.record);
                j.finish(f.index, std::move(f.record), outcome.fatal);
            }
        }
        j.flush(false);
        j.report(false);
    }
}

}  // namespace

double cost_usd(const price_table & prices, int64_t prompt_tokens, int64_t cached_tokens,
                int64_t completion_tokens) {
    const int64_t cached = std::min(cached_tokens, prompt_tokens);
    return (double(prompt_tokens - cached) * prices.prompt + double(cached) * prices.cached +
            double(completion_tokens) * prices.completion) /
           1e6;
}

collect_summary collect(teacher & t, store & s, const std::vector<nlohmann::json> & requests,
                        const collect_settings & settings) {
    if (settings.concurrency < 1)
        fail_invalid("options.concurrency: expected >= 1, got " +
                     std::to_string(settings.concurrency));
    job j(t, s, requests, settings);
    const http_teacher * http = dynamic_cast<const http_teacher *>(&t);
    const std::vector<size_t> to_ask = j.plan(http != nullptr);
    j.report(true);
    try {
        if (http != nullptr)
            ask_concurrently(j, *http, to_ask);
        else
            ask_in_turn(j, to_ask);
    } catch (...) {
        j.flush(true);  // a callback's cancel: what was answered is still kept
        throw;
    }
    return j.result();
}

}  // namespace distill
