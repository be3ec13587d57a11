#include "controller/store/migrations.hpp"

#include <cstdlib>
#include <string>
#include <vector>

#include "common/embedded_schemas.hpp"
#include "common/log.hpp"

namespace sy::store {
namespace {

struct Migration {
  int version;
  std::string name;
  std::string_view sql;
};

// "sql/0001_jobs.sql" -> version 1. Files are sorted by name, so by version.
std::vector<Migration> known_migrations() {
  std::vector<Migration> out;
  for (const auto& [name, content] : schemas::embedded_files()) {
    if (name.rfind("sql/", 0) != 0 || name.size() < 9) continue;
    const std::string file(name.substr(4));
    const int version = std::atoi(file.substr(0, 4).c_str());
    if (version > 0) out.push_back({version, file, content});
  }
  return out;
}

Result<int, StoreError> current_version(Db& db) {
  auto stmt = db.prepare("PRAGMA user_version");
  if (!stmt) return fail(std::move(stmt).error());
  auto row = stmt->step();
  if (!row) return fail(std::move(row).error());
  return static_cast<int>(stmt->column_int(0));
}

}  // namespace

int latest_schema_version() {
  const auto all = known_migrations();
  return all.empty() ? 0 : all.back().version;
}

Result<int, StoreError> migrate(Db& db) {
  auto version = current_version(db);
  if (!version) return version;
  const int latest = latest_schema_version();
  if (version.value() > latest) {
    return fail(
        StoreError::internal(db.path() + " has schema version " + std::to_string(version.value()) +
                             ", newer than this sy-controller knows (" + std::to_string(latest) +
                             "): run the newer sy-controller, or restore a backup"));
  }
  for (const Migration& m : known_migrations()) {
    if (m.version <= version.value()) continue;
    const std::string sql = "BEGIN IMMEDIATE;\n" + std::string(m.sql) +
                            "\nPRAGMA user_version = " + std::to_string(m.version) + ";\nCOMMIT;";
    if (auto r = db.exec(sql); !r) {
      (void)db.exec("ROLLBACK");
      return fail(StoreError::internal("migration " + m.name + " failed: " + r.error().message));
    }
    SY_LOG(info, "store") << "applied migration " << m.name;
  }
  return latest;
}

}  // namespace sy::store
