#include "store/store.h"

#include <chrono>

#include "common/atomic_file.h"
#include "common/error.h"
#include "store/position_codec.h"
#include "store/store_schema.h"

namespace distill {
namespace {

// The columns of every schema version, then those added later; a store
// of an older version (read-only, not migrated) reads "" for the latter.
constexpr const char * record_columns =
    "key, text, logprob_kind, n_positions, positions, n_embeddings, embeddings, "
    "prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, "
    "provider, endpoint, model, system_fingerprint, request_id, teacher, request, parameters, "
    "started_at_ms, finished_at_ms, latency_us, attempts, error_status, error_message, "
    "stored_at_ms, finish_reason";

// The finish_reason column as a SELECT reads it: schema 3 added it.
const char * finish_reason_column(int64_t schema_version) {
    return schema_version < 3 ? "'' AS finish_reason" : "finish_reason";
}

std::string select_columns(int64_t schema_version) {
    std::string columns = record_columns;
    columns.replace(columns.rfind("finish_reason"), std::string::npos,
                    finish_reason_column(schema_version));
    return columns;
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The row the statement is on, in record_columns order, back to a record.
teacher_record read_row(const sqlite_statement & row, token_texts & texts,
                        const std::string & path) {
    teacher_record r;
    r.key = row.column_text(0);
    const std::string what = "store '" + path + "', key " + r.key;
    r.text = row.column_text(1);
    r.kind = logprob_kind(row.column_int(2));
    r.positions = decode_positions(row.column_text(4), texts, what + " positions");
    r.embeddings = decode_embeddings(row.column_text(6), what + " embeddings");
    r.usage = {row.column_int(7), row.column_int(8), row.column_int(9), row.column_int(10)};
    provenance & o = r.origin;
    o.provider = row.column_text(11);
    o.endpoint = row.column_text(12);
    o.model = row.column_text(13);
    o.system_fingerprint = row.column_text(14);
    o.request_id = row.column_text(15);
    o.teacher_json = row.column_text(16);
    o.request_json = row.column_text(17);
    o.parameters_json = row.column_text(18);
    o.started_at_ms = row.column_int(19);
    o.finished_at_ms = row.column_int(20);
    o.latency_us = row.column_int(21);
    o.attempts = row.column_int(22);
    r.error_status = int32_t(row.column_int(23));
    r.error_message = row.column_text(24);
    r.finish_reason = row.column_text(26);
    return r;
}

// Rolls back unless committed: a throw between BEGIN and COMMIT leaves the
// connection usable and the file without the half-done write.
class transaction {
public:
    transaction(sqlite_db & db, const char * begin) : db_(db) { db_.exec(begin); }
    void commit() {
        db_.exec("COMMIT");
        done_ = true;
    }
    ~transaction() {
        if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }

private:
    sqlite_db & db_;
    bool done_ = false;
};

}  // namespace

void check_request_key(const std::string & key, const char * argument) {
    bool hex = key.size() == 64;
    for (char c : key) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!hex)
        fail_invalid(std::string(argument) +
                     ": expected a request key (64 lowercase hex digits), got '" + key + "'");
}

store::store(const std::string & path, bool read_only, int32_t busy_timeout_ms)
    : db_(path, read_only) {
    sqlite3_busy_timeout(db_.handle(), busy_timeout_ms);
    schema_version_ = open_store_schema(db_, read_only);
    columns_ = select_columns(schema_version_);
}

void store::put(const teacher_record & record) {
    put_many(std::span<const teacher_record>(&record, 1));
}

void store::put_many(std::span<const teacher_record> records) {
    for (const teacher_record & record : records) check_request_key(record.key, "record.key");
    std::lock_guard lock(mutex_);
    // Encoding numbers new token texts, so it runs inside the transaction
    // (under the write lock: the same text is never numbered twice).
    try {
        transaction write(db_, "BEGIN IMMEDIATE");
        for (const teacher_record & record : records) insert_row(record);
        write.commit();
    } catch (...) {
        token_texts_.roll_back();
        throw;
    }
    token_texts_.commit();
}

void store::insert_row(const teacher_record & record) {
    const std::string sql = std::string("INSERT OR REPLACE INTO records (") + record_columns +
                            ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    sqlite_statement insert(db_, sql.c_str());
    const provenance & o = record.origin;
    insert.bind(1, record.key);
    insert.bind(2, record.text);
    insert.bind(3, int64_t(record.kind));
    insert.bind(4, int64_t(record.positions.size()));
    insert.bind_blob(5, encode_positions(record.positions, token_texts_));
    insert.bind(6, int64_t(record.embeddings.size()));
    insert.bind_blob(7, encode_embeddings(record.embeddings));
    insert.bind(8, record.usage.prompt_tokens);
    insert.bind(9, record.usage.completion_tokens);
    insert.bind(10, record.usage.cached_tokens);
    insert.bind(11, record.usage.reasoning_tokens);
    insert.bind(12, o.provider);
    insert.bind(13, o.endpoint);
    insert.bind(14, o.model);
    insert.bind(15, o.system_fingerprint);
    insert.bind(16, o.request_id);
    insert.bind(17, o.teacher_json);
    insert.bind(18, o.request_json);
    insert.bind(19, o.parameters_json);
    insert.bind(20, o.started_at_ms);
    insert.bind(21, o.finished_at_ms);
    insert.bind(22, o.latency_us);
    insert.bind(23, o.attempts);
    insert.bind(24, int64_t(record.error_status));
    insert.bind(25, record.error_message);
    insert.bind(26, now_ms());
    insert.bind(27, record.finish_reason);
    insert.step();
}

std::optional<teacher_record> store::get(const std::string & key) {
    check_request_key(key, "key");
    const std::string sql = "SELECT " + columns_ + " FROM records WHERE key = ?";
    std::lock_guard lock(mutex_);
    sqlite_statement select(db_, sql.c_str());
    select.bind(1, key);
    if (!select.step()) return std::nullopt;
    return read_row(select, token_texts_, db_.path());
}

store_stats store::stats() {
    std::lock_guard lock(mutex_);
    // One snapshot for all three queries.
    transaction snapshot(db_, "BEGIN");
    store_stats out;
    {
        sqlite_statement select(
            db_,
            "SELECT count(*), coalesce(sum(error_status != 0), 0), coalesce(sum(n_positions), 0), "
            "coalesce(sum(length(positions) + length(embeddings)), 0) FROM records");
        select.step();
        out.records = select.column_int(0);
        out.failures = select.column_int(1);
        out.positions = select.column_int(2);
        out.blob_bytes = select.column_int(3);
    }
    {
        const std::string sql = std::string("SELECT finish_reason, count(*) FROM (SELECT ") +
                                finish_reason_column(schema_version_) +
                                " FROM records WHERE error_status = 0) GROUP BY finish_reason";
        sqlite_statement select(db_, sql.c_str());
        while (select.step()) out.finish_reasons[select.column_text(0)] = select.column_int(1);
    }
    {
        // Only the provenance columns answered_by_other_model reads.
        sqlite_statement select(db_,
                                "SELECT model, request, parameters, teacher FROM records "
                                "WHERE error_status = 0 AND model != ''");
        teacher_record r;
        while (select.step()) {
            r.origin.model = select.column_text(0);
            r.origin.request_json = select.column_text(1);
            r.origin.parameters_json = select.column_text(2);
            r.origin.teacher_json = select.column_text(3);
            out.other_model += answered_by_other_model(r);
        }
    }
    snapshot.commit();
    return out;
}

void store::scan(const record_visitor & visit) {
    const std::string sql =
        "SELECT " + columns_ + " FROM records ORDER BY rowid";
    std::lock_guard lock(mutex_);
    transaction snapshot(db_, "BEGIN");
    sqlite_statement select(db_, sql.c_str());
    const std::function<teacher_record()> decode = [&] {
        return read_row(select, token_texts_, db_.path());
    };
    while (select.step()) {
        // Columns 16..18 of record_columns: teacher, request, parameters.
        const std::string teacher = select.column_text(16);
        const std::string request = select.column_text(17);
        const std::string parameters = select.column_text(18);
        visit(record_summary{teacher, parameters, request}, decode);
    }
    snapshot.commit();
}

void store::export_jsonl(const std::string & path) {
    const std::string sql =
        "SELECT " + columns_ + " FROM records ORDER BY rowid";
    std::lock_guard lock(mutex_);
    // Written atomically (common/atomic_file.h): a full disk or a failed
    // read leaves no half export, and `path` as it was.
    write_file_atomically(path, [&](const atomic_file_sink & sink) {
        // One read transaction: the export is one consistent snapshot even
        // while another process keeps writing.
        transaction snapshot(db_, "BEGIN");
        sqlite_statement select(db_, sql.c_str());
        constexpr size_t chunk_bytes = size_t(1) << 20;
        std::string chunk;
        while (select.step()) {
            chunk += to_json(read_row(select, token_texts_, db_.path()))
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            chunk += '\n';
            if (chunk.size() >= chunk_bytes) {
                sink(chunk);
                chunk.clear();
            }
        }
        sink(chunk);
        snapshot.commit();
    });
}

}  // namespace distill
