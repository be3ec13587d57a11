// The command lines of sy, sy-controller, sy-agent, sy-sim and sy-trace-convert: --help on every
// command names every option the parser knows, errors name the option, sbatch options reach the
// translation in order, the generated completion completes, and README's tour is accepted word
// for word.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

#include "agent/command_line.hpp"
#include "cli/command_line.hpp"
#include "controller/command_line.hpp"
#include "controller/sim/command_line.hpp"
#include "controller/sim/convert_command_line.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using sy::command_line::parse;

// A program's definitions, made fresh for every parse (a parsed CLI::App keeps its results).
struct Program {
  std::string name;
  std::function<std::shared_ptr<void>(CLI::App*&)> make;
};

template <class CommandLine>
Program program(const std::string& name) {
  return {name, [](CLI::App*& app) {
            auto cl = std::make_shared<CommandLine>();
            app = &cl->app;
            return std::shared_ptr<void>(cl);
          }};
}

const std::vector<Program>& programs() {
  static const std::vector<Program> all = {
      program<sy::cli::SyCommandLine>("sy"),
      program<sy::controller::ControllerCommandLine>("sy-controller"),
      program<sy::agent::AgentCommandLine>("sy-agent"), program<sy::sim::SimCommandLine>("sy-sim"),
      program<sy::sim::ConvertCommandLine>("sy-trace-convert")};
  return all;
}

struct Outcome {
  std::optional<int> stop;
  std::string out, err;
};

// Parses as the program's main() does, with what it prints captured.
Outcome run_parse(CLI::App& app, const std::vector<std::string>& words) {
  std::ostringstream out, err;
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  Outcome o;
  o.stop = parse(app, words);
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  o.out = out.str();
  o.err = err.str();
  return o;
}

// Every sub-command path of an app: {}, {"submit"}, {"dataset", "add"}, ...
void paths_of(const CLI::App& app, std::vector<std::string> prefix,
              std::vector<std::vector<std::string>>& out) {
  out.push_back(prefix);
  for (const CLI::App* sub :
       app.get_subcommands([](const CLI::App* s) { return !s->get_name().empty(); })) {
    auto next = prefix;
    next.push_back(sub->get_name());
    paths_of(*sub, next, out);
  }
}

const CLI::App& at_path(const CLI::App& app, const std::vector<std::string>& path) {
  const CLI::App* a = &app;
  for (const auto& name : path)
    a = a->get_subcommand(name);
  return *a;
}

// sh's words: quotes grouped, a backslash-newline already joined.
std::vector<std::string> shell_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (const char c : text) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

// The commands of README's tour that run one of the programs, as the shell would split them.
std::vector<std::vector<std::string>> tour_commands() {
  std::ifstream in(std::string(SY_SOURCE_DIR) + "/README.md");
  std::string line, joined;
  bool in_tour = false, in_block = false;
  std::vector<std::vector<std::string>> commands;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_tour = line == "## A 5-minute tour";
    if (!in_tour) continue;
    if (line.rfind("```", 0) == 0) {
      in_block = !in_block;
      continue;
    }
    if (!in_block) continue;
    if (!line.empty() && line.back() == '\\') {
      joined += line.substr(0, line.size() - 1);
      continue;
    }
    joined += line;
    // A comment starts at '#' after a space (none of the tour's quoted words holds one).
    if (const auto hash = joined.find(" #"); hash != std::string::npos) joined.resize(hash);
    if (joined.rfind('#', 0) == 0) joined.clear();
    std::size_t start = 0;
    while (start <= joined.size()) {
      auto end = joined.find_first_of(";&", start);
      if (end == std::string::npos) end = joined.size();
      auto words = shell_words(joined.substr(start, end - start));
      if (!words.empty() && (words[0] == "sy" || words[0] == "sy-controller" ||
                             words[0] == "sy-agent" || words[0] == "sy-sim")) {
        commands.push_back(words);
      }
      start = joined.find_first_not_of("&", end + 1);
      if (start == std::string::npos) break;
    }
    joined.clear();
  }
  return commands;
}

}  // namespace

