#include "common/unit_fields.hpp"

namespace sy {
namespace {

// The schema admits a string or an integer here; an integer is in the parser's bare unit.
std::string text_of(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : std::to_string(v.get<std::int64_t>());
}

}  // namespace

Result<std::int64_t, SpecError> duration_field_s(const Document& doc, const nlohmann::json& value,
                                                 const std::string& field) {
  auto s = parse_duration_seconds(text_of(value));
  if (!s) return fail(doc.error_at(field, s.error()));
  return s.value();
}

Result<std::int64_t, SpecError> size_field_mib(const Document& doc, const nlohmann::json& value,
                                               const std::string& field, std::int64_t max_mib) {
  auto mib = parse_size_mib(text_of(value), max_mib);
  if (!mib) return fail(doc.error_at(field, mib.error()));
  return mib.value();
}

}  // namespace sy
