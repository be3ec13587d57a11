#include "agent/orders.hpp"

#include "common/log.hpp"

namespace sy::agent {

void carry_out(const std::string& type, const nlohmann::json& m, StageWorker& stager,
               ManifestFetch& manifests, JobSupervisor& jobs, RshServer* rsh,
               const std::function<void(nlohmann::json)>& send) {
  if (type == "stage") {
    auto order = protocol::read_stage_order(m);
    if (order && order->manifest_files && !order->manifest) {
      return manifests.start(std::move(order).value());
    }
    if (order) return stager.order(std::move(order).value());
    SY_LOG(warn, "agent") << "refusing a stage order: " << order.error();
    if (m.contains("request") && m["request"].is_string()) {
      protocol::StageReport refused;
      refused.request = m["request"].get<std::string>();
      refused.state = "failed";
      refused.error_kind = "refused";
      refused.message = order.error();
      send(protocol::stage_report_message(refused));
    }
    return;
  }
  if (type == "manifest_chunk") {
    auto chunk = protocol::read_manifest_chunk(m);
    if (!chunk) {
      SY_LOG(warn, "agent") << "ignoring a manifest slice: " << chunk.error();
      return;
    }
    return manifests.on_chunk(chunk.value());
  }
  if (type == "launch") {
    auto order = protocol::read_launch_order(m);
    if (order) return jobs.launch(order.value());
    SY_LOG(warn, "agent") << "refusing a launch order: " << order.error();
    if (auto id = protocol::read_job_id(m)) {
      send(protocol::job_report_message(protocol::job_refused(id.value(), order.error())));
    }
    return;
  }
  if (type == "exec") {
    auto order = protocol::read_exec(m);
    if (order) return jobs.exec(order.value());
    SY_LOG(warn, "agent") << "refusing an exec order: " << order.error();
    if (m.contains("request") && m["request"].is_string() && protocol::read_job_id(m)) {
      send(protocol::exec_report_message({.request = m["request"].get<std::string>(),
                                          .job = protocol::read_job_id(m).value(),
                                          .state = "failed",
                                          .exit_code = 0,
                                          .message = order.error()}));
    }
    return;
  }
  if (type == "exec_report") {
    auto report = protocol::read_exec_report(m);
    if (!report) {
      SY_LOG(warn, "agent") << "ignoring an exec report: " << report.error();
      return;
    }
    if (rsh) rsh->on_report(report.value());
    return;
  }
  if (type == "output_ack") {
    auto ack = protocol::read_output_ack(m);
    if (!ack) {
      SY_LOG(warn, "agent") << "ignoring an output_ack: " << ack.error();
      return;
    }
    return jobs.output_acknowledged(ack->first, ack->second);
  }
  if (type == "stop" || type == "job_ack") {
    auto id = protocol::read_job_id(m);
    if (!id) {
      SY_LOG(warn, "agent") << "ignoring a " << type << " order: " << id.error();
      return;
    }
    if (type == "stop") return jobs.stop(id.value(), m.value("reason", std::string("stopped")));
    return jobs.acknowledge(id.value());
  }
  SY_LOG(warn, "agent") << "ignoring an order of unknown type '" << type << "'";
}

}  // namespace sy::agent
