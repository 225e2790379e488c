// The store-wide numbering of token texts (schema version 2's token_texts
// table; position_codec.h says what an entry holds) that positions blobs
// of format 2 refer to: a text such as " the" is stored once per store
// instead of once per record that uses it, which is most of what a record
// of top-k 20 alternatives would otherwise cost.
//
// Texts are only ever added, never changed or removed, so an id seen
// committed stays valid for every connection: the dictionary caches what
// it has read and reads only rows past the last id it knows. Ids it
// numbers inside a write transaction stay pending until the transaction
// commits (a rolled-back id may be given to another text by another
// writer).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/position_codec.h"
#include "store/sqlite_db.h"

namespace distill {

class token_dictionary final : public token_texts {
public:
    explicit token_dictionary(sqlite_db & db) : db_(db) {}

    // Only inside a write transaction (BEGIN IMMEDIATE): inserts new texts.
    uint64_t id_of(const std::string & text) override;
    const std::string * text_of(uint64_t id) override;

    // The write transaction committed: its new texts are known for good.
    void commit();
    // It rolled back: forget them.
    void roll_back();

private:
    // Reads the rows past the last id known (other writers' texts).
    void read_new_rows();
    void remember(uint64_t id, std::string text);
    void end_transaction();

    sqlite_db & db_;
    std::unordered_map<std::string, uint64_t> ids_;
    // By id (SQLite rowids, dense from 1), a copy of ids_' keys held
    // contiguously: a read looks up thousands of texts per record, and
    // chasing each one into its hash node was most of the cost of a read.
    std::vector<std::string> texts_;
    std::vector<uint8_t> known_;  // texts_[id] holds a text
    uint64_t last_id_read_ = 0;
    std::vector<std::pair<uint64_t, std::string>> pending_;
    std::unordered_map<std::string, uint64_t> pending_ids_;
    bool read_in_transaction_ = false;  // the writer holds the lock: one read is enough
};

}  // namespace distill
