// The REST API of `sluice serve`, on an HttpServer over a JobManager:
//
//   GET    /healthz              200 "ok" (no token needed: liveness and readiness probes)
//   GET    /metrics              every job's metrics, Prometheus text format (metrics_exposition.h)
//   POST   /jobs                 body: the job's SQL; ?parallelism=N (default: the configuration's)
//                                201 {"id": …, "state": "running"}; 400 with the SQL's errors,
//                                each with its line and column; 429 at max_running_jobs
//   GET    /jobs                 {"jobs": [ {id, name, state, counters, rates…}, … ]}
//   GET    /jobs/{id}            state, error, counters, rates, tasks and channels (live on any
//                                number of workers, with their rates: JobInfo::task_rates),
//                                watermark, checkpoints (and their history), savepoints, graph
//                                (server/job_graph.h), SQL
//   GET    /jobs/{id}/history    the current run's counter snapshots, about one a second
//   GET    /jobs/{id}/plan       the logical and physical plans (text, as `sluice explain`)
//   POST   /jobs/{id}/stop       stop with a savepoint: 202 {"state": "stopping"}; 409 unless running
//   POST   /jobs/{id}/savepoints a savepoint; the job goes on, as a new run resumed from it:
//                                201 {"id", "savepoint": N, "state": "running"}; 409 unless
//                                running with checkpoints (JobManager::Savepoint)
//   DELETE /jobs/{id}            cancel a running job (202), or forget an ended one (200)
//
// Errors are JSON objects {"error": "…"} with the HTTP status (401, 404, 409, 413, …).
#pragma once

#include "server/http_server.h"
#include "server/job_manager.h"

namespace sluice {

// Registers the routes. `jobs` must outlive the server's serving.
void InstallRestApi(HttpServer& server, JobManager& jobs);

}  // namespace sluice
