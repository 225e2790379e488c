#include "store/sqlite_db.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/error.h"
#include "common/file_error.h"

namespace distill {

namespace {

// Whether this process may write `path` and create files beside it.
bool writable_with_its_directory(const std::string & path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    return ::access(path.c_str(), W_OK) == 0 &&
           ::access(parent.empty() ? "." : parent.c_str(), W_OK) == 0;
}

// The status of an SQLite failure on the store's file: the system's errno
// when SQLite kept one (common/file_error.h's rule), else by SQLite's code.
status status_of(int rc, int system_errno) {
    switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return status::corrupt_file;
    case SQLITE_FULL: return status::disk_full;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM: return system_errno != 0 ? file_status(system_errno) : status::io_error;
    default: return status::internal;
    }
}

}  // namespace

sqlite_db::sqlite_db(const std::string & path, bool read_only) : path_(path) {
    // SQLite's own messages for a directory are "disk I/O error" or "unable
    // to open database file": say what it is.
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored))
        throw error(status::io_error, "path: expected a distill store file, got '" + path +
                                          "', which is a directory");
    // A reader of a WAL file makes its -wal and -shm files; only a
    // connection that may write removes them when it closes last. So a
    // read-only store is opened read-write where the file allows it and
    // made query_only (no statement can change it): it leaves the
    // directory as it found it. Elsewhere SQLite's read-only mode.
    const bool read_write = !read_only || writable_with_its_directory(path);
    // FULLMUTEX: one connection may be used by several threads (SQLite
    // serialises them); the store adds its own lock around transactions.
    const int flags = (read_write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) |
                      (read_only ? 0 : SQLITE_OPEN_CREATE) | SQLITE_OPEN_FULLMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        // A missing file read-only, a missing directory, no permission: the
        // errno of the failed open() says which (SQLite's message does not).
        const int system_errno = db_ ? sqlite3_system_errno(db_) : 0;
        const std::string reason = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        const std::string doing =
            read_only ? "opening the store for reading" : "opening or creating the store";
        if (system_errno != 0) fail_file(doing, path, system_errno);
        throw error(status_of(rc, 0), doing + " '" + path + "' failed: " + reason);
    }
    sqlite3_extended_result_codes(db_, 1);
    // SQLite opens a file it may not write read-only without a word; a
    // store opened to be written says so now, not at the first put.
    if (!read_only && sqlite3_db_readonly(db_, "main") == 1) {
        const int denied = ::access(path.c_str(), W_OK) == 0 ? EACCES : errno;
        sqlite3_close(db_);
        db_ = nullptr;
        fail_file("opening the store for writing", path, denied);
    }
    if (read_only && read_write) exec("PRAGMA query_only = 1");
}

sqlite_db::~sqlite_db() { sqlite3_close(db_); }

void sqlite_db::exec(const char * sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(rc, sql);
}

int64_t sqlite_db::query_int(const char * sql) {
    sqlite_statement statement(*this, sql);
    return statement.step() ? statement.column_int(0) : 0;
}

void sqlite_db::fail(int rc, const std::string & doing) const {
    const std::string reason = sqlite3_errmsg(db_);
    const int primary = rc & 0xff;
    const int system_errno = sqlite3_system_errno(db_);
    if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
        fail_corrupt("path: expected a distill store, got '" + path_ +
                     "', which is not an intact SQLite database (" + reason + ")");
    std::string why = reason;
    if ((primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_FULL) &&
        system_errno != 0)
        why += ": " + std::string(std::strerror(system_errno));
    throw error(status_of(rc, system_errno),
                "store '" + path_ + "': " + doing + " failed (" + why + ")");
}

sqlite_statement::sqlite_statement(sqlite_db & db, const char * sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db.handle(), sql, -1, &statement_, nullptr);
    if (rc != SQLITE_OK) db.fail(rc, std::string("preparing '") + sql + "'");
}

sqlite_statement::~sqlite_statement() { sqlite3_finalize(statement_); }

void sqlite_statement::bind(int index, int64_t value) {
    sqlite3_bind_int64(statement_, index, value);
}

void sqlite_statement::bind(int index, const std::string & text) {
    sqlite3_bind_text(statement_, index, text.data(), int(text.size()), SQLITE_TRANSIENT);
}

void sqlite_statement::bind_blob(int index, const std::string & bytes) {
    sqlite3_bind_blob(statement_, index, bytes.data(), int(bytes.size()), SQLITE_TRANSIENT);
}

bool sqlite_statement::step() {
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.fail(rc, std::string("'") + sqlite3_sql(statement_) + "'");
}

int64_t sqlite_statement::column_int(int column) const {
    return sqlite3_column_int64(statement_, column);
}

std::string sqlite_statement::column_text(int column) const {
    const void * data = sqlite3_column_blob(statement_, column);
    const int size = sqlite3_column_bytes(statement_, column);
    return data ? std::string(static_cast<const char *>(data), size_t(size)) : std::string();
}

}  // namespace distill
