#pragma once
// The controller's orders, checked and handed to whichever part of the agent carries them out.
// An order that fails its check is answered with a report saying why (when it names what it is
// about), never carried out in part.

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/job_supervisor.hpp"
#include "agent/manifest_fetch.hpp"
#include "agent/rsh_server.hpp"
#include "agent/stage_worker.hpp"

namespace sy::agent {

// A stage order that names its manifest goes to `manifests` first, then to the stager.
void carry_out(const std::string& type, const nlohmann::json& message, StageWorker& stager,
               ManifestFetch& manifests, JobSupervisor& jobs, RshServer* rsh,
               const std::function<void(nlohmann::json)>& send);

}  // namespace sy::agent
