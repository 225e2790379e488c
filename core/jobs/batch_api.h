// OpenAI Batch API files, the half-price route for large jobs: a batch
// input file built from a request set (one line per request still to ask,
// its custom_id the request key), and the batch output file read back into
// the store, each line matched to its request by custom_id (the output's
// order is not the input's). The records are the ones `collect` would have
// stored for the same requests and teacher: the same keys, the same
// normalised answers (http_dialect.h), failures kept as failure rows.
//
// Input line:  {"custom_id": KEY, "method": "POST", "url": URL, "body": BODY}
// Output line: {"id", "custom_id", "response": {"status_code", "request_id",
//               "body"} | null, "error": null | {"code", "message"}}
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "teachers/http_teacher.h"

namespace distill {

class store;

struct batch_build_summary {
    int64_t requests = 0;        // in the set, repeats included
    int64_t written = 0;         // lines written
    int64_t already_stored = 0;  // not written: stored as successes
    int64_t repeated = 0;        // not written: a key seen earlier in the set
};

// OpenAI's limit on the requests of one batch input file.
inline constexpr int64_t batch_max_requests = 50000;

// Writes the batch input file for the requests of `requests` (as for
// collect: chat, completion or embedding requests) that `s` (may be null)
// does not hold as successes, replacing `path` atomically. `url`: the
// endpoint of every line ("/v1/chat/completions"); empty: the one of the
// requests' kind, which must then be the same for all. Throws
// invalid_argument naming requests[i] for a bad request, a set of mixed
// kinds without `url`, more than batch_max_requests lines, or an Ollama
// teacher (the Batch API is OpenAI's).
batch_build_summary write_batch_input(const http_teacher & t, store * s,
                                      const std::vector<nlohmann::json> & requests,
                                      const std::string & url, const std::string & path);

struct batch_ingest_summary {
    int64_t lines = 0;           // non-blank lines read
    int64_t succeeded = 0;       // answers stored
    int64_t failed = 0;          // stored as failure rows (an error, a non-2xx status, a bad body)
    int64_t already_stored = 0;  // a failure not stored: its key holds a success
    int64_t unknown = 0;         // custom_id of no request of the set: nothing stored
    int64_t malformed = 0;       // not an output line at all: nothing stored
};

// Told of each unknown or malformed line: its 1-based number and why.
using batch_problem_fn = std::function<void(int64_t line, const std::string & why)>;

// Reads the batch output file at `path` into `s`. A success replaces what
// the key held; a failure never replaces a stored success. Lines are
// committed in groups (one transaction each). Malformed and unknown lines
// are counted, told to `problem` (may be empty) and skipped: the file's
// other lines are still stored. Throws invalid_argument for an unreadable
// file, and store errors.
batch_ingest_summary read_batch_output(const http_teacher & t, store & s,
                                       const std::vector<nlohmann::json> & requests,
                                       const std::string & path, const batch_problem_fn & problem);

}  // namespace distill
