#include "train/stored_completions.h"

#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "store/store.h"
#include "teachers/request_key.h"
#include "train/completion_targets.h"

namespace distill {

std::string prompt_text(const nlohmann::json & request, const std::string & where) {
    if (request.is_object() && request.contains("prompt") && request["prompt"].is_string())
        return request["prompt"].get<std::string>();
    if (request.is_object() && request.contains("messages") && request["messages"].is_array()) {
        std::string text;
        for (const nlohmann::json & m : request["messages"]) {
            if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
                !m.contains("content") || !m["content"].is_string())
                fail_invalid(where + ": expected chat messages of string \"role\" and "
                             "\"content\", got " + m.dump());
            text += m["role"].get<std::string>() + ": " + m["content"].get<std::string>() + "\n";
        }
        return text + "assistant: ";
    }
    fail_invalid(where + ": expected a request with a string \"prompt\" or chat \"messages\", "
                 "got " + request.dump().substr(0, 200));
}

completion_rows read_completion_rows(store & s, const tokenizer::bpe_tokenizer & student,
                                     const completion_rows_settings & settings) {
    if (settings.T < 2)
        fail_invalid("T: expected a row length of at least 2 positions, got " +
                     std::to_string(settings.T));
    // Pass 1: which teachers answered; the chosen teacher's answers, kept.
    std::map<std::string, int64_t> answers_by_teacher;
    std::vector<teacher_record> kept;
    completion_rows rows;
    s.scan([&](const record_summary & row, const std::function<teacher_record()> & decode) {
        ++answers_by_teacher[row.teacher_json];
        if (settings.teacher && row.teacher_json != *settings.teacher) return;
        teacher_record record = decode();
        if (record.failed()) {
            ++rows.failed;
            return;
        }
        kept.push_back(std::move(record));
    });
    std::string teacher = settings.teacher.value_or("");
    if (!settings.teacher) {
        if (answers_by_teacher.size() > 1) {
            std::string list;
            for (const auto & [who, n] : answers_by_teacher)
                list += "\n  " + who + " (" + std::to_string(n) + " answers)";
            fail_invalid("teacher: the store '" + s.path() + "' holds the answers of " +
                         std::to_string(answers_by_teacher.size()) +
                         " teachers; choose one (--teacher-identity):" + list);
        }
        if (!answers_by_teacher.empty()) teacher = answers_by_teacher.begin()->first;
    } else if (answers_by_teacher.count(*settings.teacher) == 0) {
        fail_invalid("teacher: no answer in '" + s.path() + "' is from " + *settings.teacher);
    }
    rows.teacher_json = teacher;
    rows.T = settings.T;

    // Pass 2: the prompts' tokens, the rows that fit, K.
    struct accepted {
        const teacher_record * record;
        std::vector<int32_t> prompt;
        std::vector<int32_t> text;  // the completion encoded, for a text-only row
    };
    std::vector<accepted> fit;
    for (const teacher_record & r : kept) {
        bool has_alternatives = !r.positions.empty();
        for (const token_position & p : r.positions) has_alternatives = has_alternatives && !p.top.empty();
        const std::string where = "the answer " + r.key.substr(0, 12) + " in '" + s.path() + "'";
        std::vector<int32_t> prompt = student.encode(prompt_text(
            nlohmann::json::parse(r.origin.request_json, nullptr, false), where));
        if (prompt.empty()) fail_invalid(where + ": its prompt encodes to no token");
        std::vector<int32_t> text;
        if (!has_alternatives) text = student.encode(r.text);
        const size_t completion = has_alternatives ? r.positions.size() : text.size();
        if (completion == 0) {
            ++rows.empty;
            continue;
        }
        if (int64_t(prompt.size() + completion) - 1 > settings.T) {
            ++rows.too_long;
            continue;
        }
        for (const token_position & p : r.positions)
            if (has_alternatives) rows.K = std::max<int64_t>(rows.K, int64_t(p.top.size()));
        if (!has_alternatives) ++rows.text_only;
        fit.push_back({&r, std::move(prompt), std::move(text)});
    }
    if (fit.empty())
        fail_invalid("teacher-store: '" + s.path() + "' has no answer to train on (" +
                     std::to_string(rows.failed) + " failed, " + std::to_string(rows.empty) +
                     " empty, " + std::to_string(rows.too_long) +
                     " longer than the context of " + std::to_string(settings.T) + " positions)");

    rows.rows = int64_t(fit.size());
    rows.K = std::max<int64_t>(rows.K, 1);  // text-only rows still carry K empty slots
    const int64_t T = settings.T, K = rows.K;
    rows.tokens.resize(size_t(rows.rows * T));
    rows.labels.resize(size_t(rows.rows * T));
    rows.ids.resize(size_t(rows.rows * T * K));
    rows.logprobs.resize(size_t(rows.rows * T * K));
    rows.has_targets.resize(size_t(rows.rows));
    const std::string model = fit.front().record->origin.model;
    topk_vocabulary_map map(student, settings.tokenizer_name, model.empty() ? teacher : model);
    for (int64_t i = 0; i < rows.rows; ++i) {
        const accepted & a = fit[size_t(i)];
        const std::string where = "the answer " + a.record->key.substr(0, 12);
        rows.has_targets[size_t(i)] = a.text.empty() ? 1 : 0;
        if (a.text.empty())
            place_completion_targets(*a.record, a.prompt, map, T, K, settings.pad, i,
                                     rows.tokens.data(), rows.labels.data(), rows.ids.data(),
                                     rows.logprobs.data(), where);
        else
            place_text_completion(a.prompt, a.text, T, K, settings.pad, i, rows.tokens.data(),
                                  rows.labels.data(), rows.ids.data(), rows.logprobs.data(),
                                  where);
    }
    if (rows.text_only < rows.rows) map.check();  // top-k targets need the same vocabulary
    rows.counts = map.counts();
    return rows;
}

}  // namespace distill
