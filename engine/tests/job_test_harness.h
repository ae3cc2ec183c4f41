// In-process job execution for tests: parse, bind and run a job text, then read what its
// sinks wrote. Every test that runs SQL end to end goes through here.
#pragma once

#include <atomic>
#include <functional>
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

// Sanitizers make stack frames several times larger (AddressSanitizer's redzones and scopes
// about ten times), so a test that checks what fits in a stack of a given size scales the size
// by this factor; Release builds are what the sizes are about.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr size_t kSanitizerStackFactor = 16;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr size_t kSanitizerStackFactor = 16;
#else
inline constexpr size_t kSanitizerStackFactor = 1;
#endif
#else
inline constexpr size_t kSanitizerStackFactor = 1;
#endif

// The stack size of the main thread under the usual `ulimit -s` (8 MiB), and of threads created
// without a size (glibc takes RLIMIT_STACK; 2 MiB when it is unlimited): the smallest a worker
// thread of the parallel runtime gets by default.
inline constexpr size_t kMainThreadStackBytes = size_t{8} << 20;
inline constexpr size_t kSmallestDefaultThreadStackBytes = size_t{2} << 20;

// Runs `body` on a new thread with a stack of `bytes` (times kSanitizerStackFactor) and waits
// for it.
void RunOnThreadWithStack(size_t bytes, const std::function<void()>& body);

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
