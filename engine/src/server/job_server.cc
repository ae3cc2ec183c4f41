#include "server/job_server.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "common/strings.h"
#include "server/http_server.h"
#include "server/job_manager.h"
#include "server/rest_api.h"
#include "server/web_ui.h"

namespace sluice {

absl::Status RunServer(const ServerConfig& config, const std::atomic<bool>& stop,
                       const std::function<void(const std::string&)>& announce) {
  // The HTTP server is checked first (the loopback rule, TLS files): nothing is resumed for a
  // server that cannot start.
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> http, HttpServer::Create(config.http));
  JobManagerOptions options;
  options.data_dir = config.data_dir;
  options.max_running_jobs = config.max_running_jobs;
  options.default_parallelism = config.default_parallelism;
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<JobManager> jobs, JobManager::Create(options));
  std::vector<std::string> notes;
  SLUICE_RETURN_IF_ERROR(jobs->Recover(&notes));
  for (const std::string& note : notes) Log(LogComponent::kServer).info("{}", note);
  // The configuration's jobs: submitted unless the data directory holds them already.
  for (const ConfiguredJob& configured : config.jobs) {
    std::ifstream in(configured.sql_path, std::ios::binary);
    std::stringstream sql;
    if (in) sql << in.rdbuf();
    absl::Status status =
        in ? absl::OkStatus()
           : absl::NotFoundError(StrCat("cannot read the SQL file '", configured.sql_path, "'"));
    SubmitOptions options;
    options.parallelism = configured.parallelism;
    options.variables = configured.properties;
    options.checkpoint_dir = configured.checkpoint_dir;
    options.config_name = configured.name;
    std::string note;
    if (status.ok()) status = jobs->StartConfigured(sql.str(), options, &note);
    if (!status.ok()) {
      jobs->Shutdown();
      return absl::Status(status.code(),
                          StrCat(configured.where, ": job '", configured.name, "': ", status.message()));
    }
    Log(LogComponent::kServer).info("{}", note);
  }
  InstallRestApi(*http, *jobs);
  InstallWebUi(*http);
  if (absl::Status started = http->Start(); !started.ok()) {
    jobs->Shutdown();
    return started;
  }
  announce(
      StrCat("listening on ", http->url(), config.http.token.empty() ? " (no token: loopback only)" : ""));
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Log(LogComponent::kServer).info("stopping: the HTTP server, then every running job with a savepoint");
  http->Stop();
  jobs->Shutdown();
  Log(LogComponent::kServer).info("stopped");
  return absl::OkStatus();
}

}  // namespace sluice
