// What distill_store_open refuses, and how it says so: a file that is not
// a distill store is never written to, a newer store is never misread, a
// directory is named as one; opening read-only leaves the directory as it
// was (no -wal / -shm files), for stores and rejected files alike.
#include "store_test_support.h"

#include <fstream>
#include <set>

#include <sqlite3.h>

using store_test::key_of;
using store_test::make_record;
using store_test::temp_dir;

namespace {

std::string last_error() { return distill_last_error_message(); }

// distill_store_open's status for `path`; out must stay untouched on failure.
distill_status open_status(const std::string & path, int32_t read_only = 0) {
    distill_store_options options;
    distill_store_options_init(&options);
    options.read_only = read_only;
    distill_store * out = reinterpret_cast<distill_store *>(0x1);
    const distill_status status = distill_store_open(path.c_str(), &options, &out);
    if (status == DISTILL_STATUS_OK)
        distill_store_free(out);
    else
        CHECK(out == reinterpret_cast<distill_store *>(0x1));
    return status;
}

// The names in `dir`, to compare before and after.
std::set<std::string> listing(const std::filesystem::path & dir) {
    std::set<std::string> names;
    for (const auto & entry : std::filesystem::directory_iterator(dir))
        names.insert(entry.path().filename().string());
    return names;
}

void sql(const std::string & path, const char * statements) {
    sqlite3 * db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, statements, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
}

}  // namespace

TEST_CASE("store: a text file is not a store") {
    temp_dir dir;
    const std::string path = dir.file("notes.txt");
    std::ofstream(path) << "these are my notes, not a database\n";
    CHECK(open_status(path) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(last_error() == "path: expected a distill store, got '" + path +
                              "', which is not an intact SQLite database (file is not a database)");
}

TEST_CASE("store: another application's SQLite database is refused and left alone") {
    temp_dir dir;
    const std::string path = dir.file("other.db");
    sql(path, "CREATE TABLE photos (name TEXT)");
    CHECK(open_status(path) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(last_error() == "path: expected a distill store, got '" + path +
                              "' (an SQLite database of another application (application_id 0, "
                              "1 schema objects))");
    sqlite3 * db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt * mode = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &mode, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(mode) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char *>(sqlite3_column_text(mode, 0))) == "delete");
    sqlite3_finalize(mode);
    sqlite3_close(db);
}

TEST_CASE("store: a store of a newer schema version is refused") {
    temp_dir dir;
    const std::string path = dir.file("future.db");
    { distill::Store store(path); }
    sql(path, "UPDATE schema_version SET version = 99");
    CHECK(open_status(path) == DISTILL_STATUS_UNSUPPORTED);
    CHECK(last_error() == "path: '" + path +
                              "' is a distill store of schema version 99, newer than this library "
                              "reads (3); upgrade libdistill");
    CHECK(open_status(path, 1) == DISTILL_STATUS_UNSUPPORTED);
}

