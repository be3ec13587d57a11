#pragma once
// Thin RAII over the SQLite C API: a connection and its prepared statements. Nothing here
// knows about jobs; job_store.hpp does. A Db is used by one thread at a time.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/result.hpp"
#include "controller/store/store_error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace sy::store {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds are 1-based, as in SQLite. Chainable.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::optional<std::int64_t>& value);
  Statement& bind(int index, const std::optional<std::string>& value);
  Statement& bind_null(int index);

  // Steps once: true with a row, false when done. Errors carry SQLite's message.
  Result<bool, StoreError> step();
  // Steps to the end, for statements that return no rows.
  Result<void, StoreError> run();
  // Steps through every row, calling `on_row` with this statement on it (read the columns
  // there). `on_row` returns nothing, or a Result whose failure stops the walk with that error.
  // Reset afterwards, whatever happened.
  template <class OnRow>
  Result<void, StoreError> each(OnRow&& on_row);
  void reset();  // ready to bind and run again

  std::int64_t column_int(int col) const;
  double column_double(int col) const;
  std::optional<std::int64_t> column_optional_int(int col) const;
  std::string column_text(int col) const;
  std::optional<std::string> column_optional_text(int col) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  enum class Mode { read_write, read_only };
  // Opens (creating when read_write) with WAL journaling and synchronous=FULL, so that a
  // COMMIT that returns is on disk.
  static Result<Db, StoreError> open(const std::string& path, Mode mode);

  Db() = default;
  ~Db();
  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Result<Statement, StoreError> prepare(std::string_view sql);
  // Prepares each (target, sql) pair into its target; the first failure stops.
  Result<void, StoreError> prepare_all(
      std::initializer_list<std::pair<Statement*, std::string_view>> statements);
  Result<void, StoreError> exec(std::string_view sql);  // one or more statements, no rows
  std::int64_t last_insert_rowid() const;
  int changes() const;
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

template <class OnRow>
Result<void, StoreError> Statement::each(OnRow&& on_row) {
  while (true) {
    auto more = step();
    if (!more) {
      reset();
      return fail(std::move(more).error());
    }
    if (!more.value()) break;
    if constexpr (std::is_void_v<std::invoke_result_t<OnRow&>>) {
      on_row();
    } else if (auto r = on_row(); !r) {
      reset();
      return fail(std::move(r).error());
    }
  }
  reset();
  return {};
}

}  // namespace sy::store
