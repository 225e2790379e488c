#include "store/store_schema.h"

#include <string>

#include "common/error.h"
#include "common/file_error.h"

namespace distill {
namespace {

// Version 1. One row per request key; provenance in columns (queryable with
// plain SQL); positions and embeddings packed and zstd-compressed
// (position_codec.h). A failed request is a row with error_status != 0.
constexpr const char * schema_v1 = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE records (
    key                TEXT PRIMARY KEY NOT NULL,
    text               TEXT NOT NULL,
    logprob_kind       INTEGER NOT NULL,
    n_positions        INTEGER NOT NULL,
    positions          BLOB NOT NULL,
    n_embeddings       INTEGER NOT NULL,
    embeddings         BLOB NOT NULL,
    prompt_tokens      INTEGER NOT NULL,
    completion_tokens  INTEGER NOT NULL,
    cached_tokens      INTEGER NOT NULL,
    reasoning_tokens   INTEGER NOT NULL,
    provider           TEXT NOT NULL,
    endpoint           TEXT NOT NULL,
    model              TEXT NOT NULL,
    system_fingerprint TEXT NOT NULL,
    request_id         TEXT NOT NULL,
    teacher            TEXT NOT NULL,
    request            TEXT NOT NULL,
    parameters         TEXT NOT NULL,
    started_at_ms      INTEGER NOT NULL,
    finished_at_ms     INTEGER NOT NULL,
    latency_us         INTEGER NOT NULL,
    attempts           INTEGER NOT NULL,
    error_status       INTEGER NOT NULL,
    error_message      TEXT NOT NULL,
    stored_at_ms       INTEGER NOT NULL
);
)sql";

// Version 2: token texts numbered store-wide, for positions blobs of
// format 2 (position_codec.h, token_dictionary.h). Blobs of format 1 stay
// as they are and are still read.
constexpr const char * migration_v1_to_v2 = R"sql(
CREATE TABLE token_texts (
    id   INTEGER PRIMARY KEY,
    text BLOB NOT NULL UNIQUE
);
)sql";

// Version 3: why the server stopped (teacher_record::finish_reason);
// older rows read "" (not said).
constexpr const char * migration_v2_to_v3 = R"sql(
ALTER TABLE records ADD COLUMN finish_reason TEXT NOT NULL DEFAULT '';
)sql";

// Takes a store from schema version `from` to from + 1, inside the
// caller's transaction.
void migrate(sqlite_db & db, int64_t from) {
    switch (from) {
    case 1: return db.exec(migration_v1_to_v2);
    case 2: return db.exec(migration_v2_to_v3);
    }
    throw error(status::internal, "store '" + db.path() + "': no migration from schema version " +
                                      std::to_string(from));
}

[[noreturn]] void not_a_store(const sqlite_db & db, const std::string & why) {
    fail_corrupt("path: expected a distill store, got '" + db.path() + "' (" + why + ")");
}

// Reads and checks the version of a file already marked as a distill store.
int64_t checked_version(sqlite_db & db) {
    if (db.query_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                     "name = 'schema_version'") == 0)
        not_a_store(db, "marked as a distill store but has no schema_version table");
    const int64_t version = db.query_int("SELECT max(version) FROM schema_version");
    if (version > store_schema_version)
        fail_unsupported("path: '" + db.path() + "' is a distill store of schema version " +
                         std::to_string(version) + ", newer than this library reads (" +
                         std::to_string(store_schema_version) + "); upgrade libdistill");
    if (version < 1) not_a_store(db, "schema_version table holds no valid version");
    return version;
}

}  // namespace

int64_t open_store_schema(sqlite_db & db, bool read_only) {
    // Look before writing anything (even the WAL switch changes the file).
    const int64_t application_id = db.query_int("PRAGMA application_id");
    const int64_t tables = db.query_int("SELECT count(*) FROM sqlite_master");
    const bool empty = application_id == 0 && tables == 0;
    if (!empty && application_id != store_application_id)
        not_a_store(db, "an SQLite database of another application (application_id " +
                            std::to_string(application_id) + ", " + std::to_string(tables) +
                            " schema objects)");
    if (read_only) {
        if (empty) not_a_store(db, "an empty file");
        return checked_version(db);
    }

    // WAL: readers never block the writer nor see half a transaction.
    // synchronous=NORMAL: a commit is durable once in the WAL as far as a
    // killed process goes (kill -9 loses nothing committed); only a power
    // cut may lose the last commits, never corrupt the file.
    {
        sqlite_statement wal(db, "PRAGMA journal_mode=WAL");  // finalized before BEGIN below
        if (!wal.step() || wal.column_text(0) != "wal")
            throw error(status::internal,
                        "store '" + db.path() + "': could not switch to WAL mode");
    }
    db.exec("PRAGMA synchronous=NORMAL");

    // IMMEDIATE: two processes creating the same store serialise here; the
    // second one sees the first one's schema.
    db.exec("BEGIN IMMEDIATE");
    try {
        // A new store is made as version 1 and migrated like an old one:
        // one path to every version, tested by every new store.
        if (db.query_int("PRAGMA application_id") == 0) {
            db.exec(schema_v1);
            db.exec(("INSERT INTO schema_version VALUES (1); PRAGMA application_id = " +
                     std::to_string(store_application_id))
                        .c_str());
        }
        const int64_t version = checked_version(db);
        for (int64_t v = version; v < store_schema_version; ++v) migrate(db, v);
        if (version < store_schema_version)
            db.exec(("UPDATE schema_version SET version = " + std::to_string(store_schema_version))
                        .c_str());
        db.exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    return store_schema_version;
}

}  // namespace distill
