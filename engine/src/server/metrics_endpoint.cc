#include "server/metrics_endpoint.h"

#include <httplib.h>

namespace sluice {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const HttpServerOptions& options,
                                                                        const std::string& job_id,
                                                                        const std::string& job_name) {
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  endpoint->sample_.job_id = job_id;
  endpoint->sample_.job_name = job_name;
  endpoint->sample_.state = "running";
  SLUICE_ASSIGN_OR_RETURN(endpoint->server_, HttpServer::Create(options));
  MetricsEndpoint* self = endpoint.get();
  endpoint->server_->Get("/metrics", [self](const httplib::Request&, httplib::Response& response) {
    JobMetricsSample sample;
    {
      std::lock_guard<std::mutex> lock(self->mutex_);
      sample = self->sample_;
    }
    response.set_content(RenderPrometheusText({sample}, UnixMillisNow()), kPrometheusContentType);
  });
  endpoint->server_->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  SLUICE_RETURN_IF_ERROR(endpoint->server_->Start());
  return endpoint;
}

void MetricsEndpoint::Update(const std::string& state, const JobCounters& counters,
                             const FileCheckpointStore* checkpoints) {
  std::lock_guard<std::mutex> lock(mutex_);
  sample_.state = state;
  sample_.counters = counters;
  if (checkpoints != nullptr && checkpoints->last_completed()) {
    sample_.last_checkpoint_bytes = checkpoints->last_state_bytes();
    sample_.last_checkpoint_write_seconds = checkpoints->last_write_seconds();
  }
}

}  // namespace sluice