TEST_CASE("every command's --help exits 0 and names every option the parser knows", "[cli]") {
  for (const Program& p : programs()) {
    CLI::App* definitions = nullptr;
    const auto keep = p.make(definitions);
    std::vector<std::vector<std::string>> paths;
    paths_of(*definitions, {}, paths);
    for (const auto& path : paths) {
      CLI::App* app = nullptr;
      const auto fresh = p.make(app);
      auto words = path;
      words.push_back("--help");
      const Outcome o = run_parse(*app, words);
      std::string shown = p.name;
      for (const auto& w : path)
        shown += " " + w;
      INFO(shown << " --help printed:\n" << o.out << o.err);
      REQUIRE(o.stop == 0);
      CHECK(o.err.empty());
      CHECK(o.out.find("Usage: " + shown) != std::string::npos);
      const CLI::App& here = at_path(*definitions, path);
      for (const CLI::Option* opt : here.get_options()) {
        const std::string name = opt->get_positional()       ? opt->get_name(true)
                                 : opt->get_lnames().empty() ? "-" + opt->get_snames().front()
                                                             : "--" + opt->get_lnames().front();
        INFO("option " << name);
        CHECK(o.out.find(name) != std::string::npos);
      }
      for (const CLI::App* sub :
           here.get_subcommands([](const CLI::App* s) { return !s->get_name().empty(); })) {
        CHECK(o.out.find(sub->get_name()) != std::string::npos);
      }
    }
    // --version, as the package check reads it.
    CLI::App* app = nullptr;
    const auto fresh = p.make(app);
    const Outcome v = run_parse(*app, {"--version"});
    CHECK(v.stop == 0);
    CHECK(v.out == p.name + " " + SY_VERSION + "\n");
  }
}

TEST_CASE("usage errors exit 2 and name the command and the option", "[cli]") {
  struct Case {
    std::vector<std::string> words;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"queue", "--interval", "0.1"}, "--interval"},
      {{"queue", "--iterations", "many"}, "--iterations"},
      {{"queue", "--bogus"}, "--bogus"},
      {{"queue", "--watch", "--json"}, "--json"},
      {{"logs", "abc"}, "'abc' is not a job id"},
      {{"logs", "12", "--rank", "-1"}, "--rank"},
      {{"show"}, "ID"},
      {{"dataset", "add", "cifar10"}, "--source"},
      {{"stage", "cifar10"}, "--node"},
      {{"frobnicate"}, "frobnicate"},
  };
  for (const Case& c : cases) {
    sy::cli::SyCommandLine cl;
    const Outcome o = run_parse(cl.app, c.words);
    INFO(c.words.front() << ": " << o.err);
    CHECK(o.stop == 2);
    CHECK(o.err.find(c.says) != std::string::npos);
    CHECK(o.err.rfind("sy", 0) == 0);
    CHECK(o.err.find("--help)") != std::string::npos);
  }
  sy::cli::SyCommandLine queue;
  CHECK(run_parse(queue.app, {"queue", "--interval", "0.1"}).err.rfind("sy queue: ", 0) == 0);

  sy::sim::SimCommandLine both;
  const Outcome sim =
      run_parse(both.app, {"--cluster", "c.yaml", "--trace", "t.csv", "--synthetic"});
  CHECK(sim.stop == 2);
  sy::sim::SimCommandLine sizes;
  const Outcome bad_mix =
      run_parse(sizes.app, {"--synthetic", "--cluster", "c.yaml", "--sizes", "4"});
  CHECK(bad_mix.stop == 2);
  CHECK(bad_mix.err.find("--sizes") != std::string::npos);
  sy::controller::ControllerCommandLine level;
  const Outcome bad_level = run_parse(level.app, {"--log-level", "loud"});
  CHECK(bad_level.stop == 2);
  CHECK(bad_level.err.find("--log-level") != std::string::npos);
  sy::agent::AgentCommandLine parallel;
  const Outcome bad_parallel =
      run_parse(parallel.app, {"stage", "--from", "a", "--to", "b", "--parallel", "999"});
  CHECK(bad_parallel.stop == 2);
  CHECK(bad_parallel.err.rfind("sy-agent stage: ", 0) == 0);
}

