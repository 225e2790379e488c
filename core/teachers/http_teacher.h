// A teacher behind an OpenAI-compatible HTTP server (OpenAI, vLLM,
// llama.cpp server, Ollama): builds the request body for the dialect,
// retries what may heal (connection errors, 408/409/429/5xx) within a
// count and time budget, and keeps a final failure as the record's error.
#pragma once

#include <cstdint>
#include <string>

#include "teachers/http_dialect.h"
#include "teachers/retry_policy.h"
#include "teachers/teacher.h"

namespace distill {

struct http_teacher_settings {
    std::string base_url;  // ".../v1" for OpenAI-style servers; the host root for Ollama
    std::string model;
    http_dialect dialect = http_dialect::auto_detect;
    std::string api_key_env;   // name of the variable holding the key, or ""
    std::string api_key_file;  // path of a file holding the key, or ""
    nlohmann::json parameters;
    int64_t timeout_ms = 600000;
    int64_t connect_timeout_ms = 10000;
    int64_t low_speed_seconds = 60;
    bool verify_tls = true;
    retry_settings retry;
};

class http_teacher final : public teacher {
public:
    // Reads the API key now, so a missing one fails at creation (naming the
    // variable or file, never the key) rather than on the first request.
    explicit http_teacher(http_teacher_settings settings);

    const nlohmann::json & identity() const override { return identity_; }
    const nlohmann::json & parameters() const override { return settings_.parameters; }
    void ask(const nlohmann::json & request, teacher_record & record) override;

private:
    // The key must never leave this object: messages built from server
    // bodies go through redact() first (some servers echo the key back).
    std::string redact(std::string text) const;

    http_teacher_settings settings_;
    std::string api_key_;
    nlohmann::json identity_;
};

}  // namespace distill
