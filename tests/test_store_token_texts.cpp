// Positions blobs of format 2 name token texts by store-wide ids
// (token_texts): records written through different connections to one file,
// each adding texts the others have not seen, all read back exactly; and
// the shapes the format codes specially (the chosen token inside or outside
// its top-k list, bytes that are not the text, -inf) survive a round trip.
#include "record_test_support.h"
#include "store_test_support.h"

#include <sqlite3.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

struct alternative {
    std::string token;
    int32_t id;
    float logprob;
};

struct position_spec {
    std::string token, bytes;
    int32_t id;
    float logprob;
    std::vector<alternative> top;
};

distill::TeacherRecord record_of(const std::string & key,
                                 const std::vector<position_spec> & positions) {
    distill::TeacherRecord r;
    r.set_string(DISTILL_RECORD_KEY, key);
    for (const position_spec & p : positions) {
        std::vector<int32_t> ids;
        std::vector<float> logprobs;
        std::vector<const char *> tokens;
        for (const alternative & a : p.top) {
            ids.push_back(a.id);
            logprobs.push_back(a.logprob);
            tokens.push_back(a.token.c_str());
        }
        distill::check(distill_teacher_record_append_position(
            r.get(), p.token.c_str(), reinterpret_cast<const uint8_t *>(p.bytes.data()),
            p.bytes.size(), p.id, p.logprob, int32_t(p.top.size()), ids.data(), tokens.data(),
            logprobs.data()));
    }
    return r;
}

// The stored record equals `positions` (top-k log-probabilities to fp16).
void check_record(distill::Store & store, const std::string & key,
                  const std::vector<position_spec> & positions) {
    const std::optional<distill::TeacherRecord> r = store.get(key);
    REQUIRE(r);
    REQUIRE(r->position_count() == int64_t(positions.size()));
    for (size_t i = 0; i < positions.size(); ++i) {
        const position_spec & want = positions[i];
        const record_test::position got = record_test::read_position(*r, int64_t(i));
        CAPTURE(i);
        CHECK(got.token == want.token);
        CHECK(got.bytes == want.bytes);
        CHECK(got.id == want.id);
        CHECK(got.logprob == want.logprob);
        REQUIRE(got.top_tokens.size() == want.top.size());
        for (size_t k = 0; k < want.top.size(); ++k) {
            CHECK(got.top_tokens[k] == want.top[k].token);
            CHECK(got.top_ids[k] == want.top[k].id);
            CHECK(got.top_logprobs[k] == float(_Float16(want.top[k].logprob)));
        }
    }
}

// A position whose token is top[chosen] (or, with chosen < 0, none of
// them), alternatives named prefix + k.
position_spec position_with(const std::string & prefix, int chosen, int k, bool ids) {
    position_spec p;
    for (int i = 0; i < k; ++i)
        p.top.push_back(
            {prefix + std::to_string(i), ids ? 1000 * i + 7 : -1, -0.3f * float(i * i) - 0.01f});
    if (chosen >= 0) {
        p.token = p.top[size_t(chosen)].token;
        p.id = p.top[size_t(chosen)].id;
        p.logprob = p.top[size_t(chosen)].logprob;
    } else {
        p.token = prefix + " unlisted";
        p.id = ids ? 99999 : -1;
        p.logprob = -12.5f;
    }
    p.bytes = p.token;
    return p;
}

}  // namespace

TEST_CASE("store: token texts added through different connections all read back") {
    store_test::temp_dir dir;
    const std::string path = dir.file("shared.db");
    distill::Store a(path), b(path);
    const std::vector<position_spec> first = {position_with(" alpha", 0, 20, false),
                                              position_with(" beta", 3, 20, true)};
    const std::vector<position_spec> second = {position_with(" alpha", 1, 20, false),
                                               position_with(" gamma", -1, 5, true)};
    const std::vector<position_spec> third = {position_with(" gamma", 2, 20, true),
                                              position_with(" delta", 0, 3, false)};
    a.put(record_of(store_test::key_of(1), first));
    b.put(record_of(store_test::key_of(2), second));  // sees a's texts, adds " gamma"s
    // Tokens without ids only (as OpenAI answers): texts numbered alone.
    const std::vector<position_spec> fourth = {position_with(" alpha", 2, 20, false),
                                               position_with(" epsilon", -1, 4, false)};
    a.put(record_of(store_test::key_of(3), third));  // must not renumber b's texts
    b.put(record_of(store_test::key_of(4), fourth));
    for (distill::Store * store : {&a, &b}) {
        check_record(*store, store_test::key_of(1), first);
        check_record(*store, store_test::key_of(2), second);
        check_record(*store, store_test::key_of(3), third);
        check_record(*store, store_test::key_of(4), fourth);
    }
    distill::Store fresh(path, true);
    check_record(fresh, store_test::key_of(3), third);
}

TEST_CASE("store: positions with unusual shapes round-trip in format 2") {
    store_test::temp_dir dir;
    distill::Store store(dir.file("shapes.db"));
    position_spec half_character = position_with("é", 0, 2, false);
    half_character.bytes = "\xc3";  // half of "é": bytes differ from the text
    position_spec same_text_other_value = position_with(" x", 0, 3, false);
    same_text_other_value.logprob = -0.02f;  // equal text, unequal fp32: not derived
    position_spec negative_infinity = position_with(" y", 1, 4, true);
    negative_infinity.top[3].logprob = -INFINITY;
    position_spec no_alternatives{"solo", "solo", 5, -0.5f, {}};
    position_spec zero{"z", "z", -1, 0.0f, {{"z", -1, 0.0f}, {"w", -1, -1e-7f}}};
    const std::vector<position_spec> positions = {half_character, same_text_other_value,
                                                  negative_infinity, no_alternatives, zero};
    store.put(record_of(store_test::key_of(9), positions));
    check_record(store, store_test::key_of(9), positions);
    store.put(record_of(store_test::key_of(10), {}));
    check_record(store, store_test::key_of(10), {});
}

TEST_CASE("store: a damaged token_texts table is an error naming it, not a crash") {
    store_test::temp_dir dir;
    const std::string path = dir.file("damaged.db");
    {
        distill::Store store(path);
        store.put(record_of(store_test::key_of(1), {position_with(" a", 0, 3, false)}));
    }
    auto tamper = [&](const char * sql) {
        sqlite3 * db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
        sqlite3_close(db);
        REQUIRE(rc == SQLITE_OK);
    };
    distill_teacher_record * out = nullptr;
    SUBCASE("a text the record names is gone") {
        tamper("DELETE FROM token_texts WHERE id = 2");
        distill::Store store(path, true);
        CHECK(distill_store_get(store.get(), store_test::key_of(1).c_str(), &out) ==
              DISTILL_STATUS_CORRUPT_FILE);
        CHECK(std::string(distill_last_error_message()).find("token_texts") != std::string::npos);
    }
    SUBCASE("an id far past the others") {
        tamper("UPDATE token_texts SET id = 4000000000 WHERE id = 3");
        distill::Store store(path, true);
        CHECK(distill_store_get(store.get(), store_test::key_of(1).c_str(), &out) ==
              DISTILL_STATUS_CORRUPT_FILE);
        CHECK(std::string(distill_last_error_message()).find("damaged token_texts table") !=
              std::string::npos);
    }
    CHECK(out == nullptr);
}
