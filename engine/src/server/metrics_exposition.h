// The Prometheus metrics of jobs: their counters (JobCounters, runtime/job_runner.h) as metric
// families of prometheus-cpp (Debian prometheus-cpp-dev), written in the text exposition format
// 0.0.4 by its TextSerializer (HELP and TYPE lines, label values escaped).
//
// Names follow Flink's metrics (numRecordsIn, numRecordsOut, busyTimeMsPerSecond's parts, …)
// under the prefix `sluice_job_`, counters ending in `_total`. Every sample carries the labels
// `job_id` and `job_name`; the per-task ones also `task`. The values are read from a snapshot
// the runtime already assembles about once a second (JobRunner's progress callback) or after
// the run: exposing metrics costs the hot path nothing.
//
// A live snapshot of a job on several workers (`JobCounters::complete` false) holds only some
// counters; the others are left out of the exposition rather than shown as zero.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/job_runner.h"

namespace sluice {

struct JobMetricsSample {
  std::string job_id;
  std::string job_name;
  std::string state;  // running, finished, failed, stopping, stopped, cancelling, cancelled
  JobCounters counters;
  // The job's latest durable checkpoint (its checkpoint store), when it has one.
  std::optional<uint64_t> last_checkpoint_bytes;
  double last_checkpoint_write_seconds = 0;
};

// Every job's metrics, and `sluice_jobs{state=…}` (jobs by state, the states listed above, each
// present), in the text format. `now_unix_millis` is the wall clock for the event-time lag.
std::string RenderPrometheusText(const std::vector<JobMetricsSample>& jobs, int64_t now_unix_millis);

// The wall clock, epoch milliseconds.
int64_t UnixMillisNow();

// The content type of RenderPrometheusText's output.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace sluice
