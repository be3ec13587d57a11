#pragma once
// One way for every Switchyard program to read its command line: CLI11 definitions, the same
// exit statuses (0 help/version, 2 usage error), errors that name the program and sub-command,
// and the completion script and man page generated from those definitions.

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace sy::command_line {

// A program's root: its name, a one-line description, --help on it and on every sub-command
// added after this (CLI11 copies the help flag down), and --version printing "NAME VERSION".
void set_up_program(CLI::App& app, const std::string& description);

// Notes (wrapped by the caller) and "Example:" lines, shown at the end of --help and in the man
// page.
void set_examples(CLI::App& app, const std::vector<std::string>& examples,
                  const std::string& notes = "");

// A number no smaller than `min`: CLI::Range prints doubles with six decimals.
CLI::Validator at_least(double min);

// Parses args (without the program name). Returns the exit status when the program should stop
// now: 0 after --help, --version, --generate-man-page or --generate-completion SHELL (printed
// to stdout), 2 after a usage error (printed to stderr as "PROGRAM SUB: what is wrong").
std::optional<int> parse(CLI::App& app, std::vector<std::string> args);
std::optional<int> parse(CLI::App& app, int argc, const char* const* argv);

// The sub-command path given on the command line ("dataset add"), empty for the root.
std::string given_path(const CLI::App& app);

// Generated from the definitions: a bash completion script (zsh reads it through bashcompinit)
// and a man page in roff (section 8 for the daemons sy-controller and sy-agent, else 1).
std::string bash_completion(const CLI::App& app);
std::string man_page(const CLI::App& app);
int man_section(const std::string& program);

}  // namespace sy::command_line
