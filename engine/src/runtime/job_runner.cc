#include "runtime/job_runner.h"

#include "runtime/parallel_runner.h"

namespace sluice {

JobRunner::JobRunner(std::unique_ptr<ParallelRunner> runtime) : runtime_(std::move(runtime)) {}
JobRunner::~JobRunner() = default;

absl::StatusOr<std::unique_ptr<JobRunner>> JobRunner::Create(const BoundJob& job, const RunOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ParallelRunner> runtime, ParallelRunner::Create(job, options));
  return std::unique_ptr<JobRunner>(new JobRunner(std::move(runtime)));
}

absl::Status JobRunner::Run(const std::function<void(const JobCounters&)>& on_progress) {
  return runtime_->Run(on_progress);
}

JobCounters JobRunner::counters() const { return runtime_->counters(); }

std::string JobRunner::Explain() const { return runtime_->Explain(); }

}  // namespace sluice
