#include "common/slurm/sbatch_script.hpp"

#include <algorithm>
#include <charconv>
#include <regex>

#include "common/array_spec.hpp"
#include "common/comma_list.hpp"
#include "common/units.hpp"
#include "common/utf8.hpp"

namespace sy::slurm {
namespace {

// One word of a directive (or of the command line), and where it was written.
constexpr int kCommandLine = -1, kEnvironment = -2;

struct Word {
  std::string text;
  int line = 0;  // the script's line, or kCommandLine, or kEnvironment
};

enum class Arg { none, required, optional };

struct OptionInfo {
  const char* name;
  char short_name;
  Arg arg;
};

// Every option sy understands; anything else is refused by name.
constexpr OptionInfo kOptions[] = {
    {"job-name", 'J', Arg::required},
    {"nodes", 'N', Arg::required},
    {"ntasks", 'n', Arg::required},
    {"ntasks-per-node", 0, Arg::required},
    {"gpus-per-node", 0, Arg::required},
    {"gpus", 'G', Arg::required},
    {"gpus-per-task", 0, Arg::required},
    {"gres", 0, Arg::required},
    {"time", 't', Arg::required},
    {"output", 'o', Arg::required},
    {"error", 'e', Arg::required},
    {"cpus-per-task", 'c', Arg::required},
    {"cpus-per-gpu", 0, Arg::required},
    {"mem", 0, Arg::required},
    {"mem-per-gpu", 0, Arg::required},
    {"mem-per-cpu", 0, Arg::required},
    {"exclusive", 0, Arg::optional},
    {"dependency", 'd', Arg::required},
    {"array", 'a', Arg::required},
    {"account", 'A', Arg::required},
    {"partition", 'p', Arg::required},
    {"constraint", 'C', Arg::required},
    {"chdir", 'D', Arg::required},
    {"export", 0, Arg::required},
    {"requeue", 0, Arg::none},
    {"no-requeue", 0, Arg::none},
    {"mail-type", 0, Arg::required},
    {"mail-user", 0, Arg::required},
    {"wait-all-nodes", 0, Arg::required},
    {"ntasks-per-core", 0, Arg::required},
    {"hint", 0, Arg::required},
    {"qos", 'q', Arg::required},
    {"comment", 0, Arg::required},
    {"signal", 0, Arg::required},
    {"open-mode", 0, Arg::required},
    {"priority", 0, Arg::required},
    {"cores-per-socket", 0, Arg::required},
    {"sockets-per-node", 0, Arg::required},
    {"threads-per-core", 0, Arg::required},
};

const OptionInfo* find_long(std::string_view name) {
  for (const auto& o : kOptions) {
    if (name == o.name) return &o;
  }
  return nullptr;
}

const OptionInfo* find_short(char c) {
  for (const auto& o : kOptions) {
    if (o.short_name == c) return &o;
  }
  return nullptr;
}

// What the directives ask for, before it becomes a job document.
struct Request {
  std::optional<std::string> job_name;
  std::optional<int> nodes, ntasks, ntasks_per_node, cpus_per_task, cpus_per_gpu;
  // GPUs per node as each directive puts it, with the line it came from, to catch disagreement.
  std::optional<int> gpus_per_node, gres_gpus, gpus_total, gpus_per_task;
  std::optional<std::string> gpu_type;
  std::optional<std::string> time, output, error, account, chdir, array;
  std::optional<std::int64_t> mem_mib, mem_per_gpu_mib, mem_per_cpu_mib;
  bool exclusive = false;
  bool requeue = false;
  std::vector<std::string> features;
  std::vector<std::int64_t> after_ok, after_any;
  std::string export_spec = "ALL";
  bool singleton = false;
  // The command line's first GPU option replaces every GPU count the script gave.
  // Where the GPU request came from: 0 the script, 1 SBATCH_* variables, 2 the command line.
  int gpu_source = 0;
};

class Translator {
 public:
  explicit Translator(const SbatchContext& ctx) : ctx_(ctx) {}

  Result<SbatchJob, SpecError> run(std::string_view script);