TEST_CASE("values reach the commands typed", "[cli]") {
  sy::cli::SyCommandLine cl;
  REQUIRE_FALSE(run_parse(cl.app, {"--controller", "unix:/tmp/s", "queue", "-a", "-u", "bob",
                                   "--watch", "-n", "0.5", "--iterations", "3"})
                    .stop);
  CHECK(cl.controller == "unix:/tmp/s");
  CHECK(cl.queue.states == "all");
  CHECK(cl.queue.user == std::optional<std::string>("bob"));
  CHECK(cl.queue.watch);
  CHECK(cl.queue.interval_s == 0.5);
  CHECK(cl.queue.iterations == 3);
  CHECK(cl.run);

  sy::cli::SyCommandLine logs;
  REQUIRE_FALSE(run_parse(logs.app, {"logs", "5_3", "-f", "--rank", "2"}).stop);
  CHECK(logs.logs.id == "5_3");
  CHECK(logs.logs.follow);
  CHECK(logs.logs.rank == std::optional<int>(2));

  sy::cli::SyCommandLine start;
  REQUIRE_FALSE(
      run_parse(start.app, {"slurm-start", "--wait", "30", "--", "sy", "queue", "--all"}).stop);
  CHECK(start.slurm_start.wait_s == 30);
  CHECK(start.slurm_start.command == std::vector<std::string>{"sy", "queue", "--all"});

  sy::agent::AgentCommandLine agent;
  REQUIRE_FALSE(run_parse(agent.app, {"discover", "--topology", "t.yaml"}).stop);
  CHECK(agent.discover->parsed());
  CHECK(agent.flags.topology_file == "t.yaml");
  CHECK(agent.flags_given.size() == 1);

  // Given twice, an option takes its last value (a default command line with an override
  // appended); a repeatable one keeps every value.
  sy::agent::AgentCommandLine twice;
  REQUIRE_FALSE(
      run_parse(twice.app, {"--topology", "a.yaml", "--node-name", "n1", "--topology", "b.yaml"})
          .stop);
  CHECK(twice.flags.topology_file == "b.yaml");
  sy::cli::SyCommandLine queue_twice;
  REQUIRE_FALSE(run_parse(queue_twice.app, {"queue", "-u", "ann", "-u", "bob"}).stop);
  CHECK(queue_twice.queue.user == std::optional<std::string>("bob"));
  sy::cli::SyCommandLine cancel;
  REQUIRE_FALSE(run_parse(cancel.app, {"cancel", "4", "5_1", "6"}).stop);
  CHECK(cancel.cancel_ids == std::vector<std::string>{"4", "5_1", "6"});

  sy::sim::SimCommandLine sim;
  REQUIRE_FALSE(run_parse(sim.app, {"--synthetic", "--cluster", "c.yaml", "--sizes", "2:1,8:3",
                                    "--jobs", "50", "--tier0", "1G", "--policy", "slurm-like",
                                    "--policy", "switchyard"})
                    .stop);
  CHECK(sim.synthetic);
  CHECK(sim.spec.jobs == 50);
  CHECK(sim.spec.sizes == std::vector<std::pair<int, double>>{{2, 1}, {8, 3}});
  CHECK(sim.tier0_mib == 1024);
  CHECK(sim.policies == std::vector<std::string>{"slurm-like", "switchyard"});
}

