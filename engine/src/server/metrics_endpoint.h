// MetricsEndpoint: `sluice run --metrics-port N`: one job's metrics at /metrics (Prometheus text
// format, server/metrics_exposition.h) and `ok` at /healthz, served by an HttpServer while the
// job runs. The job's thread hands it the latest counters (Update, from JobRunner's progress
// callback, about once a second, and once more after the run); scrapes read the copy.
//
// Thread-safe: Update and the server's handler threads share the copy under a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "runtime/file_checkpoint_store.h"
#include "server/http_server.h"
#include "server/metrics_exposition.h"

namespace sluice {

class MetricsEndpoint {
 public:
  // Starts serving; the samples carry the labels job_id=`job_id`, job_name=`job_name`.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const HttpServerOptions& options,
                                                                const std::string& job_id,
                                                                const std::string& job_name);

  // The job's state ("running", "finished", …) and counters; `checkpoints` (may be null) for
  // the latest durable checkpoint's size and write time.
  void Update(const std::string& state, const JobCounters& counters, const FileCheckpointStore* checkpoints);

  std::string url() const { return server_->url(); }

 private:
  MetricsEndpoint() = default;

  std::unique_ptr<HttpServer> server_;
  mutable std::mutex mutex_;
  JobMetricsSample sample_;  // guarded by mutex_
};

}  // namespace sluice