TEST_CASE("store: a truncated store gives a clear error, not garbage") {
    temp_dir dir;
    const std::string path = dir.file("cut.db");
    {
        distill::Store store(path);
        for (int i = 0; i < 50; ++i) store.put(make_record(key_of(i), i, 20, 20));
    }
    const auto size = std::filesystem::file_size(path);
    REQUIRE(size > 8192);
    std::filesystem::resize_file(path, 60);  // inside SQLite's 100-byte header
    CHECK(open_status(path) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(last_error().find("path: expected a distill store, got '" + path + "'") == 0);
}

TEST_CASE("store: a store cut in the middle fails on the damaged rows, with the path") {
    temp_dir dir;
    const std::string path = dir.file("half.db");
    {
        distill::Store store(path);
        for (int i = 0; i < 200; ++i) store.put(make_record(key_of(i), i, 20, 20));
    }
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    distill_store * store = nullptr;
    const distill_status opened = distill_store_open(path.c_str(), nullptr, &store);
    if (opened != DISTILL_STATUS_OK) {
        CHECK(opened == DISTILL_STATUS_CORRUPT_FILE);
        CHECK(last_error().find(path) != std::string::npos);
        return;
    }
    // SQLite reads pages lazily: the damage shows when a row past the cut is read.
    distill_status worst = DISTILL_STATUS_OK;
    for (int i = 0; i < 200 && worst == DISTILL_STATUS_OK; ++i) {
        distill_teacher_record * record = nullptr;
        worst = distill_store_get(store, key_of(i).c_str(), &record);
        distill_teacher_record_free(record);
    }
    CHECK(worst == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(last_error().find("not an intact SQLite database") != std::string::npos);
    CHECK(last_error().find(path) != std::string::npos);
    distill_store_free(store);
}

TEST_CASE("store: read-only open of a missing file, an empty file, bad options") {
    temp_dir dir;
    const std::string missing = dir.file("missing.db");
    CHECK(open_status(missing, 1) == DISTILL_STATUS_NOT_FOUND);
    CHECK(last_error() ==
          "opening the store for reading '" + missing + "' failed: No such file or directory");
    CHECK_FALSE(std::filesystem::exists(missing));

    const std::string empty = dir.file("empty.db");
    std::ofstream(empty).close();
    CHECK(open_status(empty, 1) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(last_error() == "path: expected a distill store, got '" + empty + "' (an empty file)");
    CHECK(open_status(empty) == DISTILL_STATUS_OK);  // read-write: an empty file becomes a store

    distill_store_options options;
    distill_store_options_init(&options);
    options.busy_timeout_ms = -1;
    distill_store * out = nullptr;
    CHECK(distill_store_open(dir.file("a.db").c_str(), &options, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error() == "options.busy_timeout_ms: expected >= 0, got -1");
    options.struct_size = 2;
    CHECK(distill_store_open(dir.file("a.db").c_str(), &options, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(last_error().find("options.struct_size") == 0);
    CHECK(out == nullptr);
}

TEST_CASE("store: a read-only store refuses writes") {
    temp_dir dir;
    const std::string path = dir.file("ro.db");
    { distill::Store store(path); }
    distill::Store store(path, /*read_only=*/true);
    CHECK(distill_store_put(store.get(), make_record(key_of(1), 1).get()) ==
          DISTILL_STATUS_INTERNAL);
    CHECK(last_error().find("attempt to write a readonly database") != std::string::npos);
    CHECK(store.stats().records == 0);
}

TEST_CASE("store: a directory is refused as one, for reading and for writing") {
    temp_dir dir;
    const std::string path = dir.file("runs");
    std::filesystem::create_directory(path);
    for (int32_t read_only : {0, 1}) {
        distill_store_options options;
        distill_store_options_init(&options);
        options.read_only = read_only;
        distill_store * out = nullptr;
        CHECK(distill_store_open(path.c_str(), &options, &out) == DISTILL_STATUS_IO_ERROR);
        CHECK(out == nullptr);
        CHECK(last_error() ==
              "path: expected a distill store file, got '" + path + "', which is a directory");
    }
    CHECK(listing(path).empty());
}

TEST_CASE("store: reading a store read-only leaves no -wal or -shm files beside it") {
    temp_dir dir;
    const std::string path = dir.file("run.db");
    {
        distill::Store store(path);
        for (int i = 0; i < 20; ++i) store.put(make_record(key_of(i), i, 5, 4));
    }
    const std::set<std::string> before = listing(dir.path());
    CHECK(before == std::set<std::string>{"run.db"});
    temp_dir out;
    {
        distill::Store store(path, /*read_only=*/true);
        CHECK(store.stats().records == 20);
        CHECK(store.get(key_of(3)));
        store.export_jsonl(out.file("run.jsonl"));
        CHECK(distill_store_put(store.get(), make_record(key_of(99), 1).get()) ==
              DISTILL_STATUS_INTERNAL);  // still read-only
    }
    CHECK(listing(dir.path()) == before);
    distill::Store reopened(path, /*read_only=*/true);
    CHECK(reopened.stats().records == 20);
}

TEST_CASE("store: rejected files opened read-only leave their directory as it was") {
    temp_dir dir;
    // A WAL-mode database of another application, and a store cut short.
    const std::string other = dir.file("other.db");
    {
        sqlite3 * db = nullptr;
        REQUIRE(sqlite3_open(other.c_str(), &db) == SQLITE_OK);
        CHECK(sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE photos (name TEXT)", nullptr,
                           nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    const std::string cut = dir.file("cut.db");
    {
        distill::Store store(cut);
        for (int i = 0; i < 200; ++i) store.put(make_record(key_of(i), i, 20, 20));
    }
    std::filesystem::resize_file(cut, std::filesystem::file_size(cut) / 2);
    const std::set<std::string> before = listing(dir.path());
    CHECK(before == std::set<std::string>{"cut.db", "other.db"});

    distill_store_options options;
    distill_store_options_init(&options);
    options.read_only = 1;
    distill_store * out = nullptr;
    CHECK(distill_store_open(other.c_str(), &options, &out) == DISTILL_STATUS_CORRUPT_FILE);
    if (distill_store_open(cut.c_str(), &options, &out) == DISTILL_STATUS_OK) {
        distill_store_stats stats{};
        stats.struct_size = sizeof stats;
        distill_store_get_stats(out, &stats);  // fails somewhere past the cut
        distill_store_free(out);
    }
    CHECK(listing(dir.path()) == before);
}
