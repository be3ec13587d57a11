#include "controller/store/dataset_store.hpp"

namespace sy::store {

Result<DatasetStore, StoreError> DatasetStore::open(Db& db) {
  DatasetStore s(db);
  constexpr const char* kRowColumns =
      "SELECT d.name, d.source, d.added_by, d.created_ms, d.updated_ms, v.version, v.bytes, "
      "v.files, v.created_ms FROM datasets d JOIN dataset_versions v ON v.name = d.name AND "
      "v.version = d.version";
  const std::string list_sql = std::string(kRowColumns) + " ORDER BY d.name";
  const std::string get_sql = std::string(kRowColumns) + " WHERE d.name = ?1";
  auto prepared = db.prepare_all({
      {&s.upsert_dataset_,
       "INSERT INTO datasets (name, source, version, added_by, created_ms, updated_ms) VALUES "
       "(?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (name) DO UPDATE SET source = ?2, version = ?3, "
       "updated_ms = ?5"},
      {&s.insert_version_,
       "INSERT INTO dataset_versions (name, version, bytes, files, manifest_json, created_ms) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name, version) DO NOTHING"},
      {&s.list_, list_sql},
      {&s.get_, get_sql},
      {&s.versions_,
       "SELECT version, bytes, files, created_ms FROM dataset_versions WHERE name = ?1 "
       "ORDER BY created_ms DESC, version"},
      {&s.manifest_, "SELECT manifest_json FROM dataset_versions WHERE name = ?1 AND version = ?2"},
  });
  if (!prepared) return fail(std::move(prepared).error());
  return s;
}

Result<bool, StoreError> DatasetStore::record_scan(const std::string& source,
                                                   const dataset::Manifest& manifest,
                                                   const std::string& user, std::int64_t now_ms) {
  const std::string version = manifest.version();
  // The dataset row first: the version row refers to it.
  upsert_dataset_.bind(1, std::string_view(manifest.name))
      .bind(2, std::string_view(source))
      .bind(3, std::string_view(version))
      .bind(4, std::string_view(user))
      .bind(5, now_ms);
  if (auto r = upsert_dataset_.run(); !r) return fail(r.error());
  insert_version_.bind(1, std::string_view(manifest.name))
      .bind(2, std::string_view(version))
      .bind(3, manifest.total_bytes())
      .bind(4, static_cast<std::int64_t>(manifest.files.size()))
      .bind(5, std::string_view(dataset::to_json(manifest).dump()))
      .bind(6, now_ms);
  if (auto r = insert_version_.run(); !r) return fail(r.error());
  return db_->changes() > 0;
}

Result<std::vector<DatasetRow>, StoreError> DatasetStore::rows(Statement& st) {
  std::vector<DatasetRow> out;
  auto walked = st.each([&] {
    out.push_back({.name = st.column_text(0),
                   .source = st.column_text(1),
                   .added_by = st.column_text(2),
                   .created_ms = st.column_int(3),
                   .updated_ms = st.column_int(4),
                   .current = {.version = st.column_text(5),
                               .bytes = st.column_int(6),
                               .files = st.column_int(7),
                               .created_ms = st.column_int(8)}});
  });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

Result<std::vector<DatasetRow>, StoreError> DatasetStore::list() {
  return rows(list_);
}

Result<std::optional<DatasetRow>, StoreError> DatasetStore::get(const std::string& name) {
  get_.bind(1, std::string_view(name));
  auto found = rows(get_);
  if (!found) return fail(std::move(found).error());
  if (found->empty()) return std::optional<DatasetRow>();
  return std::optional<DatasetRow>(std::move(found->front()));
}

Result<std::vector<DatasetVersionRow>, StoreError> DatasetStore::versions(const std::string& name) {
  versions_.bind(1, std::string_view(name));
  std::vector<DatasetVersionRow> out;
  auto walked = versions_.each([&] {
    out.push_back({.version = versions_.column_text(0),
                   .bytes = versions_.column_int(1),
                   .files = versions_.column_int(2),
                   .created_ms = versions_.column_int(3)});
  });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

Result<std::optional<dataset::Manifest>, StoreError> DatasetStore::manifest(
    const std::string& name, const std::string& version) {
  manifest_.bind(1, std::string_view(name)).bind(2, std::string_view(version));
  auto row = manifest_.step();
  if (!row) {
    manifest_.reset();
    return fail(std::move(row).error());
  }
  if (!row.value()) {
    manifest_.reset();
    return std::optional<dataset::Manifest>();
  }
  const auto json = nlohmann::json::parse(manifest_.column_text(0), nullptr, false);
  manifest_.reset();
  auto m = dataset::manifest_from_json(json);
  if (!m) return fail(StoreError::internal("dataset " + name + "@" + version + ": " + m.error()));
  return std::optional<dataset::Manifest>(std::move(m).value());
}

}  // namespace sy::store
