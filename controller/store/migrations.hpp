#pragma once
// Schema migrations: the numbered files schemas/sql/NNNN_name.sql (compiled into the binary),
// applied in order at start, each in its own transaction with PRAGMA user_version bumped to
// NNNN. A database newer than this binary is refused rather than misread.

#include <string>

#include "common/result.hpp"
#include "controller/store/sqlite.hpp"

namespace sy::store {

// Returns the schema version the database has afterwards.
Result<int, StoreError> migrate(Db& db);
// The highest version this binary knows.
int latest_schema_version();

}  // namespace sy::store
