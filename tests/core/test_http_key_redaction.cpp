// The HTTP teacher's redaction of its API key (redact_key): it ends for any
// key, the key never gets through, and unrelated text is left alone.
#include <doctest/doctest.h>

#include "teachers/http_teacher.h"

using distill::redact_key;

TEST_CASE("redact_key: keys inside \"[redacted]\" end, each occurrence replaced once") {
    // The old loop searched again inside its own replacement: never ended.
    for (const char * key : {"e", "a", "d", "red", "act", "redacted", "[redacted]", "[", "]"}) {
        CAPTURE(key);
        const std::string out = redact_key(std::string("key ") + key + " refused", key);
        CHECK(out == "key [redacted] refused");
    }
    CHECK(redact_key("aaa", "aa") == "aaa");  // one run of letters: not the key alone
    CHECK(redact_key("-aaa-", "a") == "-aaa-");
}

TEST_CASE("redact_key: a short key only where it stands alone; text around it untouched") {
    CHECK(redact_key("max_retries = 2", "x") == "max_retries = 2");
    CHECK(redact_key("Incorrect API key provided: x.", "x") ==
          "Incorrect API key provided: [redacted].");
    CHECK(redact_key("Bearer EMPTY", "EMPTY") == "Bearer [redacted]");
    CHECK(redact_key("{\"key\":\"EMPTY\"}", "EMPTY") == "{\"key\":\"[redacted]\"}");
    CHECK(redact_key("Authorization=Bearer%20EMPTY", "EMPTY") ==
          "Authorization=Bearer%20[redacted]");
    CHECK(redact_key("EMPTYING the EMPTY cache", "EMPTY") == "EMPTYING the [redacted] cache");
    CHECK(redact_key("sk-1 and sk-12", "sk-1") == "[redacted] and sk-12");
    CHECK(redact_key("", "x") == "");
    CHECK(redact_key("no key", "") == "no key");
}

TEST_CASE("redact_key: a key of 8 characters or more is replaced wherever it occurs") {
    const std::string key = "sk-proj-0123";
    CHECK(redact_key("provided: " + key + ".", key) == "provided: [redacted].");
    CHECK(redact_key("Bearer%20" + key + "xyz" + key, key) == "Bearer%20[redacted]xyz[redacted]");
    CHECK(redact_key(key + key, key) == "[redacted][redacted]");
}
