// Thin RAII over the SQLite C API for the store: a connection, prepared
// statements, and errors that name the store's file and SQLite's reason.
#pragma once

#include <cstdint>
#include <string>

#include <sqlite3.h>

namespace distill {

class sqlite_statement;

class sqlite_db {
public:
    // Opens `path` (created if missing unless read_only; read_only is
    // query_only, see the .cpp for why not always SQLite's read-only mode).
    // Throws by common/file_error.h's rule when the file cannot be opened:
    // not_found (missing, read-only), io_error (a directory, no permission).
    sqlite_db(const std::string & path, bool read_only);
    ~sqlite_db();
    sqlite_db(const sqlite_db &) = delete;
    sqlite_db & operator=(const sqlite_db &) = delete;

    // Runs SQL without results (one or more statements).
    void exec(const char * sql);
    // The single integer a query returns (its first column of the first row).
    int64_t query_int(const char * sql);

    // Throws the store's error for SQLite result `rc` during `doing`: not a
    // database / corrupt → corrupt_file; full → disk_full; an I/O error →
    // by the errno SQLite kept (file_error.h), else io_error; anything else
    // (a read-only store written, a busy lock) → internal.
    [[noreturn]] void fail(int rc, const std::string & doing) const;

    sqlite3 * handle() const { return db_; }
    const std::string & path() const { return path_; }

private:
    sqlite3 * db_ = nullptr;
    std::string path_;
};

// A prepared statement, finalized on destruction. Bind indices start at 1.
class sqlite_statement {
public:
    sqlite_statement(sqlite_db & db, const char * sql);
    ~sqlite_statement();
    sqlite_statement(const sqlite_statement &) = delete;
    sqlite_statement & operator=(const sqlite_statement &) = delete;

    void bind(int index, int64_t value);
    void bind(int index, const std::string & text);        // TEXT
    void bind_blob(int index, const std::string & bytes);  // BLOB
    // Steps once: true with a row, false when done.
    bool step();

    int64_t column_int(int column) const;
    std::string column_text(int column) const;  // TEXT or BLOB bytes

private:
    sqlite_db & db_;
    sqlite3_stmt * statement_ = nullptr;
};

}  // namespace distill
