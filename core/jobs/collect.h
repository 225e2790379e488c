// A collection job: ask a teacher every request of a set, through a store,
// exactly once. Requests stored as successes are skipped; the rest are
// asked (an HTTP teacher keeps up to `concurrency` requests in flight on
// the calling thread through libcurl's multi interface, within the rate
// limits; any other teacher is asked one request at a time, on the
// calling thread) and the answers are stored in groups, one transaction
// each, a group committed within ~100 ms of its first answer, so a job
// killed at any moment loses at most the answers in flight or of the
// last ~100 ms, and a rerun asks only what is missing.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "teachers/rate_limiter.h"
#include "teachers/teacher.h"

namespace distill {

class store;

// USD per million tokens. Prompt tokens served from the server's cache are
// billed at `cached` instead of `prompt` (OpenAI counts them in
// prompt_tokens and again in cached_tokens).
struct price_table {
    double prompt = 0;
    double cached = 0;
    double completion = 0;
};

struct collect_summary {
    int64_t requests = 0;             // in the set, repeats included
    int64_t answered_from_store = 0;  // stored successes, and repeats of a key in the set
    int64_t asked = 0;                // requests finished by asking the teacher
    int64_t succeeded = 0;            // of those asked
    int64_t failed = 0;               // of those asked (stored as failures)
    int64_t prompt_tokens = 0;        // usage of the answers asked, not of stored ones
    int64_t cached_tokens = 0;
    int64_t completion_tokens = 0;
    double cost_usd = 0;
    double elapsed_seconds = 0;
};

struct collect_settings {
    int32_t concurrency = 8;  // HTTP requests in flight, >= 1
    rate_limits limits;
    price_table prices;
    // Called on the calling thread after groups of answers are stored (its
    // counts are of committed answers only), and once before the job
    // returns; returns false to stop the job.
    std::function<bool(const collect_summary &)> progress;
    // Stop at the first fatal failure (http_attempt_outcome::fatal; for a
    // callback teacher: a request that failed with INVALID_ARGUMENT).
    bool stop_on_fatal = true;
};

// The cost of `usage`-like counts under `prices`.
double cost_usd(const price_table & prices, int64_t prompt_tokens, int64_t cached_tokens,
                int64_t completion_tokens);

// Runs the job and returns its summary. Throws error(cancelled) when
// progress asked to stop, and the failure's status (its message naming the
// request's index and key) on a fatal failure with stop_on_fatal; in both
// cases the requests in flight finish and are stored first. A request set
// of malformed JSON is refused before anything is sent.
collect_summary collect(teacher & t, store & s, const std::vector<nlohmann::json> & requests,
                        const collect_settings & settings);

}  // namespace distill