 private:
  // Words from the command line have line kCommandLine, from SBATCH_* variables kEnvironment.
  std::string source_name(int line) const {
    return line == kCommandLine   ? std::string("command line")
           : line == kEnvironment ? std::string("environment (SBATCH_*)")
                                  : ctx_.file;
  }
  SpecError error(int line, const std::string& field, const std::string& message) const {
    return SpecError{source_name(line), std::max(line, 0), line > 0 ? 1 : 0, field, message};
  }
  void warn(int line, const std::string& option, const std::string& message) {
    out_.warnings.push_back((line < 0    ? source_name(line)
                             : line == 0 ? ctx_.file
                                         : ctx_.file + ":" + std::to_string(line)) +
                            ": " + option + ": " + message);
  }

  Result<void, SpecError> check_interpreter(std::string_view script);
  Result<std::vector<Word>, SpecError> directive_words(std::string_view script);
  // Applies every word; each refused one is kept in errors_ and the rest still read, so that
  // one submit reports every refused directive.
  void apply_words(const std::vector<Word>& words);
  Result<void, SpecError> apply(const OptionInfo& o, const std::string& value, int line);
  Result<SbatchJob, SpecError> build(std::string_view script);

  Result<int, SpecError> count(const std::string& value, int line, const std::string& option,
                               int max) const {
    int n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || p != value.data() + value.size() || n < 1 || n > max) {
      return fail(error(line, option,
                        "'" + value + "' must be a whole number from 1 to " + std::to_string(max)));
    }
    return n;
  }

  const SbatchContext& ctx_;
  Request req_;
  SbatchJob out_;
  std::vector<SpecError> errors_;
};

// Splits a directive's text the way sbatch does: whitespace separates words, quotes group them,
// and a word starting with '#' begins a comment.
Result<std::vector<std::string>, std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
      ++i;
    if (i >= text.size() || text[i] == '#') break;
    std::string word;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') {
      const char c = text[i];
      if (c == '"' || c == '\'') {
        const auto close = text.find(c, i + 1);
        if (close == std::string_view::npos) return fail(std::string("unterminated quote"));
        word.append(text.substr(i + 1, close - i - 1));
        i = close + 1;
      } else {
        word += c;
        ++i;
      }
    }
    words.push_back(std::move(word));
  }
  return words;
}

Result<void, SpecError> Translator::check_interpreter(std::string_view script) {
  if (script.rfind("#!", 0) != 0) {
    return fail(error(1, "",
                      "a batch script must start with '#!' and its interpreter's path, as "
                      "sbatch requires (e.g. #!/bin/bash)"));
  }
  if (script.find("\r\n") != std::string_view::npos) {
    return fail(error(1, "",
                      "the script has DOS line breaks (\\r\\n), which make the interpreter "
                      "see every line with a trailing \\r; convert it with dos2unix"));
  }
  const std::string_view first = script.substr(0, script.find('\n'));
  // The kernel passes everything after the interpreter as one argument: a typographic dash
  // (often pasted from a web page) makes the shell try to open a file by that name.
  for (const std::string_view dash : {"\u2013", "\u2014", "\u2212", "\u2010", "\u2011"}) {
    if (const auto at = first.find(dash); at != std::string_view::npos) {
      return fail(error(1, "",
                        "the interpreter line '" + std::string(first) +
                            "' has a typographic dash (U+" +
                            (dash == "\u2013"   ? std::string("2013 EN DASH")
                             : dash == "\u2014" ? std::string("2014 EM DASH")
                                                : std::string("2010-2212 dash")) +
                            ") where '-' was meant: the interpreter would be given '" +
                            std::string(first.substr(first.find_first_of(" \t") + 1)) +
                            "' as a file to run; write '-' instead"));
    }
  }
  if (first.find_first_not_of(" \t", 2) == std::string_view::npos) {
    return fail(error(1, "", "'#!' names no interpreter"));
  }
  return {};
}

