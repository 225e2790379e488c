#include "store/token_dictionary.h"

#include <algorithm>

#include "common/error.h"

namespace distill {
namespace {

// Ids are rowids the store numbered itself (max + 1 each), so they are
// dense; a jump this far past the ids known is a damaged table (texts_ is
// indexed by id, so a wild id must not size it).
constexpr uint64_t max_id_gap = uint64_t(1) << 20;

}  // namespace

void token_dictionary::remember(uint64_t id, std::string text) {
    const auto [it, added] = ids_.try_emplace(std::move(text), id);
    if (!added) return;
    if (id >= texts_.size()) {
        texts_.resize(id + 1);
        known_.resize(id + 1, 0);
    }
    texts_[id] = it->first;
    known_[id] = 1;
}

void token_dictionary::read_new_rows() {
    sqlite_statement select(db_, "SELECT id, text FROM token_texts WHERE id > ? ORDER BY id");
    select.bind(1, int64_t(last_id_read_));
    while (select.step()) {
        const int64_t id = select.column_int(0);
        if (id < 1 || uint64_t(id) > texts_.size() + max_id_gap)
            throw error(status::corrupt_file, "store '" + db_.path() +
                                                  "': damaged token_texts table (id " +
                                                  std::to_string(id) + ")");
        remember(id, select.column_text(1));
        last_id_read_ = std::max(last_id_read_, uint64_t(id));
    }
}

uint64_t token_dictionary::id_of(const std::string & text) {
    if (const auto it = ids_.find(text); it != ids_.end()) return it->second;
    if (const auto it = pending_ids_.find(text); it != pending_ids_.end()) return it->second;
    if (!read_in_transaction_) {
        read_new_rows();
        read_in_transaction_ = true;
        if (const auto it = ids_.find(text); it != ids_.end()) return it->second;
    }
    sqlite_statement insert(db_, "INSERT INTO token_texts (text) VALUES (?)");
    insert.bind_blob(1, text);
    insert.step();
    const uint64_t id = uint64_t(sqlite3_last_insert_rowid(db_.handle()));
    pending_.emplace_back(id, text);
    pending_ids_.emplace(text, id);
    return id;
}

const std::string * token_dictionary::text_of(uint64_t id) {
    if (id > last_id_read_) read_new_rows();
    return id < texts_.size() && known_[id] ? &texts_[id] : nullptr;
}

void token_dictionary::commit() {
    for (auto & [id, text] : pending_) {
        last_id_read_ = std::max(last_id_read_, id);
        remember(id, std::move(text));
    }
    end_transaction();
}

void token_dictionary::roll_back() { end_transaction(); }

void token_dictionary::end_transaction() {
    pending_.clear();
    pending_ids_.clear();
    read_in_transaction_ = false;
}

}  // namespace distill
