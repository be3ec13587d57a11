#include "controller/store/sqlite.hpp"

#include <sqlite3.h>

#include <utility>

namespace sy::store {
namespace {
StoreError sqlite_error(sqlite3* db, std::string_view what) {
  return StoreError::internal(std::string(what) + ": " +
                              (db ? sqlite3_errmsg(db) : "out of memory"));
}
}  // namespace

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, std::string_view(*value)) : bind_null(index);
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool, StoreError> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  if (rc == SQLITE_CONSTRAINT) return fail(StoreError::conflict(sqlite3_errmsg(db_)));
  return fail(sqlite_error(db_, "sqlite step"));
}

Result<void, StoreError> Statement::run() {
  return each([] {});
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

double Statement::column_double(int col) const {
  return sqlite3_column_double(stmt_, col);
}

std::optional<std::int64_t> Statement::column_optional_int(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt_, col);
}

std::string Statement::column_text(int col) const {
  const auto* text = sqlite3_column_text(stmt_, col);
  if (!text) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::optional<std::string> Statement::column_optional_text(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
  return column_text(col);
}

Result<Db, StoreError> Db::open(const std::string& path, Mode mode) {
  Db db;
  db.path_ = path;
  const int flags = mode == Mode::read_write ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
                                             : SQLITE_OPEN_READONLY;
  if (sqlite3_open_v2(path.c_str(), &db.db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    return fail(sqlite_error(db.db_, "cannot open " + path));
  }
  sqlite3_extended_result_codes(db.db_, 0);
  // Waits instead of failing while another connection checkpoints or writes.
  sqlite3_busy_timeout(db.db_, 10000);
  const char* pragmas = mode == Mode::read_write
                            ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                              "PRAGMA foreign_keys=ON;"
                            : "PRAGMA foreign_keys=ON;";
  if (auto r = db.exec(pragmas); !r) return fail(std::move(r).error());
  return db;
}

Db::~Db() {
  if (db_) sqlite3_close_v2(db_);
}

Db::Db(Db&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Result<Statement, StoreError> Db::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return fail(sqlite_error(db_, "prepare '" + std::string(sql.substr(0, 60)) + "'"));
  }
  return Statement(db_, stmt);
}

Result<void, StoreError> Db::prepare_all(
    std::initializer_list<std::pair<Statement*, std::string_view>> statements) {
  for (const auto& [target, sql] : statements) {
    auto p = prepare(sql);
    if (!p) return fail(std::move(p).error());
    *target = std::move(p).value();
  }
  return {};
}

Result<void, StoreError> Db::exec(std::string_view sql) {
  char* message = nullptr;
  const std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string m = message ? message : "unknown error";
    sqlite3_free(message);
    return fail(StoreError::internal("sqlite: " + m));
  }
  return {};
}

std::int64_t Db::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}
int Db::changes() const {
  return sqlite3_changes(db_);
}

}  // namespace sy::store