Result<std::vector<Word>, SpecError> Translator::directive_words(std::string_view script) {
  std::vector<Word> words;
  // sbatch's input variables, as sbatch reads them: over the script, under the command line.
  static const std::pair<const char*, const char*> kInputVariables[] = {
      {"SBATCH_ACCOUNT", "--account"},
      {"SBATCH_TIMELIMIT", "--time"},
      {"SBATCH_JOB_NAME", "--job-name"},
      {"SBATCH_GPUS", "--gpus"},
      {"SBATCH_GPUS_PER_NODE", "--gpus-per-node"},
      {"SBATCH_GRES", "--gres"},
      {"SBATCH_EXCLUSIVE", "--exclusive"},
      {"SBATCH_REQUEUE", "--requeue"},
      {"SBATCH_NO_REQUEUE", "--no-requeue"}};
  for (const auto& [variable, option] : kInputVariables) {
    const auto it = ctx_.environment.find(variable);
    if (it == ctx_.environment.end()) continue;
    const std::string flag = option;
    // Flags are set by their variable's presence, as sbatch's are.
    const bool is_flag = flag == "--exclusive" || flag == "--requeue" || flag == "--no-requeue";
    words.push_back({is_flag ? flag : flag + "=" + it->second, kEnvironment});
  }
  for (const auto& w : ctx_.command_line)
    words.push_back({w, kCommandLine});
  std::vector<Word> from_script;
  int line_no = 0;
  std::size_t start = 0;
  while (start < script.size()) {
    const auto end = script.find('\n', start);
    const std::string_view line =
        script.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? script.size() : end + 1;
    ++line_no;
    if (line_no == 1) continue;  // the interpreter
    const auto text_at = line.find_first_not_of(" \t");
    if (text_at == std::string_view::npos) continue;
    if (line[text_at] != '#') break;  // sbatch reads directives up to the first command
    if (line.rfind("#SBATCH", 0) != 0) continue;
    auto split = split_words(line.substr(7));
    if (!split) return fail(error(line_no, "#SBATCH", split.error()));
    for (auto& w : split.value())
      from_script.push_back({std::move(w), line_no});
  }
  // The variables, then the command line, are applied last: they override the directives.
  from_script.insert(from_script.end(), words.begin(), words.end());
  return from_script;
}

void Translator::apply_words(const std::vector<Word>& words) {
  const auto value_follows = [&](std::size_t i) {
    return i + 1 < words.size() && words[i + 1].line == words[i].line &&
           words[i + 1].text.rfind('-', 0) != 0;
  };
  for (std::size_t i = 0; i < words.size(); ++i) {
    const Word& w = words[i];
    const OptionInfo* o = nullptr;
    std::optional<std::string> value;
    std::string shown;
    if (w.text.rfind("--", 0) == 0 && w.text.size() > 2) {
      const auto eq = w.text.find('=');
      const std::string name = w.text.substr(2, eq == std::string::npos ? eq : eq - 2);
      shown = "--" + name;
      o = find_long(name);
      if (!o) {
        errors_.push_back(error(w.line, shown,
                                "is not an sbatch option Switchyard supports (supported: "
                                "--job-name, --nodes, --ntasks, --ntasks-per-node, "
                                "--gpus-per-node, --gpus, --gpus-per-task, --gres=gpu:N, --time, "
                                "--output, --error, --cpus-per-task, --mem, --exclusive, "
                                "--dependency, --array, ...)"));
        // "--unknown VALUE": its value is not an option of its own.
        if (eq == std::string::npos && value_follows(i)) ++i;
        continue;
      }
      if (eq != std::string::npos) value = w.text.substr(eq + 1);
    } else if (w.text.size() >= 2 && w.text[0] == '-' && w.text[1] != '-') {
      shown = w.text.substr(0, 2);
      o = find_short(w.text[1]);
      if (!o) {
        errors_.push_back(error(w.line, shown, "is not an sbatch option Switchyard supports"));
        if (w.text.size() == 2 && value_follows(i)) ++i;
        continue;
      }
      if (w.text.size() > 2) value = w.text.substr(w.text[2] == '=' ? 3 : 2);
    } else {
      errors_.push_back(
          error(w.line, "#SBATCH", "'" + w.text + "' is not an option (options start with '-')"));
      continue;
    }
    if (o->arg == Arg::none && value) {
      errors_.push_back(error(w.line, shown, "takes no value"));
      continue;
    }
    if (o->arg == Arg::required && !value) {
      // "--nodes 2": the value is the next word of the same directive line.
      if (i + 1 >= words.size() || words[i + 1].line != w.line) {
        errors_.push_back(error(w.line, shown, "needs a value"));
        continue;
      }
      value = words[++i].text;
    }
    if (auto applied = apply(*o, value.value_or(""), w.line); !applied) {
      errors_.push_back(std::move(applied).error());
    }
  }
}

