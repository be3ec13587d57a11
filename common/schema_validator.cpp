#include "common/schema_validator.hpp"

#include <cstdlib>
#include <regex>
#include <sstream>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "common/embedded_schemas.hpp"
#include "common/log.hpp"

namespace sy {

struct SchemaValidator::Impl {
  valijson::Validator validator{valijson::Validator::kStrongTypes};
};

namespace {

// Aggregate errors that only say "something below failed"; the leaf error says what.
bool is_aggregate(const std::string& d) {
  return d.rfind("Failed to validate against schema associated with", 0) == 0 ||
         d.rfind("Failed to validate item #", 0) == 0 ||
         d.rfind("Failed to validate against additional properties schema", 0) == 0;
}

std::string number_text(const nlohmann::json& n) {
  return n.is_number_integer() ? std::to_string(n.get<std::int64_t>()) : n.dump();
}

std::string type_phrase(const nlohmann::json& type) {
  auto one = [](const std::string& t) -> std::string {
    if (t == "integer") return "an integer";
    if (t == "number") return "a number";
    if (t == "string") return "a string";
    if (t == "boolean") return "true or false";
    if (t == "array") return "a list";
    if (t == "object") return "a mapping";
    if (t == "null") return "null";
    return t;
  };
  if (type.is_string()) return one(type.get<std::string>());
  std::string out;
  if (type.is_array()) {
    for (std::size_t i = 0; i < type.size(); ++i) {
      if (i > 0) out += (i + 1 == type.size()) ? " or " : ", ";
      out += one(type[i].get<std::string>());
    }
  }
  return out;
}

std::string plural(std::int64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string quoted_between(const std::string& d, char q) {
  const auto a = d.find(q);
  const auto b = d.rfind(q);
  return (a != std::string::npos && b > a) ? d.substr(a + 1, b - a - 1) : std::string();
}

}  // namespace

SchemaValidator::~SchemaValidator() = default;

Result<std::shared_ptr<SchemaValidator>, std::string> SchemaValidator::from_text(
    std::string_view schema_text) {
  std::shared_ptr<SchemaValidator> v(new SchemaValidator());
  v->schema_json_ = nlohmann::json::parse(schema_text, nullptr, false);
  if (v->schema_json_.is_discarded()) return fail(std::string("schema is not valid JSON"));
  v->schema_ = std::make_unique<valijson::Schema>();
  try {
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(v->schema_json_);
    parser.populateSchema(adapter, *v->schema_);
  } catch (const std::exception& e) {
    return fail(std::string("schema is not usable: ") + e.what());
  }
  v->impl_ = std::make_unique<Impl>();
  return v;
}

std::shared_ptr<SchemaValidator> SchemaValidator::builtin(std::string_view name) {
  auto text = schemas::embedded_file(name);
  if (!text) {
    SY_LOG(error, "schema") << "build defect: no embedded schema named " << name;
    std::abort();
  }
  auto v = from_text(*text);
  if (!v) {
    SY_LOG(error, "schema") << "build defect: embedded schema " << name << ": " << v.error();
    std::abort();
  }
  return v.value();
}

Result<void, SpecError> SchemaValidator::validate(const Document& doc) const {
  valijson::adapters::NlohmannJsonAdapter target(doc.root());
  std::lock_guard<std::mutex> lock(mutex_);
  // Without a results sink valijson stops at the first violation: the fast path for valid input.
  if (impl_->validator.validate(*schema_, target, nullptr)) return {};
  valijson::ValidationResults results;
  impl_->validator.validate(*schema_, target, &results);
  const valijson::ValidationResults::Error* chosen = nullptr;
  for (const auto& e : results) {
    if (!is_aggregate(e.description)) {
      chosen = &e;
      break;
    }
  }
  if (chosen == nullptr && results.begin() != results.end()) chosen = &*results.begin();
  if (chosen == nullptr) return fail(doc.error_at("", "does not match the schema"));

  // Turn valijson's context {"<root>", "[resources]", "[gpus_per_node]"} into a field path,
  // walking the document so that "[0]" is read as an index only where the value is a list.
  std::string path;
  const nlohmann::json* node = &doc.root();
  for (std::size_t i = 1; i < chosen->context.size(); ++i) {
    std::string token = chosen->context[i];
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']') {
      token = token.substr(1, token.size() - 2);
    }
    if (node != nullptr && node->is_array()) {
      const std::size_t index = std::strtoull(token.c_str(), nullptr, 10);
      path = Document::item_path(path, index);
      node = index < node->size() ? &(*node)[index] : nullptr;
    } else {
      path = Document::child_path(path, token);
      node = (node != nullptr && node->is_object() && node->contains(token)) ? &(*node)[token]
                                                                             : nullptr;
    }
  }
  return fail(describe(doc, path, chosen->description));
}

// The schema that governs the value at `path`, following properties, patternProperties,
// additionalProperties, items and local "$ref"s.
const nlohmann::json* SchemaValidator::schema_at(const Document& doc,
                                                 const std::string& path) const {
  auto resolve = [this](const nlohmann::json* s) {
    for (int hops = 0; s != nullptr && s->is_object() && s->contains("$ref") && hops < 16; ++hops) {
      const std::string ref = (*s)["$ref"].get<std::string>();
      if (ref.rfind("#/", 0) != 0) return s;
      s = &schema_json_.at(nlohmann::json::json_pointer(ref.substr(1)));
    }
    return s;
  };
  const nlohmann::json* s = resolve(&schema_json_);
  const nlohmann::json* node = &doc.root();
  std::size_t pos = 0;
  while (pos < path.size() && s != nullptr) {
    if (path[pos] == '.') ++pos;
    if (path[pos] == '[') {
      const auto close = path.find(']', pos);
      const std::size_t index = std::strtoull(path.c_str() + pos + 1, nullptr, 10);
      pos = close + 1;
      s = (s->contains("items") && (*s)["items"].is_object()) ? &(*s)["items"] : nullptr;
      node =
          (node != nullptr && node->is_array() && index < node->size()) ? &(*node)[index] : nullptr;
    } else {
      auto end = path.find_first_of(".[", pos);
      if (end == std::string::npos) end = path.size();
      const std::string key = path.substr(pos, end - pos);
      pos = end;
      const nlohmann::json* next = nullptr;
      if (s->contains("properties") && (*s)["properties"].contains(key)) {
        next = &(*s)["properties"][key];
      } else if (s->contains("patternProperties")) {
        for (const auto& [pattern, sub] : (*s)["patternProperties"].items()) {
          if (std::regex_search(key, std::regex(pattern))) next = &sub;
        }
      }
      if (next == nullptr && s->contains("additionalProperties") &&
          (*s)["additionalProperties"].is_object()) {
        next = &(*s)["additionalProperties"];
      }
      s = next;
      node =
          (node != nullptr && node->is_object() && node->contains(key)) ? &(*node)[key] : nullptr;
    }
    s = resolve(s);
  }
  return s;
}

SpecError SchemaValidator::describe(const Document& doc, const std::string& path,
                                    const std::string& what) const {
  const nlohmann::json* s = schema_at(doc, path);
  auto get = [&](const char* key) -> const nlohmann::json* {
    return (s != nullptr && s->contains(key)) ? &(*s)[key] : nullptr;
  };
  if (what.rfind("Missing required property", 0) == 0) {
    return doc.error_at(Document::child_path(path, quoted_between(what, '\'')), "is required");
  }
  if (what.rfind("Object contains a property that could not be validated", 0) == 0) {
    const auto tail = what.substr(what.find(": '"));
    return doc.error_at(Document::child_path(path, quoted_between(tail, '\'')), "unknown field");
  }
  std::string message = what;  // valijson's own words when nothing better is known
  if (what.rfind("Value type not permitted", 0) == 0 && get("type")) {
    message = "must be " + type_phrase(*get("type"));
  } else if (what.rfind("Expected number greater than or equal to", 0) == 0 && get("minimum")) {
    message = "must be >= " + number_text(*get("minimum"));
  } else if (what.rfind("Expected number greater than", 0) == 0 && get("exclusiveMinimum")) {
    message = "must be > " + number_text(*get("exclusiveMinimum"));
  } else if (what.rfind("Expected number less than or equal to", 0) == 0 && get("maximum")) {
    message = "must be <= " + number_text(*get("maximum"));
  } else if (what.rfind("Expected number less than", 0) == 0 && get("exclusiveMaximum")) {
    message = "must be < " + number_text(*get("exclusiveMaximum"));
  } else if (what.rfind("Failed to match against any enum values", 0) == 0 && get("enum")) {
    message = "must be one of: ";
    const auto& values = *get("enum");
    for (std::size_t i = 0; i < values.size(); ++i) {
      message += (i ? ", " : "") +
                 (values[i].is_string() ? values[i].get<std::string>() : values[i].dump());
    }
  } else if (what.rfind("Failed to match regex", 0) == 0) {
    message = get("x-error") ? get("x-error")->get<std::string>()
                             : "must match " + (get("pattern") ? get("pattern")->get<std::string>()
                                                               : std::string("the pattern"));
  } else if (what.rfind("String should be no fewer than", 0) == 0 && get("minLength")) {
    const auto n = get("minLength")->get<std::int64_t>();
    message = n == 1 ? "must not be empty" : "must be at least " + plural(n, "character");
  } else if (what.rfind("String should be no more than", 0) == 0 && get("maxLength")) {
    message = "must be at most " + plural(get("maxLength")->get<std::int64_t>(), "character");
  } else if (what.rfind("Array should contain no fewer than", 0) == 0 && get("minItems")) {
    const auto n = get("minItems")->get<std::int64_t>();
    message = n == 1 ? "must not be empty" : "must have at least " + plural(n, "item");
  } else if (what.rfind("Array should contain no more than", 0) == 0 && get("maxItems")) {
    message = "must have at most " + plural(get("maxItems")->get<std::int64_t>(), "item");
  } else if (what.find("violate uniqueness constraint") != std::string::npos) {
    message = "must not repeat an item";
  } else if (what.rfind("Object should have no more than", 0) == 0 && get("maxProperties")) {
    message = "must have at most " + number_text(*get("maxProperties")) + " entries";
  }
  return doc.error_at(path, message);
}

}  // namespace sy
