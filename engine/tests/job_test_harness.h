// In-process job execution for tests: parse, bind and run a job text, then read what its
// sinks wrote. Every test that runs SQL end to end goes through here.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/job_runner.h"

namespace sluice::testing {

// A fresh directory under the system temp dir, removed when the object dies.
class TemporaryDirectory {
 public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& contents);
std::string ReadFile(const std::string& path);
std::vector<std::string> ReadLines(const std::string& path);

struct JobResult {
  absl::Status status;
  JobCounters counters;
};

// Parses and binds `job_text` with ${VAR} values from `variables` (no environment lookup).
absl::StatusOr<BoundJob> BindJobText(const std::string& job_text,
                                     const std::map<std::string, std::string>& variables);

// Runs a bound job with `options` and returns its status and counters.
JobResult RunBoundJob(const BoundJob& job, const RunOptions& options);

// Runs `job_text` with ${VAR} values from `variables` (no environment lookup), on
// `parallelism` workers (1: the single-threaded runner); `cancel` (optional) stops an
// unbounded job.
JobResult RunJobText(const std::string& job_text, const std::map<std::string, std::string>& variables,
                     size_t batch_size, bool strict = false, int parallelism = 1,
                     const std::atomic<bool>* cancel = nullptr);

}  // namespace sluice::testing
