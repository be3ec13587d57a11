#pragma once
// The files under schemas/ (JSON Schemas and numbered SQL migrations), compiled into every
// binary so that what a program validates and migrates with always matches its own version.
// Names are relative to schemas/, e.g. "job.schema.json" or "sql/0001_jobs.sql".

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::schemas {

std::optional<std::string_view> embedded_file(std::string_view name);
// Every embedded file as (name, content), sorted by name.
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_files();

}  // namespace sy::schemas
