// Readers and writers at once (WAL), and a writer killed with SIGKILL in
// the middle of its writes: the store opens and holds only whole rows.
#include "store_test_support.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

using store_test::key_of;
using store_test::make_record;
using store_test::temp_dir;

namespace {

// A stored record is whole when it is exactly what make_record wrote.
bool is_whole(const distill::TeacherRecord & r, int i, int positions, int k) {
    if (r.text() != "answer " + std::to_string(i) || r.position_count() != positions) return false;
    std::vector<int32_t> ids;
    std::vector<float> logprobs;
    r.topk(positions - 1, ids, logprobs);
    return int(ids.size()) == k && ids[k - 1] == i * 100 + (positions - 1) * 10 + k - 1;
}

}  // namespace

TEST_CASE("store: a reader thread sees only whole rows while a writer thread writes") {
    temp_dir dir;
    const std::string path = dir.file("run.db");
    distill::Store writer_store(path);
    distill::Store reader_store(path);  // its own connection, as another process would have
    constexpr int rows = 150;
    std::atomic<bool> done{false};
    std::atomic<int> reads{0};
    std::atomic<int> bad{0};

    std::thread reader([&] {
        int64_t last_count = 0;
        while (!done.load()) {
            const int64_t count = reader_store.stats().records;
            if (count < last_count) ++bad;
            last_count = count;
            if (count > 0) {
                const int i = int(count) - 1;  // rows are written in key order
                std::optional<distill::TeacherRecord> r = reader_store.get(key_of(i));
                if (!r || !is_whole(*r, i, 10, 8)) ++bad;
                ++reads;
            }
        }
    });
    for (int i = 0; i < rows; ++i) writer_store.put(make_record(key_of(i), i, 10, 8));
    done = true;
    reader.join();
    CHECK(bad.load() == 0);
    CHECK(reads.load() > 0);
    CHECK(reader_store.stats().records == rows);
}

TEST_CASE("store: a writer killed with SIGKILL mid-write leaves only whole rows") {
    temp_dir dir;
    const std::string path = dir.file("killed.db");
    { distill::Store create(path); }  // the schema exists before the race starts
    constexpr int positions = 64, k = 20;

    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The writer: puts rows as fast as it can until it is killed.
        distill_store * store = nullptr;
        if (distill_store_open(path.c_str(), nullptr, &store) != DISTILL_STATUS_OK) _exit(2);
        for (int i = 0;; ++i) {
            distill::TeacherRecord r = make_record(key_of(i), i, positions, k);
            if (distill_store_put(store, r.get()) != DISTILL_STATUS_OK) _exit(3);
        }
    }

    // Wait until the writer is well into its work, then kill it mid-stream.
    distill::Store watcher(path, /*read_only=*/true);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (watcher.stats().records < 20 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(7));
    kill(child, SIGKILL);
    int wait_status = 0;
    REQUIRE(waitpid(child, &wait_status, 0) == child);
    REQUIRE(WIFSIGNALED(wait_status));  // killed, not exited on an error of its own
    CHECK(WTERMSIG(wait_status) == SIGKILL);

    // The file is intact (SQLite's own check) and every row is whole.
    sqlite3 * db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt * check = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &check, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(check) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char *>(sqlite3_column_text(check, 0))) == "ok");
    sqlite3_finalize(check);
    sqlite3_close(db);

    distill::Store store(path);
    const int64_t count = store.stats().records;
    CHECK(count >= 20);
    for (int i = 0; i < count; ++i) {
        CAPTURE(i);
        std::optional<distill::TeacherRecord> r = store.get(key_of(i));
        REQUIRE(r.has_value());
        CHECK(is_whole(*r, i, positions, k));
    }
    CHECK_FALSE(store.get(key_of(int(count))).has_value());
    store.put(
        make_record(key_of(int(count)), int(count), positions, k));  // and it takes writes again
    CHECK(store.stats().records == count + 1);
}
