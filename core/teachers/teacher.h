// A teacher answers requests. Each kind (HTTP, callback, local model) says
// who it is (identity, part of every request key) and how it asks (ask);
// query() adds what is common to all of them: the request key, timestamps
// and latency (jobs/cached_query.h adds the store).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "teachers/teacher_record.h"

namespace distill {

class teacher {
public:
    virtual ~teacher() = default;

    // Who answers: the same request to a different teacher is a different
    // question ({"kind": "callback", "name": ..., "model": ...}).
    virtual const nlohmann::json & identity() const = 0;
    // Identities an older distill keyed this teacher's answers by (read,
    // never written): their stored answers are found and filed again
    // under the current key instead of being asked again.
    virtual std::vector<nlohmann::json> former_identities() const { return {}; }
    // The teacher-wide parameters merged into every request (temperature,
    // top_logprobs, ...), part of the key and of the provenance.
    virtual const nlohmann::json & parameters() const = 0;

    // Asks once and fills `record` (text, positions, usage, provider, ...).
    // A failed request sets record.error_status; throwing error(cancelled)
    // stops the job.
    virtual void ask(const nlohmann::json & request, teacher_record & record) = 0;
};

// The key of `request` for `t` (request_key.h).
std::string request_key(const teacher & t, const nlohmann::json & request);

// What query() adds to an answer: the key, the canonical teacher/request/
// parameters JSON (parameters: those ask() recorded when it changed what it
// sent, else t.parameters()), the wall-clock start and finish (finish = now), the
// latency since `start` and attempts (at least 1); rounds the top-k
// log-probabilities as the store keeps them (round_to_stored_precision). Schedulers that ask
// without query() (jobs/collect.cpp) call it when a request finishes.
void stamp_record(const teacher & t, const nlohmann::json & request,
                  std::chrono::system_clock::time_point wall_start,
                  std::chrono::steady_clock::time_point start, teacher_record & record);

// Asks `t`, then fills the record's key, canonical teacher/request/
// parameters JSON, timestamps and latency (attempts defaults to 1).
teacher_record query(teacher & t, const nlohmann::json & request);

}  // namespace distill
