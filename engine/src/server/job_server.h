// RunServer: `sluice serve`: the JobManager over the configuration's data directory, its
// REST API and metrics (rest_api.h) on an HttpServer, until `stop` is set (SIGTERM, Ctrl-C).
// Then the HTTP server stops first, and every running job is stopped with a savepoint (the
// next server on the data directory resumes it).
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "common/status.h"
#include "server/server_config.h"

namespace sluice {

// `log` receives one line per event: "listening on URL", each job resumed, the shutdown.
absl::Status RunServer(const ServerConfig& config, const std::atomic<bool>& stop,
                       const std::function<void(const std::string&)>& log);

}  // namespace sluice
