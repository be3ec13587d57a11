#include "common/command_line/command_line.hpp"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <sstream>

namespace sy::command_line {
namespace {

// Sub-commands a user can name, without the unnamed option groups CLI11 also keeps as apps.
std::vector<const CLI::App*> named_subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) { return !sub->get_name().empty(); });
}

// Options shown to users: hidden ones (an empty group) are left out.
std::vector<const CLI::Option*> shown_options(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return !o->get_group().empty(); });
}

std::string path_of(const CLI::App& app) {
  std::string path;
  for (const CLI::App* a = &app; a->get_parent() != nullptr; a = a->get_parent())
    path = a->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

std::string root_name(const CLI::App& app) {
  const CLI::App* a = &app;
  while (a->get_parent() != nullptr)
    a = a->get_parent();
  return a->get_name();
}

// The deepest sub-command given: where a usage error belongs.
const CLI::App& given_leaf(const CLI::App& app) {
  const CLI::App* a = &app;
  for (;;) {
    const auto given = a->get_subcommands();
    if (given.empty()) return *a;
    a = given.front();
  }
}

std::string names_of(const CLI::Option& o) {
  std::string out;
  for (const auto& s : o.get_snames())
    out += (out.empty() ? "-" : ", -") + s;
  for (const auto& l : o.get_lnames())
    out += (out.empty() ? "--" : ", --") + l;
  return out;
}

// Words an option takes ("FILE", "N ..."), empty for a flag.
std::string value_text(const CLI::Option& o) {
  if (o.get_expected_max() == 0) return "";
  std::string type = o.get_type_name();
  if (type.empty()) type = "VALUE";
  return o.get_items_expected_max() > 1 ? type + " ..." : type;
}

// roff: a leading '.' or '\'' starts a request, '\' starts an escape, '-' in names must stay a
// hyphen-minus so that a copied option works.
std::string roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (const char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
    line_start = c == '\n';
  }
  return out;
}

void man_options(std::ostringstream& out, const CLI::App& app) {
  for (const CLI::Option* o : shown_options(app)) {
    // --help is on every command: the page says so once, at the top.
    if (app.get_parent() != nullptr && o == app.get_help_ptr()) continue;
    out << ".TP\n";
    if (o->get_positional()) {
      out << "\\fI" << roff(o->get_name()) << "\\fR\n";
    } else {
      out << "\\fB" << roff(names_of(*o)) << "\\fR";
      const std::string value = value_text(*o);
      if (!value.empty()) out << " \\fI" << roff(value) << "\\fR";
      out << "\n";
    }
    out << roff(o->get_description());
    if (!o->get_envname().empty()) out << " (environment: " << roff(o->get_envname()) << ")";
    out << "\n";
  }
}

void man_commands(std::ostringstream& out, const CLI::App& app) {
  for (const CLI::App* sub : named_subcommands(app)) {
    std::string words;
    for (const CLI::Option* o : shown_options(*sub))
      if (o->get_positional()) words += " " + o->get_name(true);
    out << ".SS \"" << roff(root_name(*sub) + " " + path_of(*sub) + words) << "\"\n"
        << roff(sub->get_description()) << "\n";
    man_options(out, *sub);
    if (!sub->get_footer().empty()) out << ".PP\n.nf\n" << roff(sub->get_footer()) << "\n.fi\n";
    man_commands(out, *sub);
  }
}

void completion_cases(std::ostringstream& out, const CLI::App& app) {
  std::string options, values, commands;
  for (const CLI::Option* o : shown_options(app)) {
    if (o->get_positional()) continue;
    for (const auto& s : o->get_snames())
      options += " -" + s;
    for (const auto& l : o->get_lnames()) {
      options += " --" + l;
      if (o->get_expected_max() != 0) values += " --" + l;
    }
  }
  for (const CLI::App* sub : named_subcommands(app))
    commands += " " + sub->get_name();
  out << "    \"" << path_of(app) << "\") options=\"" << options << "\"; commands=\"" << commands
      << "\"; takes_value=\"" << values << " \";;\n";
  for (const CLI::App* sub : named_subcommands(app))
    completion_cases(out, *sub);
}

void completion_paths(std::ostringstream& out, const CLI::App& app) {
  for (const CLI::App* sub : named_subcommands(app)) {
    const std::string parent = path_of(app);
    out << "      \"" << parent << "|" << sub->get_name() << "\") path=\"" << path_of(*sub)
        << "\";;\n";
    completion_paths(out, *sub);
  }
}

}  // namespace

void set_up_program(CLI::App& app, const std::string& description) {
  app.description(description);
  app.set_help_flag("-h,--help", "print this help and exit");
  // An option given twice takes its last value, as the tools' hand-written loops did and as
  // scripts that append an override to a default command line expect.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", app.get_name() + " " + SY_VERSION,
                       "print the version and exit");
  // One sub-command at most: sbatch options after `submit` may be words like `queue`, which
  // must stay that command's values, not start another.
  app.require_subcommand(0, 1);
}

void set_examples(CLI::App& app, const std::vector<std::string>& examples,
                  const std::string& notes) {
  std::string text = notes.empty() ? "" : notes + "\n\n";
  text += examples.size() == 1 ? "Example:\n" : "Examples:\n";
  for (const auto& e : examples)
    text += "  " + e + "\n";
  app.footer(text);
}