Result<void, SpecError> Translator::apply(const OptionInfo& o, const std::string& value, int line) {
  const std::string option = std::string("--") + o.name;
  const std::string n = o.name;
  const auto set_count = [&](std::optional<int>& field, int max) -> Result<void, SpecError> {
    auto c = count(value, line, option, max);
    if (!c) return fail(c.error());
    field = c.value();
    return {};
  };
  const auto set_size = [&](std::optional<std::int64_t>& field) -> Result<void, SpecError> {
    auto mib = parse_size_mib(value);
    if (!mib) return fail(error(line, option, "'" + value + "' " + mib.error()));
    field = mib.value();
    return {};
  };
  // sbatch's options on the command line override SBATCH_* variables, which override the
  // script's: the first GPU option of a source replaces whatever GPU counts and type the sources
  // below it gave, in any of their forms.
  const bool gpu_option =
      n == "gpus-per-node" || n == "gpus" || n == "gpus-per-task" || n == "gres";
  const int source = line == kCommandLine ? 2 : line == kEnvironment ? 1 : 0;
  if (gpu_option && source > req_.gpu_source) {
    req_.gpu_source = source;
    req_.gpus_per_node.reset();
    req_.gres_gpus.reset();
    req_.gpus_total.reset();
    req_.gpus_per_task.reset();
    req_.gpu_type.reset();
  }
  const auto gpu_count = [&](const std::string& text,
                             std::optional<int>& field) -> Result<void, SpecError> {
    // "8" or "a100:8": a type names the GPU model.
    std::string number = text;
    if (const auto colon = text.rfind(':'); colon != std::string::npos) {
      req_.gpu_type = text.substr(0, colon);
      number = text.substr(colon + 1);
    }
    auto c = count(number, line, option, 64);
    if (!c) return fail(c.error());
    field = c.value();
    return {};
  };
  if (n == "job-name") {
    req_.job_name = value;
  } else if (n == "nodes") {
    if (value.find('-') != std::string::npos) {
      return fail(error(line, option,
                        "'" + value +
                            "': a range of node counts is not supported; give one count (the "
                            "gang placer starts every node of a job together)"));
    }
    return set_count(req_.nodes, 4096);
  } else if (n == "ntasks") {
    return set_count(req_.ntasks, 65536);
  } else if (n == "ntasks-per-node") {
    return set_count(req_.ntasks_per_node, 1024);
  } else if (n == "gpus-per-node") {
    return gpu_count(value, req_.gpus_per_node);
  } else if (n == "gpus") {
    return gpu_count(value, req_.gpus_total);
  } else if (n == "gpus-per-task") {
    return gpu_count(value, req_.gpus_per_task);
  } else if (n == "gres") {
    // A later --gres replaces an earlier one whole, as in sbatch.
    req_.gres_gpus.reset();
    for (const std::string& item : split_commas(value)) {
      // gpu:N, gpu:TYPE:N; other generic resources are not something Switchyard tracks.
      if (item.rfind("gpu:", 0) != 0) {
        return fail(error(line, option,
                          "'" + item +
                              "': only GPUs are supported as generic resources (gpu:N "
                              "or gpu:TYPE:N)"));
      }
      if (auto r = gpu_count(item.substr(4), req_.gres_gpus); !r) return r;
    }
  } else if (n == "time") {
    auto s = parse_duration_seconds(value);
    if (!s) return fail(error(line, option, "'" + value + "' " + s.error()));
    req_.time = format_duration(s.value());
  } else if (n == "output") {
    req_.output = value;
  } else if (n == "error") {
    req_.error = value;
  } else if (n == "cpus-per-task") {
    return set_count(req_.cpus_per_task, 1024);
  } else if (n == "cpus-per-gpu") {
    return set_count(req_.cpus_per_gpu, 256);
  } else if (n == "mem") {
    if (value == "0") {
      warn(line, option,
           "'0' (all of a node's memory) is ignored: the job is limited by its GPUs' share");
      return {};
    }
    return set_size(req_.mem_mib);
  } else if (n == "mem-per-gpu") {
    return set_size(req_.mem_per_gpu_mib);
  } else if (n == "mem-per-cpu") {
    return set_size(req_.mem_per_cpu_mib);
  } else if (n == "exclusive") {
    if (!value.empty()) {
      return fail(error(line, option,
                        "'=" + value +
                            "' is not supported; --exclusive alone gives the job "
                            "whole nodes"));
    }
    req_.exclusive = true;
  } else if (n == "dependency") {
    if (value.find('?') != std::string::npos) {
      return fail(error(line, option, "'?' (any one of) is not supported; use ',' (all of)"));
    }
    for (const std::string& part : split_commas(value)) {
      if (part == "singleton") {
        // After every earlier job of this user with this name has ended: sy submit resolves it
        // to afterany on those jobs when it submits.
        req_.singleton = true;
        continue;
      }
      const auto colon = part.find(':');
      const std::string kind = part.substr(0, colon);
      std::vector<std::int64_t>* into = kind == "afterok"    ? &req_.after_ok
                                        : kind == "afterany" ? &req_.after_any
                                                             : nullptr;
      if (!into || colon == std::string::npos) {
        return fail(error(line, option,
                          "'" + part +
                              "': only afterok:ID[:ID...], afterany:ID[:ID...] and "
                              "singleton are supported"));
      }
      std::string_view ids = std::string_view(part).substr(colon + 1);
      while (true) {
        const auto next = ids.find(':');
        const std::string id(ids.substr(0, next));
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
        if (ec != std::errc() || p != id.data() + id.size() || v < 1) {
          return fail(error(line, option, "'" + id + "' in '" + part + "' is not a job id"));
        }
        into->push_back(v);
        if (next == std::string_view::npos) break;
        ids = ids.substr(next + 1);
      }
    }
  } else if (n == "array") {
    if (auto a = parse_array_spec(value); !a) {
      return fail(error(line, option, "'" + value + "': " + a.error()));
    }
    req_.array = value;
  } else if (n == "account") {
    // "six@v100": sites with per-partition allocations write the partition after '@'. Switchyard
    // has one queue, so the account is the part before it.
    static const std::regex account("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    const auto at = value.find('@');
    const std::string name = value.substr(0, at);
    if (!std::regex_match(name, account) ||
        (at != std::string::npos && !std::regex_match(value.substr(at + 1), account))) {
      return fail(error(line, option,
                        "'" + value +
                            "': Switchyard account names are 1-64 letters, digits, "
                            "'.', '_' or '-' (optionally NAME@PARTITION)"));
    }
    if (at != std::string::npos) {
      warn(line, option,
           "'" + value + "' is charged to account '" + name + "': Switchyard has one queue, so '@" +
               value.substr(at + 1) + "' chooses no partition");
    }
    req_.account = name;
  } else if (n == "constraint") {
    // A later --constraint (the command line's, too) replaces an earlier one, as in sbatch.
    req_.features.clear();
    static const std::regex feature("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    std::string rest = value;
    std::size_t at = 0;
    while (at <= rest.size()) {
      const auto amp = rest.find('&', at);
      const std::string f = rest.substr(at, amp == std::string::npos ? amp : amp - at);
      if (!std::regex_match(f, feature)) {
        return fail(error(line, option,
                          "'" + value +
                              "': only features joined by '&' are supported (no '|', "
                              "'[]' or counts)"));
      }
      if (std::find(req_.features.begin(), req_.features.end(), f) == req_.features.end()) {
        req_.features.push_back(f);
      }
      if (amp == std::string::npos) break;
      at = amp + 1;
    }
  } else if (n == "chdir") {
    req_.chdir = value;
  } else if (n == "export") {
    req_.export_spec = value;
  } else if (n == "requeue") {
    req_.requeue = true;
  } else if (n == "no-requeue") {
    req_.requeue = false;
  } else if (n == "wait-all-nodes") {
    // A gang's nodes start together anyway: the job never starts on some of them.
  } else if (n == "partition" || n == "qos") {
    warn(line, option,
         "ignored: Switchyard has one queue ordered by priority and fair share; '" + value +
             "' does not choose nodes");
  } else if (n == "mail-type" || n == "mail-user") {
    warn(line, option, "ignored: Switchyard sends no mail");
  } else if (n == "ntasks-per-core" || n == "hint") {
    warn(line, option, "ignored: processes are bound to the CPUs near their GPUs");
  } else if (n == "cores-per-socket" || n == "sockets-per-node" || n == "threads-per-core") {
    // Still a count: a typo is refused rather than ignored.
    std::optional<int> layout;
    if (auto r = set_count(layout, 1024); !r) return r;
    warn(line, option,
         "ignored: Switchyard picks nodes by their GPUs, and binds the job to the CPUs nearest "
         "them (cpus_per_gpu of them per GPU) rather than by socket or core layout");
  } else if (n == "comment") {
    warn(line, option, "ignored: Switchyard keeps no job comment");
  } else if (n == "signal") {
    warn(line, option,
         "ignored: at its time limit a job gets SIGTERM, then SIGKILL after the grace time");
  } else if (n == "open-mode") {
    warn(line, option, "ignored: output files are written afresh (truncate)");
  } else if (n == "priority") {
    warn(line, option, "ignored: priorities are set by administrators");
  }
  return {};
}

std::map<std::string, std::string> exported_environment(
    const std::string& spec, const std::map<std::string, std::string>& env,
    std::vector<std::string>& dropped) {
  static const std::regex var_name("[A-Za-z_][A-Za-z0-9_]*");
  std::map<std::string, std::string> out;
  const auto take = [&](const std::string& k, const std::string& v) {
    // Variables that describe the submitter's own allocation or job would mislead this one.
    if (k.rfind("SLURM_", 0) == 0 || k.rfind("SY_", 0) == 0) return;
    if (!std::regex_match(k, var_name) || v.size() > 65536 || first_invalid_utf8(v)) {
      dropped.push_back(k);
      return;
    }
    out[k] = v;
  };
  for (const std::string& item : split_commas(spec)) {
    if (item == "ALL") {
      for (const auto& [k, v] : env)
        take(k, v);
    } else if (item == "NONE" || item == "NIL") {
    } else if (const auto eq = item.find('='); eq != std::string::npos) {
      take(item.substr(0, eq), item.substr(eq + 1));
    } else if (const auto it = env.find(item); it != env.end()) {
      take(it->first, it->second);
    }
  }
  return out;
}

Result<SbatchJob, SpecError> Translator::build(std::string_view script) {
  Request& r = req_;
  nlohmann::json job;
  // The job's name: as given, or the script's file name as sbatch does; made fit for sy's names.
  std::string slurm_name = r.job_name.value_or(ctx_.file.substr(ctx_.file.find_last_of('/') + 1));
  if (slurm_name.empty()) slurm_name = "sbatch";
  std::string name = std::regex_replace(slurm_name, std::regex("[^A-Za-z0-9._-]"), "_");
  if (!std::isalnum(static_cast<unsigned char>(name.front()))) name = "job" + name;
  name = name.substr(0, 64);
  if (name != slurm_name && r.job_name) {
    warn(0, "--job-name",
         "'" + slurm_name + "' is shown as '" + name +
             "' (sy's names are 1-64 letters, digits, '.', '_', '-'); "
             "SLURM_JOB_NAME keeps it as written");
  }
  job["name"] = name;
  job["script"] = std::string(script);
  job["launcher"] = "none";

  const int nodes = r.nodes.value_or(1);
  int tasks_per_node = 1;
  if (r.ntasks_per_node) {
    tasks_per_node = *r.ntasks_per_node;
    if (r.ntasks && *r.ntasks != tasks_per_node * nodes) {
      return fail(error(0, "--ntasks",
                        std::to_string(*r.ntasks) + " tasks do not match " +
                            std::to_string(tasks_per_node) + " per node on " +
                            std::to_string(nodes) + " nodes"));
    }
  } else if (r.ntasks) {
    if (*r.ntasks % nodes != 0) {
      return fail(error(0, "--ntasks",
                        std::to_string(*r.ntasks) + " tasks do not spread evenly over " +
                            std::to_string(nodes) +
                            " nodes; give --ntasks-per-node (Switchyard gives every node of a "
                            "job the same share)"));
    }
    tasks_per_node = *r.ntasks / nodes;
  }

  // GPUs per node, from whichever directives give them; they must agree.
  std::vector<std::pair<std::string, int>> asked;
  if (r.gpus_per_node) asked.emplace_back("--gpus-per-node", *r.gpus_per_node);
  if (r.gres_gpus) asked.emplace_back("--gres", *r.gres_gpus);
  if (r.gpus_per_task) asked.emplace_back("--gpus-per-task", *r.gpus_per_task * tasks_per_node);
  if (r.gpus_total) {
    if (*r.gpus_total % nodes != 0) {
      return fail(error(0, "--gpus",
                        std::to_string(*r.gpus_total) + " GPUs do not spread evenly over " +
                            std::to_string(nodes) + " nodes; give --gpus-per-node"));
    }
    asked.emplace_back("--gpus", *r.gpus_total / nodes);
  }
  for (const auto& [how, count] : asked) {
    if (count != asked.front().second) {
      return fail(error(0, how,
                        "asks for " + std::to_string(count) + " GPUs per node but " +
                            asked.front().first + " asks for " +
                            std::to_string(asked.front().second)));
    }
  }
  int gpus_per_node = asked.empty() ? 0 : asked.front().second;
  if (r.exclusive) {
    // Slurm gives an exclusive job every GRES of its nodes.
    if (ctx_.whole_node_gpus > gpus_per_node) {
      if (gpus_per_node > 0) {
        warn(0, "--exclusive",
             "the job gets every GPU of its nodes (" + std::to_string(ctx_.whole_node_gpus) +
                 "), as Slurm gives it, not the " + std::to_string(gpus_per_node) + " asked for");
      }
      gpus_per_node = ctx_.whole_node_gpus;
    }
  }
  if (gpus_per_node == 0) {
    return fail(error(0, "",
                      r.exclusive ? "--exclusive asks for whole nodes, but how many GPUs a node "
                                    "has is unknown (no node has registered); give "
                                    "--gpus-per-node=N"
                                  : "the script asks for no GPUs; add --gpus-per-node=N or "
                                    "--gres=gpu:N (Switchyard places GPU jobs)"));
  }
  if (gpus_per_node > 64) {
    return fail(error(0, "", std::to_string(gpus_per_node) + " GPUs per node is more than 64"));
  }
  nlohmann::json res{{"nodes", nodes}, {"gpus_per_node", gpus_per_node}};
  int cpus_per_gpu = 1;
  if (r.cpus_per_gpu) {
    cpus_per_gpu = *r.cpus_per_gpu;
  } else if (r.cpus_per_task) {
    const int cpus = *r.cpus_per_task * tasks_per_node;
    cpus_per_gpu = (cpus + gpus_per_node - 1) / gpus_per_node;
  }
  if (cpus_per_gpu > 256) {
    return fail(error(
        0, "--cpus-per-task",
        "asks for " + std::to_string(cpus_per_gpu) + " CPUs per GPU; at most 256 are supported"));
  }
  res["cpus_per_gpu"] = cpus_per_gpu;
  std::optional<std::int64_t> mem_per_gpu = r.mem_per_gpu_mib;
  if (!mem_per_gpu && r.mem_mib) mem_per_gpu = (*r.mem_mib + gpus_per_node - 1) / gpus_per_node;
  if (!mem_per_gpu && r.mem_per_cpu_mib) mem_per_gpu = *r.mem_per_cpu_mib * cpus_per_gpu;
  if (mem_per_gpu) res["memory_per_gpu"] = *mem_per_gpu;
  if (r.gpu_type) res["gpu_model"] = *r.gpu_type;
  if (!r.features.empty()) res["features"] = r.features;
  job["resources"] = res;

  out_.singleton = r.singleton;
  if (r.time) job["time_limit"] = *r.time;
  if (r.account) job["account"] = *r.account;
  if (r.requeue) job["requeue"] = true;
  if (r.array) job["array"] = *r.array;
  if (!r.after_ok.empty() || !r.after_any.empty()) {
    nlohmann::json d = nlohmann::json::object();
    if (!r.after_ok.empty()) d["after_ok"] = r.after_ok;
    if (!r.after_any.empty()) d["after_any"] = r.after_any;
    job["dependencies"] = d;
  }
  std::string workdir = ctx_.submit_dir;
  if (r.chdir) workdir = (*r.chdir)[0] == '/' ? *r.chdir : ctx_.submit_dir + "/" + *r.chdir;
  job["workdir"] = workdir;

  std::vector<std::string> dropped;
  job["env"] = exported_environment(r.export_spec, ctx_.environment, dropped);
  if (!dropped.empty()) {
    warn(0, "--export",
         "not exported (not a plain name, not UTF-8 or over 64 KiB): " + join_commas(dropped));
  }
  if (job["env"].size() > 1024) {
    return fail(error(0, "--export",
                      "the environment has " + std::to_string(job["env"].size()) +
                          " variables, more than the 1024 a job may carry; use "
                          "--export=NONE or a list of names"));
  }

  nlohmann::json slurm{{"ntasks_per_node", tasks_per_node},
                       {"job_name", slurm_name},
                       {"output", r.output.value_or(r.array ? "slurm-%A_%a.out" : "slurm-%j.out")},
                       {"submit_host", ctx_.submit_host}};
  if (r.error) slurm["error"] = *r.error;
  if (r.cpus_per_task) slurm["cpus_per_task"] = *r.cpus_per_task;
  job["slurm"] = slurm;
  out_.job = std::move(job);
  return std::move(out_);
}

Result<SbatchJob, SpecError> Translator::run(std::string_view script) {
  if (auto bad = first_invalid_utf8(script)) {
    return fail(error(0, "", "byte " + std::to_string(*bad) + " is not UTF-8 text"));
  }
  if (auto ok = check_interpreter(script); !ok) return fail(std::move(ok).error());
  auto words = directive_words(script);
  if (!words) return fail(std::move(words).error());
  apply_words(words.value());
  if (!errors_.empty()) {
    // The first refusal, then every other one on its own line.
    SpecError all = errors_.front();
    if (errors_.size() > 1) {
      all.message += " (and " + std::to_string(errors_.size() - 1) + " more refused below)";
      for (std::size_t i = 1; i < errors_.size(); ++i)
        all.message += "\n" + errors_[i].to_string();
    }
    return fail(std::move(all));
  }
  return build(script);
}

}  // namespace

bool looks_like_batch_script(std::string_view text) {
  if (text.rfind("#!", 0) == 0) return true;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    const std::string_view line =
        text.substr(start, end == std::string_view::npos ? end : end - start);
    if (line.rfind("#SBATCH", 0) == 0) return true;
    const auto at = line.find_first_not_of(" \t");
    if (at != std::string_view::npos && line[at] != '#') return false;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return false;
}

Result<SbatchJob, SpecError> job_from_sbatch(std::string_view script, const SbatchContext& ctx) {
  return Translator(ctx).run(script);
}

std::string expand_output_pattern(std::string_view pattern, const OutputNames& names) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 >= pattern.size()) {
      out += pattern[i];
      continue;
    }
    std::size_t j = i + 1;
    int width = 0;
    while (j < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[j])) && width < 10)
      width = width * 10 + (pattern[j++] - '0');
    if (j >= pattern.size()) {
      out.append(pattern.substr(i));
      break;
    }
    const auto number = [&](std::int64_t n) {
      std::string s = std::to_string(n);
      if (static_cast<int>(s.size()) < width)
        s.insert(0, static_cast<std::size_t>(width) - s.size(), '0');
      out += s;
    };
    switch (pattern[j]) {
      case '%':
        out += '%';
        break;
      case 'j':
        number(names.job);
        break;
      case 'A':
        number(names.array_job);
        break;
      case 'a':
        if (names.array_index) {
          number(*names.array_index);
        } else {
          out += "4294967294";  // what Slurm writes for a job outside an array
        }
        break;
      case 'x':
        out += names.name;
        break;
      case 'u':
        out += names.user;
        break;
      case 'N':
        out += names.first_node;
        break;
      case 'n':
      case 't':
        number(0);
        break;
      case 's':
        out += "batch";
        break;
      default:
        // Unknown: kept as written, as Slurm does.
        out.append(pattern.substr(i, j - i + 1));
    }
    i = j;
  }
  return out;
}

}  // namespace sy::slurm
