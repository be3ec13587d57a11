#pragma once
// SchemaValidator: checks a Document against one JSON Schema (draft 7, via valijson) and turns
// the first violation into a SpecError a person can act on: the field path, its place in the
// file, and a short message built from the schema itself ("must be >= 1", "unknown field",
// "must be one of: mpi, env, none"). A schema may give a pattern's message in "x-error".

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/document.hpp"
#include "common/result.hpp"
#include "common/spec_error.hpp"

namespace valijson {
class Schema;
}

namespace sy {

class SchemaValidator {
 public:
  // Builds a validator from schema text. Fails (with the reason) if the schema is malformed.
  static Result<std::shared_ptr<SchemaValidator>, std::string> from_text(std::string_view schema);
  // The validator for one of the schemas compiled into the binary (e.g. "job.schema.json").
  // Aborts if the name is unknown or the schema broken: that is a build defect, not input.
  static std::shared_ptr<SchemaValidator> builtin(std::string_view name);

  ~SchemaValidator();
  Result<void, SpecError> validate(const Document& doc) const;

 private:
  SchemaValidator() = default;
  SpecError describe(const Document& doc, const std::string& path, const std::string& what) const;
  const nlohmann::json* schema_at(const Document& doc, const std::string& path) const;

  nlohmann::json schema_json_;
  std::unique_ptr<valijson::Schema> schema_;
  mutable std::mutex mutex_;  // valijson's Validator caches compiled regexes: not thread-safe
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sy
