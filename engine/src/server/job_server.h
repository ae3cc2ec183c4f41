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

// `announce` receives "listening on URL" once the server serves (what scripts wait for; not a
// log line). Jobs resumed, started, ended and the shutdown go to the log (common/log.h).
absl::Status RunServer(const ServerConfig& config, const std::atomic<bool>& stop,
                       const std::function<void(const std::string&)>& announce);

}  // namespace sluice