CLI::Validator at_least(double min) {
  std::ostringstream shown;
  shown << min;
  return CLI::Validator(
      [min, text = shown.str()](std::string& value) {
        double x = 0;
        if (!CLI::detail::lexical_cast(value, x)) return "'" + value + "' is not a number";
        return x >= min ? std::string() : "must be at least " + text + ", not " + value;
      },
      ">=" + shown.str());
}

std::string given_path(const CLI::App& app) {
  return path_of(given_leaf(app));
}

std::optional<int> parse(CLI::App& app, std::vector<std::string> args) {
  if (args.size() == 1 && args[0] == "--generate-man-page") {
    std::cout << man_page(app);
    return 0;
  }
  if (args.size() == 2 && args[0] == "--generate-completion") {
    if (args[1] != "bash" && args[1] != "zsh") {
      std::cerr << app.get_name() << ": --generate-completion: bash or zsh\n";
      return 2;
    }
    if (args[1] == "zsh") std::cout << "autoload -U +X bashcompinit && bashcompinit\n";
    std::cout << bash_completion(app);
    return 0;
  }
  // CLI11 takes the words last first.
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    // CLI11 names a sub-command's usage after the words before it: "sy dataset add".
    const CLI::App& leaf = given_leaf(app);
    std::string before;
    if (leaf.get_parent() != nullptr) {
      const std::string parent = path_of(*leaf.get_parent());
      before = app.get_name() + (parent.empty() ? "" : " " + parent);
    }
    std::cout << leaf.help(before);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::cout << app.version() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    const std::string where = given_path(app);
    const std::string program = app.get_name() + (where.empty() ? "" : " " + where);
    std::cerr << program << ": " << e.what() << "\n(see " << program << " --help)\n";
    return 2;
  }
  return std::nullopt;
}

std::optional<int> parse(CLI::App& app, int argc, const char* const* argv) {
  return parse(app, std::vector<std::string>(argv + 1, argv + argc));
}

std::string bash_completion(const CLI::App& app) {
  const std::string name = app.get_name();
  std::string fn = "_" + name;
  for (char& c : fn)
    if (c == '-') c = '_';
  std::ostringstream out;
  out << "# bash completion for " << name << ", generated from its command-line definitions ("
      << name << " --generate-completion bash).\n"
      << fn << "() {\n"
      << "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path=\"\" i\n"
      << "  local options commands takes_value\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    case \"$path|${COMP_WORDS[i]}\" in\n";
  completion_paths(out, app);
  out << "    esac\n"
      << "  done\n"
      << "  case \"$path\" in\n";
  completion_cases(out, app);
  out << "  esac\n"
      << "  if [[ $COMP_CWORD -gt 1 && $takes_value == *\" $prev \"* ]]; then\n"
      << "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      << "  elif [[ $cur == -* ]]; then\n"
      << "    COMPREPLY=($(compgen -W \"$options\" -- \"$cur\"))\n"
      << "  else\n"
      << "    COMPREPLY=($(compgen -W \"$commands\" -- \"$cur\") $(compgen -f -- \"$cur\"))\n"
      << "  fi\n"
      << "}\n"
      << "complete -F " << fn << " " << name << "\n";
  return out.str();
}

int man_section(const std::string& program) {
  return program == "sy-controller" || program == "sy-agent" ? 8 : 1;
}

std::string man_page(const CLI::App& app) {
  const std::string name = app.get_name();
  std::ostringstream out;
  std::string upper = name;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // The description's first line is the page's NAME; the rest, if any, its DESCRIPTION.
  const std::string description = app.get_description();
  const auto newline = description.find('\n');
  const std::string title = description.substr(0, newline);
  const std::string body = newline == std::string::npos ? title : description.substr(newline + 1);
  out << ".\\\" Generated from " << name << "'s command-line definitions (" << name
      << " --generate-man-page).\n"
      << ".TH " << upper << " " << man_section(name) << " \"\" \"Switchyard " << SY_VERSION
      << "\" \"Switchyard\"\n"
      << ".SH NAME\n"
      << roff(name) << " \\- " << roff(title) << "\n.SH SYNOPSIS\n\\fB" << roff(name)
      << "\\fR [\\fIOPTIONS\\fR]"
      << (named_subcommands(app).empty() ? "" : " [\\fICOMMAND\\fR [\\fIARGS\\fR]]") << "\n"
      << ".SH DESCRIPTION\n"
      << roff(body) << "\n"
      << ".SH OPTIONS\n";
  man_options(out, app);
  if (!named_subcommands(app).empty()) {
    out << ".SH COMMANDS\n";
    man_commands(out, app);
  }
  if (!app.get_footer().empty()) out << ".SH NOTES\n.nf\n" << roff(app.get_footer()) << "\n.fi\n";
  out << ".SH SEE ALSO\n";
  bool first = true;
  for (const std::string other : {"sy", "sy-controller", "sy-agent", "sy-sim"}) {
    if (other == name) continue;
    out << (first ? "" : ", ") << "\\fB" << roff(other) << "\\fR(" << man_section(other) << ")";
    first = false;
  }
  out << "\n.PP\nThe full documentation is in /usr/share/doc/switchyard.\n";
  return out.str();
}

}  // namespace sy::command_line
