#include "common/document.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "common/file_text.hpp"
#include "common/utf8.hpp"

namespace sy {
namespace {

constexpr int kMaxDepth = 64;  // deeper nesting is never a job spec; refuse before recursion hurts
constexpr std::size_t kMaxValues = 1'000'000;  // far beyond any configuration or job file

// Counts documents and nothing else: the parser's events are all that is needed.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// yaml-cpp 0.7's LoadAll never returns on a text that is a lone flow ',' (found by
// fuzz_job_spec): each document it reads is empty and consumes nothing. So the first document is
// loaded alone, and the rest are only counted, never past the second. Throws YAML::Exception.
std::size_t count_yaml_documents(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  std::size_t documents = 0;
  while (documents < 2 && parser.HandleNextDocument(counter))
    ++documents;
  return documents;
}

bool is_null_scalar(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> bool_scalar(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

// Core-schema integers: decimal, 0o octal, 0x hex. Returns false if `s` is not an integer;
// sets `overflow` if it is one but does not fit in 64 bits.
bool int_scalar(const std::string& s, std::int64_t& out, bool& overflow) {
  static const std::regex dec("[-+]?[0-9]+"), oct("0o[0-7]+"), hex("0x[0-9a-fA-F]+");
  int base = 10;
  std::size_t skip = 0;
  if (std::regex_match(s, dec)) {
    skip = (s[0] == '+') ? 1 : 0;
  } else if (std::regex_match(s, oct)) {
    base = 8, skip = 2;
  } else if (std::regex_match(s, hex)) {
    base = 16, skip = 2;
  } else {
    return false;
  }
  const char* first = s.data() + skip;
  const char* last = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(first, last, out, base);
  overflow = ec == std::errc::result_out_of_range;
  return overflow || (ec == std::errc() && ptr == last);
}

bool float_scalar(const std::string& s, double& out) {
  static const std::regex num(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (!std::regex_match(s, num)) return false;
  std::istringstream in(s);
  in.imbue(std::locale::classic());
  in >> out;
  return !in.fail();
}

class YamlConverter {
 public:
  YamlConverter(std::string file, std::map<std::string, Document::Mark>& marks)
      : file_(std::move(file)), marks_(marks) {}

  Result<nlohmann::json, SpecError> convert(const YAML::Node& node, const std::string& path,
                                            int depth) {
    if (depth > kMaxDepth) return fail(error(node.Mark(), path, "nested too deeply"));
    // Aliases let a few lines stand for billions of values ("billion laughs"): count what the
    // document expands to, not what it says.
    if (++values_ > kMaxValues) {
      return fail(error(
          node.Mark(), path,
          "expands to more than " + std::to_string(kMaxValues) + " values (aliases repeated?)"));
    }
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nlohmann::json(nullptr);
      case YAML::NodeType::Scalar:
        return scalar(node, path);
      case YAML::NodeType::Sequence:
        return sequence(node, path, depth);
      case YAML::NodeType::Map:
        return mapping(node, path, depth);
    }
    return nlohmann::json(nullptr);
  }

  SpecError error(const YAML::Mark& m, const std::string& field, std::string message) const {
    return SpecError{file_, m.line + 1, m.column + 1, field, std::move(message)};
  }

 private:
  std::size_t values_ = 0;
  Result<nlohmann::json, SpecError> scalar(const YAML::Node& node, const std::string& path) {
    const std::string& text = node.Scalar();
    const std::string& tag = node.Tag();
    // yaml-cpp's escapes \N and \_ decode to single Latin-1 bytes, not UTF-8.
    if (first_invalid_utf8(text)) {
      return fail(error(node.Mark(), path, "decodes to text that is not UTF-8 (\\N or \\_?)"));
    }
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return nlohmann::json(text);
    if (tag != "?" && tag != "tag:yaml.org,2002:int" && tag != "tag:yaml.org,2002:float" &&
        tag != "tag:yaml.org,2002:bool" && tag != "tag:yaml.org,2002:null") {
      return fail(error(node.Mark(), path, "unsupported YAML tag '" + tag + "'"));
    }
    if (is_null_scalar(text)) return nlohmann::json(nullptr);
    if (auto b = bool_scalar(text)) return nlohmann::json(*b);
    std::int64_t i = 0;
    bool overflow = false;
    if (int_scalar(text, i, overflow)) {
      if (overflow) return fail(error(node.Mark(), path, "integer out of range: " + text));
      return nlohmann::json(i);
    }
    double d = 0;
    if (float_scalar(text, d)) return nlohmann::json(d);
    if (tag != "?") return fail(error(node.Mark(), path, "'" + text + "' does not match its tag"));
    return nlohmann::json(text);
  }

  Result<nlohmann::json, SpecError> sequence(const YAML::Node& node, const std::string& path,
                                             int depth) {
    nlohmann::json out = nlohmann::json::array();
    std::size_t index = 0;
    for (const auto& item : node) {
      const std::string item_path = Document::item_path(path, index++);
      marks_[item_path] = {item.Mark().line + 1, item.Mark().column + 1};
      auto value = convert(item, item_path, depth + 1);
      if (!value) return value;
      out.push_back(std::move(value).value());
    }
    return out;
  }

  Result<nlohmann::json, SpecError> mapping(const YAML::Node& node, const std::string& path,
                                            int depth) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        return fail(error(kv.first.Mark(), path, "mapping keys must be plain strings"));
      }
      const std::string& key = kv.first.Scalar();
      if (first_invalid_utf8(key)) {
        return fail(error(kv.first.Mark(), path, "key decodes to text that is not UTF-8"));
      }
      const std::string key_path = Document::child_path(path, key);
      if (out.contains(key)) return fail(error(kv.first.Mark(), key_path, "duplicate key"));
      marks_[key_path] = {kv.first.Mark().line + 1, kv.first.Mark().column + 1};
      auto value = convert(kv.second, key_path, depth + 1);
      if (!value) return value;
      out[key] = std::move(value).value();
    }
    return out;
  }

