// A teacher that is a function of the host program (a Python, Java or C#
// model behind the C ABI's callback). It is called on the thread that
// queries, once per request that is asked.
#pragma once

#include <functional>
#include <string>

#include "teachers/teacher.h"

namespace distill {

class callback_teacher final : public teacher {
public:
    // Fills the record for the request (given as canonical JSON text);
    // returns a distill status: 0 = answered, DISTILL_STATUS_CANCELLED =
    // stop the job, anything else = this request failed.
    using answer_fn = std::function<int32_t(const std::string & request_json, teacher_record &)>;

    // name and model identify the teacher in every request key;
    // parameters is the teacher-wide parameter object (may be null).
    callback_teacher(answer_fn answer, const std::string & name, const std::string & model,
                     nlohmann::json parameters);

    const nlohmann::json & identity() const override { return identity_; }
    const nlohmann::json & parameters() const override { return parameters_; }
    void ask(const nlohmann::json & request, teacher_record & record) override;

private:
    answer_fn answer_;
    nlohmann::json identity_;
    nlohmann::json parameters_;
};

}  // namespace distill
