// The teacher-output store: one SQLite file (WAL mode), one row per
// request key. Any number of store objects, in any number of threads and
// processes, may open the same file: readers see whole committed rows
// while a writer writes, and a writer killed mid-put leaves no trace.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "store/sqlite_db.h"
#include "store/token_dictionary.h"
#include "teachers/teacher_record.h"

namespace distill {

struct store_stats {
    int64_t records = 0;     // rows, failures included
    int64_t failures = 0;    // rows whose error_status != 0
    int64_t positions = 0;   // token positions over all rows
    int64_t blob_bytes = 0;  // compressed positions + embeddings bytes
    // Successful rows by finish_reason ("" = the server did not say).
    std::map<std::string, int64_t> finish_reasons;
    int64_t other_model = 0;  // successful rows answered_by_other_model
};

// The provenance columns of a row, as stored (canonical JSON): what a
// reader chooses rows by before paying for the decode of their blobs.
struct record_summary {
    const std::string & teacher_json;
    const std::string & parameters_json;
    const std::string & request_json;
};

// A scan's visitor: the row's summary, and `decode` that returns the whole
// row as a record (zstd and all: call it only for the rows kept).
using record_visitor =
    std::function<void(const record_summary & row, const std::function<teacher_record()> & decode)>;

class store {
public:
    // Opens (or, unless read_only, creates) the store at `path`; see
    // open_store_schema for the refusals. busy_timeout_ms: how long a call
    // waits for another process's write lock before failing.
    store(const std::string & path, bool read_only, int32_t busy_timeout_ms);

    // Inserts `record` under record.key, replacing a row with that key
    // (a successful retry replaces a stored failure), in one transaction.
    void put(const teacher_record & record);
    // Inserts every record as put() does, all in one transaction: a batch
    // of answers costs one commit instead of one each.
    void put_many(std::span<const teacher_record> records);
    // The row with `key`, or nothing.
    std::optional<teacher_record> get(const std::string & key);
    store_stats stats();
    // Visits every row, in insertion order, inside one read transaction:
    // one consistent snapshot even while another process writes, and one
    // lock instead of one per row. `visit` runs under this store's lock: it
    // must not call this store.
    void scan(const record_visitor & visit);
    // Writes every row, in insertion order, as one JSON object per line
    // (teacher_record.h's to_json) to `path`, replacing it atomically
    // (disk_full, not_found, io_error by common/file_error.h's rule).
    void export_jsonl(const std::string & path);

    const std::string & path() const { return db_.path(); }

private:
    // One INSERT OR REPLACE, inside put_many's transaction.
    void insert_row(const teacher_record & record);

    std::mutex mutex_;  // one transaction at a time on this connection
    sqlite_db db_;
    int64_t schema_version_ = 0;  // of this file, as open_store_schema found it
    std::string columns_;         // record_columns as that version has them
    token_dictionary token_texts_{db_};  // under mutex_ too
};

// Throws invalid_argument unless `key` is 64 lowercase hex digits.
void check_request_key(const std::string & key, const char * argument);

}  // namespace distill
