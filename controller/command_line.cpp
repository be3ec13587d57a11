#include "controller/command_line.hpp"

namespace sy::controller {

ControllerCommandLine::ControllerCommandLine() {
  command_line::set_up_program(
      app,
      "the Switchyard controller daemon\n"
      "Keeps the job queue (SQLite, in --state-dir), places jobs and serves the REST API.");
  app.add_option("--config", config_path, "YAML configuration (docs/configuration.md)")
      ->type_name("FILE");
  app.add_option("--listen", listen,
                 "address of the API (default 127.0.0.1:6820; port 0 picks a free port)")
      ->type_name("HOST:PORT");
  app.add_option("--state-dir", state_dir, "where the database lives (default /var/lib/switchyard)")
      ->type_name("DIR");
  app.add_option("--port-file", port_file, "write the bound port to FILE once listening")
      ->type_name("FILE");
  app.add_option("--log-level", log_level, "debug, info, warn or error (default info)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->type_name("LEVEL");
  app.add_option("--tls-ca", tls_ca,
                 "the cluster CA's certificate (with --tls-cert and --tls-key: serve TLS only)")
      ->type_name("FILE");
  app.add_option("--tls-cert", tls_cert,
                 "the controller's certificate (scripts/cluster-ca makes it)")
      ->type_name("FILE");
  app.add_option("--tls-key", tls_key, "its private key")->type_name("FILE");
  app.add_flag("--insecure", insecure,
               "without TLS: plain TCP, and the X-Sy-User header names the user (local "
               "development only; the local socket still proves who connects)");
  app.add_flag("--check-config", check_only, "validate the configuration and exit");
  app.footer(
      "SIGTERM or SIGINT stops it cleanly: queued writes are committed and answered first. SIGHUP\n"
      "reads --config again: log_level and auth.admins change at once; other changed settings are\n"
      "named in the log and wait for a restart. Under systemd (Type=notify) it reports readiness,\n"
      "reloads and stopping, and pings the watchdog (WatchdogSec=).\n\n"
      "Example:\n"
      "  sy-controller --config /etc/switchyard/controller.yaml --tls-ca ca.crt \\\n"
      "    --tls-cert controller.crt --tls-key controller.key");
}

}  // namespace sy::controller
