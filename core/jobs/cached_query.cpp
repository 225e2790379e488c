#include "jobs/cached_query.h"

#include "store/store.h"
#include "teachers/request_key.h"

namespace distill {

std::optional<teacher_record> stored_success(const teacher & t, store & s,
                                             const nlohmann::json & request, bool refile) {
    const std::string key = request_key(t, request);
    std::optional<teacher_record> stored = s.get(key);
    if (stored) return stored->failed() ? std::nullopt : std::move(stored);
    for (const nlohmann::json & former : t.former_identities()) {
        stored = s.get(request_key(former, request, t.parameters()));
        if (!stored || stored->failed()) continue;
        stored->key = key;
        stored->origin.teacher_json = canonical_json(t.identity());
        if (refile) s.put(*stored);
        return stored;
    }
    return std::nullopt;
}

teacher_record query_cached(teacher & t, store & s, const nlohmann::json & request) {
    if (std::optional<teacher_record> stored = stored_success(t, s, request, true))
        return std::move(*stored);
    teacher_record record = query(t, request);
    s.put(record);
    return record;
}

}  // namespace distill
