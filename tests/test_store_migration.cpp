// A store written by schema version 1 (positions blobs of format 1, a
// string table in every blob) opens with today's library: it is migrated
// to version 3 (the store-wide token_texts table, then finish_reason), its
// old record still reads exactly (finish reason ""), and new records land
// beside it in format 2.
#include "record_test_support.h"
#include "store_test_support.h"

#include <sqlite3.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

// The version 1 layout and one record, as libdistill 0.1 (ABI 4, before
// the token_texts table) wrote them: "Hi there" in two positions, top-3
// each; the second position has token ids and an -inf alternative.
constexpr const char * version_1_store = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE records (
    key TEXT PRIMARY KEY NOT NULL, text TEXT NOT NULL, logprob_kind INTEGER NOT NULL,
    n_positions INTEGER NOT NULL, positions BLOB NOT NULL, n_embeddings INTEGER NOT NULL,
    embeddings BLOB NOT NULL, prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL, provider TEXT NOT NULL, endpoint TEXT NOT NULL,
    model TEXT NOT NULL, system_fingerprint TEXT NOT NULL, request_id TEXT NOT NULL,
    teacher TEXT NOT NULL, request TEXT NOT NULL, parameters TEXT NOT NULL,
    started_at_ms INTEGER NOT NULL, finished_at_ms INTEGER NOT NULL,
    latency_us INTEGER NOT NULL, attempts INTEGER NOT NULL, error_status INTEGER NOT NULL,
    error_message TEXT NOT NULL, stored_at_ms INTEGER NOT NULL);
INSERT INTO records VALUES (
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'Hi there', 0, 2,
    X'28B52FFD2061AD0200E244121FC0258D01C0FF77AD3DDBFE3799E2129A4662F1FFABFEDA7F8490BDB7DC3205E8609A0B0F0E4CF82DF82F7E623371FCFD0FF0B0BB6B0C5C9A53C7E9CAC6982EA4891E8A4AC832E9C70300410500D87F009E',
    0, X'28B52FFD20084100000100000000000000', 0, 0, 0, 0, '', '', '', '', '', '', '', '',
    0, 0, 0, 0, 0, '', 1795919291206);
PRAGMA application_id = 1146311756;
)sql";

void write_version_1_store(const std::string & path) {
    sqlite3 * db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const int rc = sqlite3_exec(db, version_1_store, nullptr, nullptr, nullptr);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
}

int64_t query_int(const std::string & path, const char * sql) {
    sqlite3 * db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt * statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
    const int64_t value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
}

using record_test::read_position;

void check_old_record(distill::Store & store) {
    const std::optional<distill::TeacherRecord> r = store.get(std::string(64, 'a'));
    REQUIRE(r);
    CHECK(r->text() == "Hi there");
    REQUIRE(r->position_count() == 2);
    const record_test::position hi = read_position(*r, 0);
    CHECK(hi.token == "Hi");
    CHECK(hi.bytes == "Hi");
    CHECK(hi.id == -1);
    CHECK(hi.logprob == -0.25f);
    CHECK(hi.top_tokens == std::vector<std::string>{"Hi", "Hello", "Hey"});
    CHECK(hi.top_ids == std::vector<int32_t>{-1, -1, -1});
    CHECK(hi.top_logprobs == std::vector<float>{-0.25f, -1.5f, -3.0f});
    const record_test::position there = read_position(*r, 1);
    CHECK(there.token == " there");
    CHECK(there.id == 7);
    CHECK(there.logprob == -0.125f);
    CHECK(there.top_tokens == std::vector<std::string>{" there", " you", "!"});
    CHECK(there.top_ids == std::vector<int32_t>{7, 8, 9});
    CHECK(there.top_logprobs[1] == -2.0f);
    CHECK(std::isinf(there.top_logprobs[2]));
}

}  // namespace

TEST_CASE("store: a schema version 1 store is migrated and its format 1 records still read") {
    store_test::temp_dir dir;
    const std::string path = dir.file("v1.db");
    write_version_1_store(path);
    {
        distill::Store read_only(path, true);  // reads without migrating
        check_old_record(read_only);
        const distill_store_stats stats = read_only.stats();
        CHECK(stats.finish_not_given == 1);  // schema 1 has no finish_reason: ""
        CHECK(read_only.get(std::string(64, 'a'))->string(DISTILL_RECORD_FINISH_REASON) == "");
    }
    CHECK(query_int(path, "SELECT version FROM schema_version") == 1);
    {
        distill::Store store(path);
        check_old_record(store);
        distill::TeacherRecord added = store_test::make_record(store_test::key_of(1), 1, 5, 20);
        added.set_string(DISTILL_RECORD_FINISH_REASON, "length");
        store.put(added);
    }
    CHECK(query_int(path, "SELECT version FROM schema_version") == 3);
    CHECK(query_int(path, "SELECT count(*) FROM token_texts") > 0);
    distill::Store reopened(path);
    check_old_record(reopened);
    const std::optional<distill::TeacherRecord> added = reopened.get(store_test::key_of(1));
    REQUIRE(added);
    CHECK(added->position_count() == 5);
    CHECK(added->string(DISTILL_RECORD_FINISH_REASON) == "length");
    CHECK(reopened.get(std::string(64, 'a'))->string(DISTILL_RECORD_FINISH_REASON) == "");
    CHECK(reopened.stats().records == 2);
}
