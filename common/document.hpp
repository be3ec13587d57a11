#pragma once
// Document: a user's YAML or JSON text as a typed JSON value, plus where each field stands
// in the source, so that any later check can report `file:line:col: field: message`.
//
// YAML scalars are typed by the YAML 1.2 core schema (plain `8` is an integer, `"8"` a string,
// `true` a boolean, `~` null), so a schema check sees the same types a JSON body would have.

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "common/spec_error.hpp"

namespace sy {

class Document {
 public:
  // A document with no source positions (e.g. a value received from the API).
  static Document from_value(nlohmann::json value, std::string file = "");

  const nlohmann::json& root() const { return root_; }
  const std::string& file() const { return file_; }

  // An error about `field` (a path such as "resources.gpus_per_node" or "command[1]"),
  // located at that field or, when the field is absent, at its nearest present ancestor.
  SpecError error_at(const std::string& field, std::string message) const;

  // Joins a field path and a child key or index the way error paths are written.
  static std::string child_path(const std::string& parent, const std::string& key);
  static std::string item_path(const std::string& parent, std::size_t index);

  struct Mark {
    int line;    // 1-based
    int column;  // 1-based
  };

 private:
  friend Result<Document, SpecError> parse_yaml_document(std::string_view, std::string);
  friend Result<Document, SpecError> parse_json_document(std::string_view, std::string);
  nlohmann::json root_;
  std::string file_;
  std::map<std::string, Mark> marks_;  // field path -> 1-based position of its key or item
};

// `file` names the source in errors (e.g. "job.yaml"); it is not opened.
Result<Document, SpecError> parse_yaml_document(std::string_view text, std::string file);
// JSON bodies carry no positions; errors name the field only. Duplicate keys are refused.
Result<Document, SpecError> parse_json_document(std::string_view text, std::string file = "");

// Reads `path` and parses it as YAML (JSON is valid YAML). Errors name `path`.
Result<Document, SpecError> load_yaml_file(const std::string& path);

}  // namespace sy