TEST_CASE("sbatch options after sy submit reach the translation in their order", "[cli]") {
  // `-J queue`: a value that is also a sy command stays the option's value.
  sy::cli::SyCommandLine cl;
  REQUIRE_FALSE(run_parse(cl.app, {"submit", "--parsable", "-N", "2", "--gres=gpu:4", "-J", "queue",
                                   "--time", "1:00:00", "train.sbatch"})
                    .stop);
  CHECK(cl.submit.parsable);
  CHECK_FALSE(cl.submit.json);
  CHECK(cl.submit.words == std::vector<std::string>{"-N", "2", "--gres=gpu:4", "-J", "queue",
                                                    "--time", "1:00:00", "train.sbatch"});
  sy::cli::SyCommandLine plain;
  REQUIRE_FALSE(run_parse(plain.app, {"submit", "examples/jobs/hello.yaml", "--json"}).stop);
  CHECK(plain.submit.json);
  CHECK(plain.submit.words == std::vector<std::string>{"examples/jobs/hello.yaml"});
}

TEST_CASE("README's tour is accepted by the parsers and --help works at every step", "[cli]") {
  const auto commands = tour_commands();
  // The tour runs the controller, an agent and most sy commands: a tour that lost its code
  // block would pass with nothing checked.
  REQUIRE(commands.size() >= 20);
  for (const auto& words : commands) {
    const Program* p = nullptr;
    for (const Program& candidate : programs())
      if (candidate.name == words[0]) p = &candidate;
    REQUIRE(p != nullptr);
    CLI::App* app = nullptr;
    const auto keep = p->make(app);
    const std::vector<std::string> args(words.begin() + 1, words.end());
    std::string shown;
    for (const auto& w : words)
      shown += w + " ";
    INFO(shown);
    const Outcome o = run_parse(*app, args);
    INFO(o.err);
    CHECK_FALSE(o.stop);
    // The same step asking for help: the words up to the first option or value, then --help.
    CLI::App* again = nullptr;
    const auto keep_again = p->make(again);
    std::vector<std::string> help_words;
    const CLI::App* here = again;
    for (const auto& a : args) {
      const CLI::App* sub = nullptr;
      try {
        sub = here->get_subcommand(a);
      } catch (const CLI::OptionNotFound&) {
        break;
      }
      help_words.push_back(a);
      here = sub;
    }
    help_words.push_back("--help");
    const Outcome help = run_parse(*again, help_words);
    CHECK(help.stop == 0);
    CHECK(help.out.find("Usage: ") != std::string::npos);
  }
}

TEST_CASE("the generated bash completion completes commands and options", "[cli]") {
  sy::cli::SyCommandLine cl;
  const std::string script = sy::command_line::bash_completion(cl.app);
  sy::test::TempDir dir;
  const std::string file = dir.path() + "/sy.bash";
  std::ofstream(file) << script;
  const auto complete = [&](const std::string& words, int current) {
    const std::string command = "bash -c 'source " + file + "; COMP_WORDS=(" + words +
                                "); COMP_CWORD=" + std::to_string(current) +
                                "; _sy; echo \"${COMPREPLY[*]}\"'";
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p) != nullptr)
      out += buf;
    ::pclose(p);
    return out;
  };
  CHECK(complete("sy que", 1).find("queue") != std::string::npos);
  CHECK(complete("sy dataset a", 2).find("add") != std::string::npos);
  CHECK(complete("sy dataset add cifar --so", 4) == "--source\n");
  CHECK(complete("sy queue --st", 2) == "--state\n");
  CHECK(complete("sy --contr", 1) == "--controller\n");
  // Not a command of `queue`: nothing from the root leaks into a sub-command.
  CHECK(complete("sy queue sub", 2).find("submit") == std::string::npos);
}

TEST_CASE("the generated man page documents every command", "[cli]") {
  sy::cli::SyCommandLine cl;
  const std::string page = sy::command_line::man_page(cl.app);
  CHECK(page.find(".TH SY 1 ") != std::string::npos);
  CHECK(page.find(".SS \"sy dataset add NAME\"") != std::string::npos);
  CHECK(page.find("\\fB\\-\\-source\\fR \\fIDIR\\fR") != std::string::npos);
  CHECK(page.find("sy\\-controller\\fR(8)") != std::string::npos);
  sy::controller::ControllerCommandLine controller;
  CHECK(sy::command_line::man_page(controller.app).find(".TH SY-CONTROLLER 8 ") !=
        std::string::npos);
}