  std::string file_;
  std::map<std::string, Document::Mark>& marks_;
};

}  // namespace

Document Document::from_value(nlohmann::json value, std::string file) {
  Document doc;
  doc.root_ = std::move(value);
  doc.file_ = std::move(file);
  return doc;
}

std::string Document::child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string Document::item_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

SpecError Document::error_at(const std::string& field, std::string message) const {
  SpecError e{file_, 0, 0, field, std::move(message)};
  // Walk up "a.b[2].c" -> "a.b[2]" -> "a.b" -> "a" until a located ancestor is found.
  std::string path = field;
  while (true) {
    if (auto it = marks_.find(path); it != marks_.end()) {
      e.line = it->second.line;
      e.column = it->second.column;
      return e;
    }
    const auto cut = path.find_last_of(".[");
    if (cut == std::string::npos || path.empty()) break;
    path.resize(cut);
  }
  if (!file_.empty() && !marks_.empty()) e.line = 1, e.column = 1;  // whole-document errors
  return e;
}

Result<Document, SpecError> parse_yaml_document(std::string_view text, std::string file) {
  Document doc;
  doc.file_ = file;
  // yaml-cpp passes any bytes through; JSON, which everything becomes, cannot carry them. Control
  // characters are not YAML either, and yaml-cpp turned NULs into bytes that are not UTF-8.
  std::optional<std::size_t> bad = first_invalid_utf8(text);
  std::string what = "not UTF-8 text (byte % is not part of a UTF-8 character)";
  const auto control = std::find_if(text.begin(), text.end(), [](char c) {
    return (c >= 0 && c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
  });
  if (control != text.end() && (!bad || static_cast<std::size_t>(control - text.begin()) < *bad)) {
    bad = static_cast<std::size_t>(control - text.begin());
    static constexpr char kHex[] = "0123456789abcdef";
    const auto code = static_cast<unsigned char>(*control);
    what = std::string("control character 0x") + kHex[code >> 4] + kHex[code & 15] +
           " is not allowed in YAML";
  }
  if (bad) {
    const std::string_view before = text.substr(0, *bad);
    const auto line = static_cast<int>(std::count(before.begin(), before.end(), '\n')) + 1;
    const auto line_start = before.rfind('\n');
    const auto column =
        static_cast<int>(*bad - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1);
    if (const auto at = what.find('%'); at != std::string::npos) {
      what.replace(at, 1, std::to_string(*bad));
    }
    return fail(SpecError{file, line, column, "", what});
  }
  YAML::Node first;
  std::size_t documents = 0;
  try {
    const std::string owned(text);
    documents = count_yaml_documents(owned);
    if (documents > 0) first = YAML::Load(owned);
  } catch (const YAML::Exception& e) {
    return fail(SpecError{file, e.mark.line + 1, e.mark.column + 1, "", "invalid YAML: " + e.msg});
  }
  // Checked first: a stray ',' reads as an endless run of empty documents.
  if (documents > 1) {
    return fail(SpecError{file, 1, 1, "", "expected one YAML document, found more than one"});
  }
  if (documents == 0 || first.IsNull()) {
    return fail(SpecError{file, 1, 1, "", "document is empty"});
  }
  doc.marks_[""] = {1, 1};
  YamlConverter converter(file, doc.marks_);
  try {
    auto root = converter.convert(first, "", 0);
    if (!root) return fail(std::move(root).error());
    doc.root_ = std::move(root).value();
  } catch (const YAML::Exception& e) {
    return fail(SpecError{file, e.mark.line + 1, e.mark.column + 1, "", "invalid YAML: " + e.msg});
  }
  return doc;
}

Result<Document, SpecError> parse_json_document(std::string_view text, std::string file) {
  Document doc;
  doc.file_ = file;
  // nlohmann keeps the last of duplicate keys silently; a callback notices them instead.
  std::vector<std::set<std::string>> keys_stack;
  std::string duplicate;
  auto on_event = [&](int, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (ev == E::object_start) keys_stack.emplace_back();
    if (ev == E::object_end && !keys_stack.empty()) keys_stack.pop_back();
    if (ev == E::key && !keys_stack.empty() && duplicate.empty()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!keys_stack.back().insert(key).second) duplicate = key;
    }
    return true;
  };
  try {
    doc.root_ = nlohmann::json::parse(text.begin(), text.end(), on_event);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> keep the tail
    if (auto p = what.find("parse error"); p != std::string::npos) what = what.substr(p);
    return fail(SpecError{file, 0, 0, "", "invalid JSON: " + what});
  } catch (const nlohmann::json::out_of_range& e) {
    // A number too large for a double (found by fuzz_job_spec: it escaped as an exception).
    std::string what = e.what();
    if (auto p = what.find("number overflow"); p != std::string::npos) what = what.substr(p);
    return fail(SpecError{file, 0, 0, "", "invalid JSON: " + what});
  }
  if (!duplicate.empty()) return fail(SpecError{file, 0, 0, duplicate, "duplicate key"});
  return doc;
}

Result<Document, SpecError> load_yaml_file(const std::string& path) {
  auto text = read_file_text(path);
  if (!text) return fail(SpecError{path, 0, 0, "", "cannot read: " + text.error()});
  return parse_yaml_document(text.value(), path);
}

}  // namespace sy
