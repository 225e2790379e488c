// A teacher's answers through a store: what is stored as a success is
// read, anything else is asked and stored. The store's side of every job
// (collect.h, batch_api.h) starts here.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "teachers/teacher.h"

namespace distill {

class store;

// The stored success for `request`: under its key, else under the key of
// one of t.former_identities(), which is then filed again under its key
// (record key and teacher_json updated) when `refile`. Nothing when only
// failures or nothing are stored.
std::optional<teacher_record> stored_success(const teacher & t, store & s,
                                             const nlohmann::json & request, bool refile);

// The stored record for the request when it is a success; otherwise asks
// (a stored failure is asked again), stores the answer — failure or not —
// and returns it.
teacher_record query_cached(teacher & t, store & s, const nlohmann::json & request);

}  // namespace distill
