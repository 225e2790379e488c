#include "teachers/callback_teacher.h"

#include "common/error.h"
#include "teachers/request_key.h"

namespace distill {

callback_teacher::callback_teacher(answer_fn answer, const std::string & name,
                                   const std::string & model, nlohmann::json parameters)
    : answer_(std::move(answer)),
      identity_({{"kind", "callback"}, {"name", name}, {"model", model}}),
      parameters_(std::move(parameters)) {}

void callback_teacher::ask(const nlohmann::json & request, teacher_record & record) {
    const int32_t result = answer_(canonical_json(request), record);
    if (result == int32_t(status::cancelled))
        throw error(status::cancelled, "teacher callback '" + identity_["name"].get<std::string>() +
                                           "' asked to stop (returned DISTILL_STATUS_CANCELLED)");
    if (result != 0) {
        record.error_status = result;
        if (record.error_message.empty())
            record.error_message = "teacher callback returned status " + std::to_string(result);
    }
    if (record.origin.provider.empty()) record.origin.provider = "callback";
    if (record.origin.endpoint.empty())
        record.origin.endpoint = identity_["name"].get<std::string>();
    if (record.origin.model.empty()) record.origin.model = identity_["model"].get<std::string>();
}

}  // namespace distill
