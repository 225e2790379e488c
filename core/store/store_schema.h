// The store's schema and its migrations. A distill store is an SQLite file
// whose application_id is store_application_id and whose schema_version
// table holds one row: the version of the layout below. Each version bump
// adds one migration step (v → v + 1); opening an older store runs the
// missing steps in one transaction, opening a newer one is refused.
#pragma once

#include <cstdint>

#include "store/sqlite_db.h"

namespace distill {

// "DSTL": marks the file as a distill store (PRAGMA application_id), so a
// random SQLite database is never mistaken for one, nor written to.
inline constexpr int32_t store_application_id = 0x4453544c;
inline constexpr int64_t store_schema_version = 3;

// Checks that `db` is a distill store (or an empty file, which it makes one
// unless read_only) and brings its schema to store_schema_version.
// Throws invalid_argument for a file that is not a distill store and
// unsupported for a store written by a newer library. Returns the schema
// version the file now has (an older one only when read_only: a read-only
// store is read as it is, never migrated).
int64_t open_store_schema(sqlite_db & db, bool read_only);

}  // namespace distill
