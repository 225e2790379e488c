#include "teachers/teacher.h"

#include <chrono>

#include "teachers/request_key.h"

namespace distill {

std::string request_key(const teacher & t, const nlohmann::json & request) {
    return request_key(t.identity(), request, t.parameters());
}

void stamp_record(const teacher & t, const nlohmann::json & request,
                  std::chrono::system_clock::time_point wall_start,
                  std::chrono::steady_clock::time_point start, teacher_record & record) {
    using namespace std::chrono;
    const auto stop = steady_clock::now();
    const auto wall_stop = system_clock::now();
    record.key = request_key(t, request);
    provenance & o = record.origin;
    o.teacher_json = canonical_json(t.identity());
    o.request_json = canonical_json(request);
    // A teacher that sent other parameters than its own says so in ask().
    if (o.parameters_json.empty()) o.parameters_json = canonical_json(t.parameters());
    o.started_at_ms = duration_cast<milliseconds>(wall_start.time_since_epoch()).count();
    o.finished_at_ms = duration_cast<milliseconds>(wall_stop.time_since_epoch()).count();
    o.latency_us = duration_cast<microseconds>(stop - start).count();
    if (o.attempts == 0) o.attempts = 1;
    // What a later read of the store gives, so fresh and stored agree.
    round_to_stored_precision(record);
}

teacher_record query(teacher & t, const nlohmann::json & request) {
    teacher_record record;
    const auto wall_start = std::chrono::system_clock::now();
    const auto start = std::chrono::steady_clock::now();
    t.ask(request, record);
    stamp_record(t, request, wall_start, start, record);
    return record;
}

}  // namespace distill
