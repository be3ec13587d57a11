// sy: the Switchyard command-line client.
#include <iostream>

#include "cli/command_line.hpp"

int main(int argc, char** argv) {
  sy::cli::SyCommandLine cl;
  if (const auto stop = sy::command_line::parse(cl.app, argc, argv)) return *stop;
  if (!cl.run) {
    std::cout << cl.app.help();
    return 2;
  }
  if (!cl.needs_controller) return cl.run(sy::cli::ClientConfig{});
  auto config = sy::cli::resolve_client_config(cl.controller);
  if (!config) {
    std::cerr << "sy: " << config.error() << "\n";
    return 2;
  }
  return cl.run(config.value());
}
