#pragma once
// DatasetStore: the dataset registry in SQLite (schemas/sql/0006_datasets.sql). Like the other
// stores it leaves transactions to its caller.

#include <optional>
#include <string>
#include <vector>

#include "common/dataset/manifest.hpp"
#include "common/result.hpp"
#include "controller/store/sqlite.hpp"

namespace sy::store {

struct DatasetVersionRow {
  std::string version;
  std::int64_t bytes = 0;
  std::int64_t files = 0;
  std::int64_t created_ms = 0;
};

struct DatasetRow {
  std::string name;
  std::string source;
  std::string added_by;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  DatasetVersionRow current;
};

class DatasetStore {
 public:
  static Result<DatasetStore, StoreError> open(Db& db);

  // Records a scan of `source`: a new version when the manifest's is not known yet, and makes it
  // the current one. Returns whether the version is new.
  Result<bool, StoreError> record_scan(const std::string& source, const dataset::Manifest& manifest,
                                       const std::string& user, std::int64_t now_ms);
  Result<std::vector<DatasetRow>, StoreError> list();
  Result<std::optional<DatasetRow>, StoreError> get(const std::string& name);
  // Every version of a dataset, newest first.
  Result<std::vector<DatasetVersionRow>, StoreError> versions(const std::string& name);
  Result<std::optional<dataset::Manifest>, StoreError> manifest(const std::string& name,
                                                                const std::string& version);

 private:
  explicit DatasetStore(Db& db) : db_(&db) {}
  Result<std::vector<DatasetRow>, StoreError> rows(Statement& st);
  Db* db_;
  Statement upsert_dataset_, insert_version_, list_, get_, versions_, manifest_;
};

}  // namespace sy::store
