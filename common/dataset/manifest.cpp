#include "common/dataset/manifest.hpp"

#include <algorithm>
#include <cstdio>
#include <unordered_set>

#include <xxhash.h>

namespace sy::dataset {

std::int64_t Manifest::total_bytes() const {
  std::int64_t total = 0;
  for (const auto& f : files)
    total += f.size;
  return total;
}

std::string Manifest::version() const {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  for (const auto& f : files) {
    const std::string line =
        f.path + '\0' + std::to_string(f.size) + '\0' + digest_hex(f.digest) + '\n';
    XXH3_64bits_update(state, line.data(), line.size());
  }
  const std::uint64_t v = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return digest_hex(v);
}

const FileEntry* Manifest::find(std::string_view path) const {
  const auto it =
      std::lower_bound(files.begin(), files.end(), path,
                       [](const FileEntry& f, std::string_view p) { return f.path < p; });
  return it != files.end() && it->path == path ? &*it : nullptr;
}

Result<void, std::string> check_relative_path(std::string_view path) {
  if (path.empty()) return fail(std::string("is empty"));
  if (path.size() > 4096) return fail(std::string("is longer than 4096 bytes"));
  if (std::any_of(path.begin(), path.end(), [](char c) { return c >= 0 && c < 0x20; })) {
    return fail(std::string("contains a control character (NUL, newline, ...)"));
  }
  if (path.front() == '/') return fail(std::string("is absolute; it must be relative"));
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty()) return fail(std::string("has an empty component (\"//\" or a trailing '/')"));
    if (part == ".." || part == ".") {
      return fail("has a \"" + std::string(part) + "\" component; paths may not leave the dataset");
    }
    start = end + 1;
  }
  return {};
}

std::string digest_hex(std::uint64_t digest) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(digest));
  return text;
}

Result<std::uint64_t, std::string> parse_digest_hex(std::string_view text) {
  if (text.size() != 16) return fail(std::string("must be 16 hex digits"));
  std::uint64_t v = 0;
  for (const char c : text) {
    int d = 0;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return fail(std::string("must be 16 lowercase hex digits"));
    }
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  return v;
}

nlohmann::json to_json(const FileEntry& f) {
  return {{"path", f.path},
          {"size", f.size},
          {"mtime_ns", f.mtime_ns},
          {"digest", digest_hex(f.digest)}};
}

nlohmann::json to_json(const Manifest& manifest) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : manifest.files)
    files.push_back(to_json(f));
  return {{"name", manifest.name}, {"version", manifest.version()}, {"files", std::move(files)}};
}

Result<Manifest, std::string> manifest_from_json(const nlohmann::json& json) {
  if (!json.is_object()) return fail(std::string("manifest: must be an object"));
  Manifest m;
  const auto name = json.find("name");
  if (name == json.end() || !name->is_string() || !valid_dataset_name(name->get<std::string>())) {
    return fail(std::string("name: must be a dataset name (letters, digits, '.', '_', '-')"));
  }
  m.name = name->get<std::string>();
  const auto files = json.find("files");
  if (files == json.end() || !files->is_array())
    return fail(std::string("files: must be an array"));
  for (std::size_t i = 0; i < files->size(); ++i) {
    const auto& f = (*files)[i];
    const std::string at = "files[" + std::to_string(i) + "]";
    if (!f.is_object()) return fail(at + ": must be an object");
    FileEntry e;
    const auto path = f.find("path");
    if (path == f.end() || !path->is_string()) return fail(at + ".path: must be a string");
    e.path = path->get<std::string>();
    if (auto ok = check_relative_path(e.path); !ok) {
      return fail(at + ".path: \"" + e.path + "\" " + ok.error());
    }
    const auto size = f.find("size");
    if (size == f.end() || !size->is_number_integer() || size->get<std::int64_t>() < 0) {
      return fail(at + ".size: must be a whole number >= 0");
    }
    e.size = size->get<std::int64_t>();
    const auto mtime = f.find("mtime_ns");
    if (mtime == f.end() || !mtime->is_number_integer()) {
      return fail(at + ".mtime_ns: must be a whole number");
    }
    e.mtime_ns = mtime->get<std::int64_t>();
    const auto digest = f.find("digest");
    if (digest == f.end() || !digest->is_string()) return fail(at + ".digest: must be a string");
    auto d = parse_digest_hex(digest->get<std::string>());
    if (!d) return fail(at + ".digest: " + d.error());
    e.digest = d.value();
    if (!m.files.empty() && !(m.files.back().path < e.path)) {
      return fail(at + ".path: \"" + e.path + "\" is out of order or repeated");
    }
    m.files.push_back(std::move(e));
  }
  // A file may not also be a directory of another entry ("a" and "a/b").
  std::unordered_set<std::string_view> paths;
  for (const auto& f : m.files)
    paths.insert(f.path);
  for (std::size_t i = 0; i < m.files.size(); ++i) {
    const std::string_view p = m.files[i].path;
    for (std::size_t slash = p.find('/'); slash != std::string_view::npos;
         slash = p.find('/', slash + 1)) {
      if (paths.contains(p.substr(0, slash))) {
        return fail("files[" + std::to_string(i) + "].path: \"" + m.files[i].path +
                    "\" is inside the file \"" + std::string(p.substr(0, slash)) + "\"");
      }
    }
  }
  const auto version = json.find("version");
  if (version != json.end() &&
      (!version->is_string() || version->get<std::string>() != m.version())) {
    return fail(std::string("version: does not match the files (manifest altered or damaged)"));
  }
  return m;
}

}  // namespace sy::dataset
